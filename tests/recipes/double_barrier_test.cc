// DoubleBarrier: 20 sessions enter and are released together only after the last entered,
// and leave only after the last left; timeouts take the member out again; a member whose
// server is killed with kill -9 while it waits is still released. No node is left behind.
#include "corral/recipes/double_barrier.h"

#include <asio/use_future.hpp>

#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

/// The barrier's members (children but `ready`), or none when the node is gone.
size_t members_of(Client& c, const std::string& path) {
  auto names = children_of(c, path);
  if (!names) return 0;
  return std::count_if(names->begin(), names->end(), [](auto& n) { return n != "ready"; });
}

TEST(DoubleBarrier, TwentySessionsEnterAndLeaveTogether) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string root = test_root(*admin);
  const std::string path = root + "/round";
  constexpr int kMembers = 20;
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::unique_ptr<DoubleBarrier>> members;
  Completions entered(kMembers), left(kMembers);
  Clock::time_point last_entering;
  for (int i = 0; i < kMembers; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connected());
    members.push_back(std::make_unique<DoubleBarrier>(**clients.back(), path, kMembers,
                                                      "member-" + std::to_string(i)));
    if (i == kMembers - 1) {
      // The others are all in, and none was released.
      ASSERT_TRUE(wait_until(20s, [&] { return members_of(*admin, path) == kMembers - 1; }));
      EXPECT_EQ(entered.done(), 0u);
      last_entering = Clock::now();
    }
    members.back()->enter(kWaitForever, entered.record(i));
  }
  ASSERT_TRUE(wait_until(30s, [&] { return entered.done() == kMembers; }));
  for (int i = 0; i < kMembers; ++i) {
    EXPECT_EQ(entered.errors[i], ErrorCode::kOk) << i << ": " << text(entered.errors[i]);
    EXPECT_GE(entered.at[i], last_entering) << "member " << i << " released early";
  }
  Clock::time_point last_leaving;
  for (int i = 0; i < kMembers; ++i) {
    if (i == kMembers - 1) {
      EXPECT_FALSE(wait_until(200ms, [&] { return left.done() > 0; })) << "left too early";
      last_leaving = Clock::now();
    }
    members[i]->leave(kWaitForever, left.record(i));
  }
  ASSERT_TRUE(wait_until(30s, [&] { return left.done() == kMembers; }));
  for (int i = 0; i < kMembers; ++i) {
    EXPECT_EQ(left.errors[i], ErrorCode::kOk) << i << ": " << text(left.errors[i]);
    EXPECT_GE(left.at[i], last_leaving) << "member " << i << " left before the last";
  }
  auto rest = children_of(*admin, path);
  EXPECT_TRUE(rest.error() == ErrorCode::kNoNode || (rest.ok() && rest->empty()))
      << ::testing::PrintToString(rest.value());
}

TEST(DoubleBarrier, EnterTimesOutAndTakesItsNodeBack) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/round";
  DoubleBarrier ma(*a, path, 3, "a"), mb(*b, path, 3, "b");
  auto waiting = ma.enter(kWaitForever, use_future);
  ASSERT_TRUE(wait_until(10s, [&] { return members_of(*a, path) == 1; }));
  auto started = Clock::now();
  EXPECT_EQ(await(mb.enter(300ms, use_future)).error(), ErrorCode::kOperationTimeout);
  EXPECT_GE(ms_since(started), 290);
  EXPECT_EQ(members_of(*a, path), 1u) << "the member that timed out is still counted";
  ma.cancel();
  EXPECT_EQ(await(std::move(waiting)).error(), ErrorCode::kClosing);
  EXPECT_EQ(members_of(*a, path), 0u);
}

TEST(DoubleBarrier, MemberServerKilledWhileWaitingIsReleased) {
  TestClient a({.timeout = 8000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*b) + "/round";
  DoubleBarrier ma(*a, path, 2, "a"), mb(*b, path, 2, "b");
  auto a_in = ma.enter(kWaitForever, use_future);
  ASSERT_TRUE(wait_until(10s, [&] { return members_of(*b, path) == 1; }));
  int member = member_of(a->server());
  ASSERT_GE(member, 0);
  ASSERT_TRUE(ensemble().kill9(member));
  ASSERT_TRUE(a.connected(30s));
  EXPECT_EQ(a_in.wait_for(100ms), std::future_status::timeout);
  ASSERT_TRUE(b.connected(30s));
  auto b_in = await(mb.enter(30s, use_future), 40s);
  ASSERT_TRUE(b_in.ok()) << text(b_in.error());
  auto r = await(std::move(a_in), 30s);
  ASSERT_TRUE(r.ok()) << text(r.error());
  auto a_out = ma.leave(30s, use_future);
  ASSERT_TRUE(await(mb.leave(30s, use_future), 40s).ok());
  ASSERT_TRUE(await(std::move(a_out), 40s).ok());
  EXPECT_EQ(members_of(*b, path), 0u);
  restore_ensemble();
}

}  // namespace
}  // namespace corral::recipes::test
