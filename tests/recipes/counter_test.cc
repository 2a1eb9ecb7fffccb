// SharedCounter: 20 sessions x 10 adds give the exact total (each add sees a value of its
// own), compare-and-set refuses stale versions, the value is stored as Curator's
// DistributedAtomicLong stores it (8 bytes, big-endian), and a node that is not a counter
// is reported rather than overwritten.
#include <asio/use_future.hpp>
#include <set>

#include "corral/recipes/shared_counter.h"
#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

TEST(Counter, TwentySessionsAddExactly) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/counters/hits";
  constexpr int kSessions = 20, kAdds = 10;
  std::mutex mu;
  std::set<int64_t> seen;
  std::atomic<int> failures{0};
  run_parallel(kSessions, [&](int) {
    TestClient c;
    if (!c.connected()) return void(++failures);
    SharedCounter counter(*c, path);
    for (int i = 0; i < kAdds; ++i) {
      auto r = await(counter.add(1, use_future), 60s);
      if (!r) {
        ADD_FAILURE() << text(r.error());
        return void(++failures);
      }
      std::lock_guard lock(mu);
      EXPECT_TRUE(seen.insert(*r).second) << "two adds saw " << *r;
    }
  });
  EXPECT_EQ(failures.load(), 0);
  // The adds came through other sessions: admin's server may not have applied them all yet.
  ASSERT_TRUE(await(admin->sync(path, use_future)).ok());
  SharedCounter counter(*admin, path);
  auto now = await(counter.get(use_future));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->value, kSessions * kAdds);
  EXPECT_EQ(seen.size(), size_t{kSessions * kAdds});
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), kSessions * kAdds);
}

TEST(Counter, CompareAndSetAndLayout) {
  TestClient a;
  ASSERT_TRUE(a.connected());
  const std::string path = test_root(*a) + "/c";
  SharedCounter counter(*a, path);
  auto none = await(counter.get(use_future));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->value, 0);
  EXPECT_EQ(none->version, -1);
  auto made = await(counter.compare_and_set(-1, 5, use_future));
  ASSERT_TRUE(made.ok()) << text(made.error());
  EXPECT_EQ(made->version, 0);
  EXPECT_EQ(await(counter.compare_and_set(-1, 6, use_future)).error(), ErrorCode::kBadVersion);
  auto next = await(counter.compare_and_set(0, 7, use_future));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, 1);
  EXPECT_EQ(await(counter.compare_and_set(0, 8, use_future)).error(), ErrorCode::kBadVersion);
  EXPECT_EQ(await(counter.get(use_future))->value, 7);
  ASSERT_TRUE(await(counter.set(-3, use_future)).ok());
  auto raw = await(a->get(path, nullptr, use_future));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->data, std::string("\xff\xff\xff\xff\xff\xff\xff\xfd", 8));
  EXPECT_EQ(await(counter.add(10, use_future)).value(), 7);
  ASSERT_TRUE(
      await(a->set(path, std::string("\x00\x00\x00\x00\x00\x00\x01\x00", 8), -1, use_future)).ok());
  EXPECT_EQ(await(counter.get(use_future))->value, 256) << "written by another client";
}

TEST(Counter, RefusesANodeThatIsNotACounter) {
  TestClient a;
  ASSERT_TRUE(a.connected());
  const std::string path = test_root(*a) + "/c";
  ASSERT_TRUE(await(a->create(path, "hello", {}, use_future)).ok());
  SharedCounter counter(*a, path);
  EXPECT_EQ(await(counter.get(use_future)).error(), ErrorCode::kMarshallingError);
  EXPECT_EQ(await(counter.add(1, use_future)).error(), ErrorCode::kMarshallingError);
  EXPECT_EQ(await(a->get(path, nullptr, use_future))->data, "hello");
}

}  // namespace
}  // namespace corral::recipes::test
