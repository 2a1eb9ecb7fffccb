// Mutex: exclusive under contention from 20 sessions (a ledger reveals any overlap), fencing
// tokens that only grow, reentrancy, try/timeout/cancel, and the faults a holder meets:
// its server killed with kill -9, its session expired, its connection lost while queueing.
// No lock node is left behind.
#include "corral/recipes/mutex.h"

#include <asio/use_future.hpp>

#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

TEST(Mutex, TwentySessionsNeverOverlapAndTokensGrow) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/lock";
  constexpr int kSessions = 20, kRounds = 4;
  Ledger ledger;
  std::atomic<int> failures{0};
  run_parallel(kSessions, [&](int i) {
    TestClient c;
    if (!c.connected()) return void(++failures);
    Mutex lock(*c, path, "worker-" + std::to_string(i));
    for (int round = 0; round < kRounds; ++round) {
      auto g = await(lock.acquire(kWaitForever, use_future), 120s);
      if (!g) {
        ADD_FAILURE() << "session " << i << ": " << text(g.error());
        return void(++failures);
      }
      ledger.enter(i, g->fencing_token);
      EXPECT_TRUE(lock.held());
      std::this_thread::sleep_for(1ms);  // hold it a moment: overlaps would show
      ledger.leave(i);
      EXPECT_TRUE(await(lock.release(use_future)).ok());
    }
  });
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ledger.grants(), kSessions * kRounds);
  EXPECT_EQ(ledger.max_holders(), 1) << ::testing::PrintToString(ledger.overlaps());
  EXPECT_TRUE(ledger.tokens_increase());
  auto left = children_of(*admin, path);
  ASSERT_TRUE(left.ok()) << text(left.error());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
}

TEST(Mutex, ReentrantTryTimeoutAndCancel) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/lock";
  Mutex la(*a, path, "a"), lb(*b, path, "b");
  auto g1 = await(la.acquire(kWaitForever, use_future));
  ASSERT_TRUE(g1.ok()) << text(g1.error());
  EXPECT_GT(g1->fencing_token, 0);
  EXPECT_NE(g1->node.find("-lock-"), std::string::npos) << g1->node;
  EXPECT_EQ(g1->node.rfind(path + "/_c_", 0), 0u) << "protected (Curator) name: " << g1->node;
  auto g2 = await(la.acquire(kWaitForever, use_future));  // reentrant
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(g2->node, g1->node);
  EXPECT_EQ(g2->fencing_token, g1->fencing_token);

  EXPECT_EQ(await(lb.try_acquire(use_future)).error(), ErrorCode::kOperationTimeout);
  auto started = Clock::now();
  EXPECT_EQ(await(lb.acquire(300ms, use_future)).error(), ErrorCode::kOperationTimeout);
  EXPECT_GE(ms_since(started), 290);
  EXPECT_FALSE(lb.held());
  // A waiting acquire cancelled: ZCLOSING, its node gone.
  auto waiting = lb.acquire(kWaitForever, use_future);
  ASSERT_TRUE(wait_until(10s, [&] {
    auto p = await(la.participants(use_future));
    return p.ok() && p->size() == 2;
  }));
  lb.cancel();
  EXPECT_EQ(await(std::move(waiting)).error(), ErrorCode::kClosing);
  // Listed through b, whose server has applied b's delete (a's may not have yet).
  auto p = await(lb.participants(use_future));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 1u) << ::testing::PrintToString(*p);

  // Still held after one release of two; free after the second.
  ASSERT_TRUE(await(la.release(use_future)).ok());
  EXPECT_TRUE(la.held());
  EXPECT_EQ(await(lb.try_acquire(use_future)).error(), ErrorCode::kOperationTimeout);
  ASSERT_TRUE(await(la.release(use_future)).ok());
  EXPECT_FALSE(la.held());
  EXPECT_EQ(await(la.release(use_future)).error(), ErrorCode::kApiError);  // not held
  auto g3 = await(lb.try_acquire(use_future));
  ASSERT_TRUE(g3.ok()) << text(g3.error());
  EXPECT_GT(g3->fencing_token, g1->fencing_token);
  ASSERT_TRUE(await(lb.release(use_future)).ok());
  auto left = children_of(*a, path);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
}

