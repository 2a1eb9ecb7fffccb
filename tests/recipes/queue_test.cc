// DistributedQueue and PriorityQueue: 20 takers and 4 producers, 200 items, every item
// taken exactly once; FIFO order; priority order (FIFO within a priority, Curator's name
// encoding); waiting, timeouts and cancel; a taker whose server is killed with kill -9
// while it waits. No item or claim node is left behind.
#include <asio/use_future.hpp>
#include <map>

#include "corral/client/retry.h"
#include "corral/recipes/distributed_queue.h"
#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

TEST(Queue, TwentyTakersTakeEveryItemExactlyOnce) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/jobs";
  constexpr int kTakers = 20, kProducers = 4, kItems = 200;
  std::mutex mu;
  std::map<std::string, int> taken;  // item -> times taken
  std::atomic<int> count{0}, failures{0};
  run_parallel(kTakers + kProducers, [&](int i) {
    TestClient c;
    if (!c.connected()) return void(++failures);
    DistributedQueue q(*c, path);
    if (i >= kTakers) {  // a producer
      for (int n = i - kTakers; n < kItems; n += kProducers) {
        auto put = await(q.put("item-" + std::to_string(n), use_future));
        if (!put) return void(++failures);
      }
      return;
    }
    while (count.load() < kItems) {
      auto r = await(q.take(500ms, use_future), 30s);
      if (r.error() == ErrorCode::kOperationTimeout) continue;
      if (!r) {
        ADD_FAILURE() << text(r.error());
        return void(++failures);
      }
      std::lock_guard lock(mu);
      ++taken[*r];
      ++count;
    }
  });
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count.load(), kItems);
  EXPECT_EQ(taken.size(), size_t{kItems});
  for (auto& [item, times] : taken) EXPECT_EQ(times, 1) << item;
  auto rest = children_of(*admin, path);
  EXPECT_TRUE(rest.error() == ErrorCode::kNoNode || (rest.ok() && rest->empty()))
      << ::testing::PrintToString(rest.value());
}

TEST(Queue, ServerKilledDuringTakesLosesAndDuplicatesNothing) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/jobs";
  constexpr int kTakers = 6, kItems = 120;
  DistributedQueue producer(*admin, path);
  for (int n = 0; n < kItems; ++n)
    ASSERT_TRUE(await(producer.put("item-" + std::to_string(n), use_future)).ok());
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kTakers; ++i) {
    clients.push_back(std::make_unique<TestClient>(TestClient::Config{.timeout = 10000ms}));
    ASSERT_TRUE(clients.back()->connected());
  }
  std::mutex mu;
  std::map<std::string, int> taken;
  std::atomic<int> count{0}, failures{0};
  std::thread killer([&] {
    // Mid-way through, the server of the first taker dies: takes in flight lose replies.
    if (!wait_until(30s, [&] { return count.load() >= kItems / 3; })) return;
    int member = member_of((*clients[0])->server());
    if (member >= 0) ensemble().kill9(member);
  });
  run_parallel(kTakers, [&](int i) {
    DistributedQueue q(**clients[i], path);
    for (int idle = 0; count.load() < kItems && idle < 20;) {
      auto r = await(q.take(500ms, use_future), 60s);
      if (r.error() == ErrorCode::kOperationTimeout) {
        ++idle;
        continue;
      }
      if (client::retryable(r.error())) continue;  // reconnecting
      if (!r) {
        ADD_FAILURE() << text(r.error());
        return void(++failures);
      }
      std::lock_guard lock(mu);
      ++taken[*r];
      ++count;
    }
  });
  killer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(taken.size(), size_t{kItems}) << "items lost";
  for (auto& [item, times] : taken) EXPECT_EQ(times, 1) << item;
  ASSERT_TRUE(admin.connected(30s));
  auto rest = children_of(*admin, path);
  EXPECT_TRUE(rest.error() == ErrorCode::kNoNode || (rest.ok() && rest->empty()))
      << ::testing::PrintToString(rest.value());
  restore_ensemble();
}

