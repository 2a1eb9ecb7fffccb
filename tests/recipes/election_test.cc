// Leader election: LeaderLatch (20 sessions, exactly one leader at any moment, leadership
// moves in line order as leaders resign or their sessions die, a leader whose server dies is
// told at once) and LeaderSelector (terms rotate, never two at once).
#include <asio/use_future.hpp>

#include "corral/recipes/leader_latch.h"
#include "corral/recipes/leader_selector.h"
#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

/// Counts leaders over time from the latches' own callbacks.
struct LeaderWatch {
  std::mutex mu;
  int leading = 0, max_leading = 0;
  std::vector<int> order;  // who became leader, in order
  std::function<void(bool)> listener(int who) {
    return [this, who](bool leads) {
      std::lock_guard lock(mu);
      leading += leads ? 1 : -1;
      max_leading = std::max(max_leading, leading);
      if (leads) order.push_back(who);
    };
  }
};

TEST(LeaderLatch, TwentyContendersOneLeaderAtATimeInLineOrder) {
  constexpr int kContenders = 20;
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/election";
  LeaderWatch watch;
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::unique_ptr<LeaderLatch>> latches;
  for (int i = 0; i < kContenders; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connected());
    latches.push_back(
        std::make_unique<LeaderLatch>(**clients.back(), path, "c" + std::to_string(i)));
    latches.back()->on_leadership(watch.listener(i));
    latches.back()->start();
    // In line before the next joins, so line order is join order.
    ASSERT_TRUE(wait_until(10s, [&] {
      auto p = await(latches.front()->participants(use_future));
      return p.ok() && p->size() == static_cast<size_t>(i + 1);
    }));
  }
  ASSERT_TRUE(await(latches[0]->await_leadership(10s, use_future)).ok());
  auto leader = await(latches[5]->leader(use_future));
  ASSERT_TRUE(leader.ok());
  EXPECT_EQ(leader->id, "c0");
  EXPECT_TRUE(leader->is_leader);
  EXPECT_NE(leader->node.find("-latch-"), std::string::npos) << leader->node;
  EXPECT_EQ(await(latches[1]->await_leadership(100ms, use_future)).error(),
            ErrorCode::kOperationTimeout);
  // Each leader resigns in turn; the next in line takes over.
  for (int i = 0; i < kContenders; ++i) {
    ASSERT_TRUE(await(latches[i]->await_leadership(20s, use_future)).ok()) << "contender " << i;
    int leaders = 0;
    for (auto& l : latches) leaders += l->is_leader();
    EXPECT_EQ(leaders, 1);
    ASSERT_TRUE(await(latches[i]->close(use_future)).ok());
    EXPECT_FALSE(latches[i]->is_leader());
  }
  std::lock_guard lock(watch.mu);
  EXPECT_EQ(watch.max_leading, 1);
  std::vector<int> expected(kContenders);
  for (int i = 0; i < kContenders; ++i) expected[i] = i;
  EXPECT_EQ(watch.order, expected);
  auto left = children_of(*admin, path);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
}

TEST(LeaderLatch, LeadershipMovesWhenTheLeadersSessionDies) {
  TestClient a({.timeout = 2000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*b) + "/election";
  LeaderLatch la(*a, path, "a"), lb(*b, path, "b");
  LeaderWatch watch;
  la.on_leadership(watch.listener(0));
  lb.on_leadership(watch.listener(1));
  la.start();
  ASSERT_TRUE(await(la.await_leadership(10s, use_future)).ok());
  lb.start();
  EXPECT_EQ(await(lb.await_leadership(300ms, use_future)).error(), ErrorCode::kOperationTimeout);
  a.freeze();  // a's session expires; b leads
  ASSERT_TRUE(await(lb.await_leadership(30s, use_future)).ok());
  a.thaw();
  ASSERT_TRUE(
      wait_until(20s, [&] { return !la.is_leader() && a->state() == ConnectionState::kLost; }));
  EXPECT_EQ(await(la.await_leadership(1s, use_future)).error(), ErrorCode::kSessionExpired);
  auto all = await(lb.participants(use_future));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().id, "b");
}