TEST(Mutex, WaitersAreServedInOrder) {
  TestClient a;
  ASSERT_TRUE(a.connected());
  const std::string path = test_root(*a) + "/lock";
  Mutex holder(*a, path, "holder");
  ASSERT_TRUE(await(holder.acquire(kWaitForever, use_future)).ok());
  constexpr int kWaiters = 5;
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::unique_ptr<Mutex>> locks;
  std::vector<std::future<Result<Grant>>> pending;
  for (int i = 0; i < kWaiters; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connected());
    locks.push_back(std::make_unique<Mutex>(**clients.back(), path, "w" + std::to_string(i)));
    pending.push_back(locks.back()->acquire(kWaitForever, use_future));
    // Queued before the next one starts.
    ASSERT_TRUE(wait_until(10s, [&] {
      auto p = await(holder.participants(use_future));
      return p.ok() && p->size() == static_cast<size_t>(i + 2);
    }));
  }
  ASSERT_TRUE(await(holder.release(use_future)).ok());
  for (int i = 0; i < kWaiters; ++i) {
    auto g = await(std::move(pending[i]), 20s);
    ASSERT_TRUE(g.ok()) << "waiter " << i << ": " << text(g.error());
    for (int j = i + 1; j < kWaiters; ++j) EXPECT_FALSE(locks[j]->held()) << j << " before " << i;
    ASSERT_TRUE(await(locks[i]->release(use_future)).ok());
  }
}

TEST(Mutex, HolderServerKilledKeepsTheLockThroughReconnect) {
  TestClient a({.timeout = 6000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/lock";
  Mutex la(*a, path, "a"), lb(*b, path, "b");
  std::mutex mu;
  std::vector<HoldState> seen;
  la.on_hold_state([&](HoldState s) {
    std::lock_guard lock(mu);
    seen.push_back(s);
  });
  auto g = await(la.acquire(kWaitForever, use_future));
  ASSERT_TRUE(g.ok());
  auto waiting = lb.acquire(kWaitForever, use_future);
  int member = member_of(a->server());
  ASSERT_GE(member, 0);
  ASSERT_TRUE(ensemble().kill9(member));
  ASSERT_TRUE(wait_until(30s, [&] {
    std::lock_guard lock(mu);
    return seen.size() >= 2;
  })) << "the holder was not told its lock was suspended, then back";
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen[0], HoldState::kSuspended);
    EXPECT_EQ(seen[1], HoldState::kReconnected);
  }
  EXPECT_TRUE(la.held());
  // The session survived: b must still be waiting.
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout);
  ASSERT_TRUE(await(la.release(use_future)).ok());
  auto gb = await(std::move(waiting), 30s);
  ASSERT_TRUE(gb.ok()) << text(gb.error());
  EXPECT_GT(gb->fencing_token, g->fencing_token);
  ASSERT_TRUE(await(lb.release(use_future)).ok());
  restore_ensemble();
}

TEST(Mutex, ExpiredHolderLosesItAndTheNextTakesOver) {
  TestClient a({.timeout = 2000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/lock";
  Mutex la(*a, path, "a"), lb(*b, path, "b");
  std::atomic<bool> told_lost{false};
  la.on_hold_state([&](HoldState s) {
    if (s == HoldState::kLost) told_lost = true;
  });
  auto ga = await(la.acquire(kWaitForever, use_future));
  ASSERT_TRUE(ga.ok());
  auto waiting = lb.acquire(kWaitForever, use_future);
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout);
  a.freeze();  // silent: the ensemble expires its session, its lock node goes
  auto gb = await(std::move(waiting), 30s);
  ASSERT_TRUE(gb.ok()) << text(gb.error());
  EXPECT_GT(gb->fencing_token, ga->fencing_token);
  a.thaw();
  ASSERT_TRUE(wait_until(20s, [&] { return told_lost.load(); })) << "holder not told it lost";
  EXPECT_FALSE(la.held());
  EXPECT_EQ(await(la.acquire(kWaitForever, use_future)).error(), ErrorCode::kSessionExpired);
  ASSERT_TRUE(await(lb.release(use_future)).ok());
}

TEST(Mutex, ConnectionLostWhileQueueingCreatesOneNode) {
  TestClient a, b({.timeout = 8000ms});
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/lock";
  Mutex la(*a, path, "a"), lb(*b, path, "b");
  ASSERT_TRUE(await(la.acquire(kWaitForever, use_future)).ok());
  int member = member_of(b->server());
  ASSERT_GE(member, 0);
  // The acquire's create is in flight (or just answered) when b's server dies.
  auto waiting = lb.acquire(kWaitForever, use_future);
  ASSERT_TRUE(ensemble().kill9(member));
  ASSERT_TRUE(b.connected(30s));
  // Exactly one node of b's session is queued, however the create's reply fared.
  ASSERT_TRUE(wait_until(20s,
                         [&] {
                           auto mine = await(b->ephemerals(path, use_future));
                           return mine.ok() && mine->size() == 1;
                         }))
      << "b's lock nodes: "
      << ::testing::PrintToString(await(b->ephemerals(path, use_future)).value());
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  ASSERT_TRUE(await(la.release(use_future)).ok());
  auto gb = await(std::move(waiting), 30s);
  ASSERT_TRUE(gb.ok()) << text(gb.error());
  ASSERT_TRUE(await(lb.release(use_future)).ok());
  auto left = children_of(*a, path);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
  restore_ensemble();
}

}  // namespace
}  // namespace corral::recipes::test