TEST(Queue, FifoWaitTimeoutAndCancel) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/q";
  DistributedQueue qa(*a, path), qb(*b, path);
  EXPECT_EQ(await(qa.take(0ms, use_future)).error(), ErrorCode::kOperationTimeout);
  auto started = Clock::now();
  EXPECT_EQ(await(qa.take(300ms, use_future)).error(), ErrorCode::kOperationTimeout);
  EXPECT_GE(ms_since(started), 290);
  for (const char* item : {"one", "two", "three"}) {
    auto put = await(qa.put(item, use_future));
    ASSERT_TRUE(put.ok()) << text(put.error());
    EXPECT_NE(put->find("qn-"), std::string::npos) << *put;
  }
  EXPECT_EQ(await(qb.take(kWaitForever, use_future)).value(), "one");
  EXPECT_EQ(await(qb.take(kWaitForever, use_future)).value(), "two");
  EXPECT_EQ(await(qa.take(kWaitForever, use_future)).value(), "three");
  // A take waiting on an empty queue gets the next put.
  auto waiting = qb.take(kWaitForever, use_future);
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  ASSERT_TRUE(await(qa.put("four", use_future)).ok());
  EXPECT_EQ(await(std::move(waiting)).value(), "four");
  auto cancelled = qb.take(kWaitForever, use_future);
  EXPECT_EQ(cancelled.wait_for(100ms), std::future_status::timeout);
  qb.cancel();
  EXPECT_EQ(await(std::move(cancelled)).error(), ErrorCode::kClosing);
}

TEST(Queue, PriorityOrderThenFifo) {
  EXPECT_EQ(PriorityQueue::priority_stem(5), "qn-100000005");
  EXPECT_EQ(PriorityQueue::priority_stem(-1), "qn-0FFFFFFFF");
  EXPECT_EQ(PriorityQueue::priority_stem(0), "qn-100000000");
  TestClient a;
  ASSERT_TRUE(a.connected());
  const std::string path = test_root(*a) + "/pq";
  PriorityQueue q(*a, path);
  std::vector<std::pair<std::string, int>> items = {{"x", 5},  {"y", -1},   {"z", 5},     {"w", 0},
                                                    {"v", -2}, {"u", 1000}, {"t", -1000}, {"s", 0}};
  for (auto& [data, priority] : items) ASSERT_TRUE(await(q.put(data, priority, use_future)).ok());
  std::string order;
  for (size_t i = 0; i < items.size(); ++i) order += await(q.take(0ms, use_future)).value();
  EXPECT_EQ(order, "tvywsxzu");
}

TEST(Queue, TakerServerKilledWhileWaiting) {
  TestClient a, b({.timeout = 8000ms});
  ASSERT_TRUE(a.connected() && b.connected());
  const std::string path = test_root(*a) + "/q";
  DistributedQueue qa(*a, path), qb(*b, path);
  auto waiting = qb.take(kWaitForever, use_future);
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout);
  int member = member_of(b->server());
  ASSERT_GE(member, 0);
  ASSERT_TRUE(ensemble().kill9(member));
  ASSERT_TRUE(b.connected(30s));
  ASSERT_TRUE(a.connected(30s));
  Result<std::string> put = ErrorCode::kConnectionLoss;
  ASSERT_TRUE(wait_until(30s, [&] {
    put = await(qa.put("after", use_future), 30s);
    return put.error() != ErrorCode::kConnectionLoss;
  }));
  ASSERT_TRUE(put.ok()) << text(put.error());
  EXPECT_EQ(await(std::move(waiting), 30s).value(), "after");
  auto rest = children_of(*a, path);
  EXPECT_TRUE(rest.error() == ErrorCode::kNoNode || (rest.ok() && rest->empty()));
  restore_ensemble();
}

}  // namespace
}  // namespace corral::recipes::test
