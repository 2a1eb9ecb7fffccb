// Barrier: 20 sessions held while it is set and released together once it is removed;
// timeouts, cancel, a waiter whose server is killed with kill -9. No node is left behind.
#include "corral/recipes/barrier.h"

#include <asio/use_future.hpp>

#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

TEST(Barrier, TwentySessionsWaitUntilRemoved) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string root = test_root(*admin);
  const std::string path = root + "/gate/b";  // parents made as containers
  Barrier gate(*admin, path);
  ASSERT_TRUE(await(gate.set(use_future)).ok());
  ASSERT_TRUE(await(gate.set(use_future)).ok()) << "setting it again is fine";
  EXPECT_EQ(await(gate.wait(200ms, use_future)).error(), ErrorCode::kOperationTimeout);

  constexpr int kParties = 20;
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::unique_ptr<Barrier>> barriers;
  Completions released(kParties);
  for (int i = 0; i < kParties; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connected());
    barriers.push_back(std::make_unique<Barrier>(**clients.back(), path));
    barriers.back()->wait(kWaitForever, released.record(i));
  }
  // Nobody passes while it is set.
  EXPECT_FALSE(wait_until(300ms, [&] { return released.done() > 0; }));
  const auto removed_at = Clock::now();
  ASSERT_TRUE(await(gate.remove(use_future)).ok());
  ASSERT_TRUE(wait_until(20s, [&] { return released.done() == kParties; }))
      << released.done() << " of " << kParties << " released";
  for (int i = 0; i < kParties; ++i) {
    EXPECT_EQ(released.errors[i], ErrorCode::kOk) << i << ": " << text(released.errors[i]);
    EXPECT_GE(released.at[i], removed_at) << "party " << i << " passed a set barrier";
  }
  ASSERT_TRUE(await(gate.remove(use_future)).ok()) << "removing it again is fine";
  EXPECT_TRUE(await(barriers[0]->wait(0ms, use_future)).ok()) << "an open barrier: no wait";
  auto left = children_of(*admin, root + "/gate");
  EXPECT_TRUE(left.error() == ErrorCode::kNoNode || (left.ok() && left->empty()));
}

TEST(Barrier, CancelFailsTheWait) {
  TestClient a;
  ASSERT_TRUE(a.connected());
  const std::string path = test_root(*a) + "/b";
  Barrier gate(*a, path);
  ASSERT_TRUE(await(gate.set(use_future)).ok());
  auto waiting = gate.wait(kWaitForever, use_future);
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  gate.cancel();
  EXPECT_EQ(await(std::move(waiting)).error(), ErrorCode::kClosing);
  ASSERT_TRUE(await(gate.remove(use_future)).ok());
}

TEST(Barrier, WaiterServerKilledStillReleased) {
  TestClient admin, w({.timeout = 8000ms});
  ASSERT_TRUE(admin.connected() && w.connected());
  const std::string path = test_root(*admin) + "/b";
  Barrier gate(*admin, path), waiter(*w, path);
  ASSERT_TRUE(await(gate.set(use_future)).ok());
  auto waiting = waiter.wait(kWaitForever, use_future);
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout);
  int member = member_of(w->server());
  ASSERT_GE(member, 0);
  ASSERT_TRUE(ensemble().kill9(member));
  ASSERT_TRUE(w.connected(30s));
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout) << "released while set";
  auto removed = set_with_retry(*admin, path, "", 30s);  // admin may have been on that member
  ASSERT_TRUE(removed.ok()) << text(removed.error());
  ASSERT_TRUE(await(gate.remove(use_future), 30s).ok());
  auto r = await(std::move(waiting), 30s);
  EXPECT_TRUE(r.ok()) << text(r.error());
  restore_ensemble();
}

}  // namespace
}  // namespace corral::recipes::test