TEST(LeaderLatch, AWaiterIsToldAtOnceWhenTheLatchCloses) {
  TestClient a;
  ASSERT_TRUE(a.connected());
  LeaderLatch la(*a, test_root(*a) + "/election", "a");
  // Never started: no contention is left to wake the waiter, only close() itself.
  auto waiting = la.await_leadership(30s, use_future);
  const auto closing = std::chrono::steady_clock::now();
  ASSERT_TRUE(await(la.close(use_future)).ok());
  EXPECT_EQ(await(std::move(waiting)).error(), ErrorCode::kClosing);
  EXPECT_LT(std::chrono::steady_clock::now() - closing, 10s) << "the waiter slept to its deadline";
}

TEST(LeaderLatch, LeaderWhoseServerDiesIsToldAtOnceAndNobodyElseLeads) {
  TestClient a({.timeout = 8000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*b) + "/election";
  LeaderLatch la(*a, path, "a"), lb(*b, path, "b");
  LeaderWatch watch;
  std::atomic<int> a_changes{0};
  la.on_leadership([&](bool) { ++a_changes; });
  lb.on_leadership(watch.listener(1));
  la.start();
  ASSERT_TRUE(await(la.await_leadership(10s, use_future)).ok());
  lb.start();
  ASSERT_TRUE(wait_until(10s, [&] {
    auto p = await(lb.participants(use_future));
    return p.ok() && p->size() == 2;
  }));
  int member = member_of(a->server());
  ASSERT_GE(member, 0);
  ASSERT_TRUE(ensemble().kill9(member));
  // Told it is no longer leader (suspended), then leads again once its session is back. On a
  // loaded machine its new connection may drop once more (suspended again, then back): what
  // counts is that it leads in the end and b never did.
  ASSERT_TRUE(wait_until(20s, [&] { return a_changes.load() >= 3 && la.is_leader(); }))
      << a_changes.load();
  std::lock_guard lock(watch.mu);
  EXPECT_TRUE(watch.order.empty()) << "b led while a's session was alive";
  restore_ensemble();
}

TEST(LeaderSelector, TermsRotateAndNeverOverlap) {
  constexpr int kContenders = 5, kTerms = 15;
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/selector";
  Ledger ledger;
  std::atomic<int> terms{0};
  std::vector<std::atomic<int>> led(kContenders);
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::unique_ptr<LeaderSelector>> selectors;
  for (int i = 0; i < kContenders; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connected());
    selectors.push_back(std::make_unique<LeaderSelector>(
        **clients.back(), path, "s" + std::to_string(i), [&, i](LeaderTerm term) {
          ledger.enter(i, term.fencing_token());
          ++led[i];
          // Lead a moment on another thread, then hand over.
          std::thread([&, i, term] {
            std::this_thread::sleep_for(5ms);
            ledger.leave(i);
            if (++terms >= kTerms) return;  // stop rotating: keep the last term
            term.finish();
          }).detach();
        }));
  }
  for (auto& s : selectors) s->start();
  ASSERT_TRUE(wait_until(60s, [&] { return terms.load() >= kTerms; })) << terms.load();
  EXPECT_EQ(ledger.max_holders(), 1) << ::testing::PrintToString(ledger.overlaps());
  EXPECT_TRUE(ledger.tokens_increase());
  for (int i = 0; i < kContenders; ++i) EXPECT_GE(led[i].load(), 2) << "contender " << i;
  // Every contender is back in line (the last to finish may still be requeueing).
  EXPECT_TRUE(wait_until(10s, [&] {
    auto all = await(selectors[0]->participants(use_future));
    return all.ok() && all->size() == static_cast<size_t>(kContenders);
  }));
  for (auto& s : selectors) ASSERT_TRUE(await(s->close(use_future)).ok());
  auto left = children_of(*admin, path);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
}

}  // namespace
}  // namespace corral::recipes::test
