// Semaphore: never more than max_leases holders (20 sessions, a ledger), FIFO waiting,
// try/timeout, a holder whose session expires frees its lease, nothing left behind.
#include "corral/recipes/semaphore.h"

#include <asio/use_future.hpp>

#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

TEST(Semaphore, TwentySessionsNeverExceedTheLeases) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/sem";
  constexpr int kSessions = 20, kRounds = 3, kLeases = 3;
  Ledger ledger;
  ledger.set_limit(kLeases);
  std::atomic<int> failures{0};
  run_parallel(kSessions, [&](int i) {
    TestClient c;
    if (!c.connected()) return void(++failures);
    Semaphore sem(*c, path, kLeases, "s" + std::to_string(i));
    for (int round = 0; round < kRounds; ++round) {
      auto lease = await(sem.acquire(kWaitForever, use_future), 120s);
      if (!lease) {
        ADD_FAILURE() << i << ": " << text(lease.error());
        return void(++failures);
      }
      ledger.enter(i);
      std::this_thread::sleep_for(3ms);
      ledger.leave(i);
      if (!await(sem.release(*lease, use_future)).ok()) ++failures;
    }
  });
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ledger.grants(), kSessions * kRounds);
  EXPECT_LE(ledger.max_holders(), kLeases) << ::testing::PrintToString(ledger.overlaps());
  EXPECT_TRUE(ledger.overlaps().empty());
  auto leases = children_of(*admin, path + "/leases");
  ASSERT_TRUE(leases.ok());
  EXPECT_TRUE(leases->empty()) << ::testing::PrintToString(*leases);
  auto locks = children_of(*admin, path + "/locks");
  ASSERT_TRUE(locks.ok());
  EXPECT_TRUE(locks->empty()) << ::testing::PrintToString(*locks);
}

TEST(Semaphore, FullPoolWaitsAndAnExpiredHolderFreesItsLease) {
  TestClient a({.timeout = 2000ms}), b, c;
  ASSERT_TRUE(a.connected() && b.connected() && c.connected());
  const std::string path = test_root(*b) + "/sem";
  Semaphore sa(*a, path, 2, "a"), sb(*b, path, 2, "b"), sc(*c, path, 2, "c");
  std::atomic<bool> a_lost{false};
  sa.on_hold_state([&](HoldState s) {
    if (s == HoldState::kLost) a_lost = true;
  });
  auto la = await(sa.acquire(kWaitForever, use_future));
  auto lb = await(sb.acquire(kWaitForever, use_future));
  ASSERT_TRUE(la.ok() && lb.ok());
  EXPECT_NE(la->node.find("/leases/_c_"), std::string::npos) << la->node;
  EXPECT_NE(la->node.find("-lease-"), std::string::npos) << la->node;
  EXPECT_EQ(sa.held(), 1);
  EXPECT_EQ(await(sc.acquire(0ms, use_future)).error(), ErrorCode::kOperationTimeout);
  auto waiting = sc.acquire(kWaitForever, use_future);
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout);
  a.freeze();  // a's session expires: its lease goes, c gets one
  auto lc = await(std::move(waiting), 30s);
  ASSERT_TRUE(lc.ok()) << text(lc.error());
  EXPECT_GT(lc->fencing_token, lb->fencing_token);
  // Listed through c: its server had dropped a's lease and made c's before granting it; b's
  // server may not have applied either yet.
  auto leases = await(sc.leases(use_future));
  ASSERT_TRUE(leases.ok());
  EXPECT_EQ(leases->size(), 2u) << ::testing::PrintToString(*leases);
  a.thaw();
  ASSERT_TRUE(wait_until(20s, [&] { return a_lost.load(); })) << "a not told its lease was lost";
  EXPECT_EQ(sa.held(), 0);
  ASSERT_TRUE(await(sb.release(*lb, use_future)).ok());
  EXPECT_EQ(await(sb.release(*lb, use_future)).error(), ErrorCode::kApiError);
  ASSERT_TRUE(await(sc.release(*lc, use_future)).ok());
}

}  // namespace
}  // namespace corral::recipes::test
