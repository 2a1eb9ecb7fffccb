// ReadWriteLock: readers share, writers exclude everyone (20 sessions, a ledger that sees
// every overlap), a reader arriving after a waiting writer waits (no writer starvation),
// Curator's node names, and nothing left behind.
#include <asio/use_future.hpp>

#include "corral/recipes/read_write_lock.h"
#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;

/// Readers and writers inside, and every rule broken.
struct RwLedger {
  std::mutex mu;
  int readers = 0, writers = 0, max_readers = 0, grants = 0;
  std::vector<std::string> violations;
  void enter(bool writer, int who) {
    std::lock_guard lock(mu);
    if (writer && (readers || writers))
      violations.push_back("writer " + std::to_string(who) + " with " + std::to_string(readers) +
                           " readers, " + std::to_string(writers) + " writers");
    if (!writer && writers)
      violations.push_back("reader " + std::to_string(who) + " with a writer");
    (writer ? writers : readers)++;
    max_readers = std::max(max_readers, readers);
    ++grants;
  }
  void leave(bool writer) {
    std::lock_guard lock(mu);
    (writer ? writers : readers)--;
  }
};

TEST(ReadWriteLock, TwentySessionsReadersShareWritersExclude) {
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  const std::string path = test_root(*admin) + "/rw";
  constexpr int kSessions = 20, kRounds = 3;
  RwLedger ledger;
  std::atomic<int> failures{0};
  run_parallel(kSessions, [&](int i) {
    TestClient c;
    if (!c.connected()) return void(++failures);
    ReadWriteLock rw(*c, path, "s" + std::to_string(i));
    const bool writer = i % 4 == 0;  // 5 writers, 15 readers
    Mutex& side = writer ? rw.write_lock() : rw.read_lock();
    for (int round = 0; round < kRounds; ++round) {
      auto g = await(side.acquire(kWaitForever, use_future), 120s);
      if (!g) return void(++failures);
      ledger.enter(writer, i);
      std::this_thread::sleep_for(2ms);
      ledger.leave(writer);
      if (!await(side.release(use_future)).ok()) ++failures;
    }
  });
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ledger.grants, kSessions * kRounds);
  EXPECT_TRUE(ledger.violations.empty()) << ::testing::PrintToString(ledger.violations);
  auto left = children_of(*admin, path);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
}

TEST(ReadWriteLock, ReadersShareAndAWaitingWriterHoldsNewReadersBack) {
  TestClient a, b, c, d;
  ASSERT_TRUE(a.connected() && b.connected() && c.connected() && d.connected());
  const std::string path = test_root(*a) + "/rw";
  ReadWriteLock ra(*a, path, "a"), rb(*b, path, "b"), wc(*c, path, "c"), rd(*d, path, "d");
  auto g1 = await(ra.read_lock().try_acquire(use_future));
  auto g2 = await(rb.read_lock().try_acquire(use_future));
  ASSERT_TRUE(g1.ok() && g2.ok()) << "two readers share the lock";
  EXPECT_NE(g1->node.find("__READ__"), std::string::npos) << g1->node;
  EXPECT_EQ(await(wc.write_lock().try_acquire(use_future)).error(), ErrorCode::kOperationTimeout);
  auto writer = wc.write_lock().acquire(kWaitForever, use_future);
  // Read through the writer's own session: another's server may still list the node of the
  // try_acquire above, deleted already, in place of the one the writer now waits with.
  ASSERT_TRUE(wait_until(10s, [&] {
    auto p = await(wc.write_lock().participants(use_future));
    return p.ok() && p->size() == 3;
  }));
  // A reader after the waiting writer must wait for it.
  EXPECT_EQ(await(rd.read_lock().try_acquire(use_future)).error(), ErrorCode::kOperationTimeout);
  auto late_reader = rd.read_lock().acquire(kWaitForever, use_future);
  ASSERT_TRUE(await(ra.read_lock().release(use_future)).ok());
  EXPECT_EQ(writer.wait_for(100ms), std::future_status::timeout) << "one reader still holds it";
  ASSERT_TRUE(await(rb.read_lock().release(use_future)).ok());
  auto gw = await(std::move(writer));
  ASSERT_TRUE(gw.ok()) << text(gw.error());
  EXPECT_NE(gw->node.find("__WRIT__"), std::string::npos) << gw->node;
  EXPECT_GT(gw->fencing_token, g2->fencing_token);
  EXPECT_EQ(late_reader.wait_for(100ms), std::future_status::timeout) << "the writer holds it";
  // Downgrade: the writer takes the read lock too, then lets the write lock go.
  ASSERT_TRUE(await(wc.read_lock().try_acquire(use_future)).ok());
  ASSERT_TRUE(await(wc.write_lock().release(use_future)).ok());
  ASSERT_TRUE(await(std::move(late_reader)).ok());
  ASSERT_TRUE(await(wc.read_lock().release(use_future)).ok());
  ASSERT_TRUE(await(rd.read_lock().release(use_future)).ok());
  auto left = children_of(*a, path);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << ::testing::PrintToString(*left);
}

}  // namespace
}  // namespace corral::recipes::test
