// The server-wide output budget (corral.outputBudgetBytes): who may take its next request as
// bytes queue and drain. Connections are modelled by a test harness that, like
// ClientConnection, asks admits() before each request and queues a reply when admitted.
#include "ensemble/server/output_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

namespace corral::server {
namespace {

constexpr int64_t kBudget = 100;
// How far ahead of the virtual clock past bytes may put a connection.
constexpr size_t kMaxLead = 1000;

class OutputBudgetTest : public ::testing::Test {
 protected:
  /// Connection `id` takes one request whose reply is `reply` bytes, if admitted.
  bool take(uint64_t id, size_t reply) {
    if (!budget.admits(id)) return false;
    budget.queued(id, reply);
    return true;
  }

  /// Called when the budget wakes `id`: it takes up to `pipelined[id]` more requests of
  /// `reply_size[id]` bytes each, as a connection with frames left in its buffer does.
  void on_wake(uint64_t id) {
    woken.push_back(id);
    while (pipelined[id] > 0 && take(id, reply_size[id])) --pipelined[id];
  }

  std::vector<uint64_t> woken;
  std::map<uint64_t, int> pipelined;
  std::map<uint64_t, size_t> reply_size;
  OutputBudget budget{kBudget, kMaxLead, [this](uint64_t id) { on_wake(id); }};
};

TEST_F(OutputBudgetTest, CountsQueuedAndWrittenBytesPerConnection) {
  EXPECT_TRUE(take(1, 30));
  EXPECT_TRUE(take(2, 50));
  EXPECT_EQ(budget.queued_total(), 80u);
  EXPECT_EQ(budget.queued_for(1), 30u);
  budget.written(1, 10);
  EXPECT_EQ(budget.queued_for(1), 20u);
  EXPECT_EQ(budget.queued_total(), 70u);
  // A connection already forgotten does not count twice.
  budget.forget(2);
  budget.written(2, 50);
  EXPECT_EQ(budget.queued_total(), 20u);
  EXPECT_EQ(budget.refusals(), 0u);
}

TEST_F(OutputBudgetTest, PastTheBudgetBusyConnectionsWaitAndResumeLeastServedFirst) {
  EXPECT_TRUE(take(1, 60));
  EXPECT_TRUE(take(2, 50));  // at the budget a request is still taken; this one crosses it
  EXPECT_EQ(budget.queued_total(), 110u);
  EXPECT_FALSE(take(1, 10));
  EXPECT_FALSE(take(2, 10));
  EXPECT_EQ(budget.waiting(), 2u);
  EXPECT_EQ(budget.refusals(), 2u);
  budget.written(2, 5);  // 105: still past, nobody wakes
  EXPECT_TRUE(woken.empty());
  pipelined = {{1, 1}, {2, 1}};
  reply_size = {{1, 10}, {2, 10}};
  budget.written(1, 60);  // 45: both take their waiting request, 2 (50 bytes served) first
  EXPECT_EQ(woken, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(budget.queued_total(), 65u);
  EXPECT_EQ(budget.waiting(), 0u);
}

TEST_F(OutputBudgetTest, WokenConnectionRefusedAgainGoesToTheBack) {
  // 1, 2 and 3 each have an event queued; 9 is a reader far behind.
  for (uint64_t id : {1, 2, 3}) budget.queued(id, 1);
  budget.queued(9, 200);
  for (uint64_t id : {1, 2, 3}) EXPECT_FALSE(take(id, 30)) << id;
  // Each, when woken, takes requests until the budget is past again.
  pipelined = {{1, 8}, {2, 8}, {3, 8}};
  reply_size = {{1, 30}, {2, 30}, {3, 30}};
  budget.forget(9);  // 3 queued: 1 takes four requests (123), then is refused again
  EXPECT_EQ(woken, (std::vector<uint64_t>{1}));
  EXPECT_EQ(budget.queued_for(1), 121u);
  EXPECT_EQ(budget.waiting(), 3u);
  woken.clear();
  budget.written(1, 121);
  ASSERT_FALSE(woken.empty());
  EXPECT_EQ(woken.front(), 2u);  // 1 had its turn: 2 comes first now
  EXPECT_EQ(budget.queued_for(2), 121u);
}

TEST_F(OutputBudgetTest, ClientOfSmallRepliesGoesBeforeACrowdOfLargeOnes) {
  EXPECT_TRUE(take(1, 60));
  EXPECT_TRUE(take(2, 60));
  EXPECT_FALSE(take(1, 60));
  EXPECT_FALSE(take(2, 60));
  budget.queued(3, 1);       // an event: 3 has something queued, so no overdraft for it
  EXPECT_FALSE(take(3, 1));  // refused last, but served least
  pipelined = {{1, 1}, {2, 1}, {3, 1}};
  reply_size = {{1, 60}, {2, 60}, {3, 1}};
  budget.written(1, 60);  // 61 queued: 3 first, then 1 crosses the budget; 2 waits
  EXPECT_EQ(woken, (std::vector<uint64_t>{3, 1}));
  EXPECT_EQ(budget.waiting(), 1u);
}

TEST_F(OutputBudgetTest, BytesTakenWhileNobodyWaitedCountOnlyUpToTheLead) {
  // 1 read a lot while the server was quiet, and now has an event queued.
  budget.queued(1, 100 * kMaxLead);
  budget.written(1, 100 * kMaxLead);
  budget.queued(1, 1);
  budget.queued(3, 1);
  budget.queued(9, 200);  // a reader far behind
  EXPECT_FALSE(take(1, 100));
  EXPECT_FALSE(take(3, 100));
  pipelined = {{1, 1}, {3, 100}};
  reply_size = {{1, 100}, {3, 100}};
  budget.written(9, 200);
  // 3 is served one reply per round; 1 goes once 3 has had about kMaxLead bytes (ten
  // replies), not the hundred times that 1 took before.
  int rounds = 0;
  while (std::find(woken.begin(), woken.end(), 1u) == woken.end() && ++rounds < 50)
    budget.written(3, budget.queued_for(3));
  auto first_of_1 = std::find(woken.begin(), woken.end(), 1u);
  ASSERT_NE(first_of_1, woken.end());
  EXPECT_GE(std::count(woken.begin(), first_of_1, 3u), 5);
  EXPECT_LE(std::count(woken.begin(), first_of_1, 3u), 12);
}

TEST_F(OutputBudgetTest, ReplyLargerThanTheBudgetDoesNotDeadlock) {
  EXPECT_TRUE(take(1, 5 * kBudget));  // under the budget when taken: it goes
  EXPECT_FALSE(take(1, 5 * kBudget));
  pipelined = {{1, 1}};
  reply_size = {{1, 5 * kBudget}};
  budget.written(1, 5 * kBudget);
  EXPECT_EQ(woken, (std::vector<uint64_t>{1}));
  EXPECT_EQ(budget.queued_for(1), static_cast<size_t>(5 * kBudget));
}

TEST_F(OutputBudgetTest, BytesPinnedByClientsThatDoNotReadLetOneIdleConnectionAtATimeThrough) {
  // 1 and 2 stopped reading with the whole budget queued for them.
  EXPECT_TRUE(take(1, 60));
  EXPECT_TRUE(take(2, 60));
  // An idle connection still gets one request through (the overdraft) ...
  EXPECT_TRUE(take(3, 50));
  // ... but only one at a time, or a crowd of idle readers would be clients x reply size.
  EXPECT_FALSE(take(4, 50));
  EXPECT_FALSE(take(5, 50));
  EXPECT_FALSE(take(3, 50));  // nor the holder again while its reply is queued
  pipelined = {{3, 1}, {4, 1}, {5, 1}};
  reply_size = {{3, 50}, {4, 50}, {5, 50}};
  // 3's reply is written: the overdraft passes to the first idle waiter, not back to 3.
  budget.written(3, 50);
  EXPECT_EQ(woken, (std::vector<uint64_t>{4}));
  EXPECT_EQ(budget.queued_for(4), 50u);
  EXPECT_FALSE(take(3, 50));  // behind 5 now
  woken.clear();
  budget.written(4, 50);
  EXPECT_EQ(woken, (std::vector<uint64_t>{5}));
  woken.clear();
  budget.written(5, 50);
  EXPECT_EQ(woken, (std::vector<uint64_t>{3}));
  EXPECT_EQ(budget.queued_total(), 170u);
}

TEST_F(OutputBudgetTest, WatchEventsCountButAreNeverRefused) {
  // Events are queued without asking: they are produced by other sessions' writes.
  budget.queued(1, 80);
  budget.queued(2, 80);
  EXPECT_EQ(budget.queued_total(), 160u);
  // The connections they went to wait before their next request.
  EXPECT_FALSE(take(1, 10));
  EXPECT_FALSE(take(2, 10));
}

TEST_F(OutputBudgetTest, ClosedOverdraftHolderPassesItOn) {
  EXPECT_TRUE(take(1, 150));
  EXPECT_TRUE(take(2, 10));  // overdraft
  EXPECT_FALSE(take(3, 10));
  pipelined = {{3, 1}};
  reply_size = {{3, 10}};
  budget.forget(2);
  EXPECT_EQ(woken, (std::vector<uint64_t>{3}));
  EXPECT_EQ(budget.queued_for(3), 10u);
}

}  // namespace
}  // namespace corral::server
