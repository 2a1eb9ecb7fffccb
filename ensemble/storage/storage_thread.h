// The storage thread: appends txns to the log with group commit (every txn
// that arrives while an fsync is in flight goes into the next SQLite
// transaction) and runs other database jobs in order with them. Completions
// are handed back through `post`, in submission order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "ensemble/storage/database.h"
#include "ensemble/tree/txn.h"

namespace corral::storage {

/// Runs database work off the core thread.
class StorageThread {
 public:
  /// Called on the storage thread after each group commit with its txn count and how long
  /// the SQLite transaction (with its fsync) took; feeds the server's metrics.
  using FlushObserver = std::function<void(size_t txns, std::chrono::nanoseconds took)>;

  /// `post` runs a completion on the core's thread (e.g. asio::post to its io_context).
  StorageThread(Database& db, std::function<void(std::function<void()>)> post,
                FlushObserver flushed = {});
  ~StorageThread();
  StorageThread(const StorageThread&) = delete;
  StorageThread& operator=(const StorageThread&) = delete;

  /// Logs `txn`; `durable` (if not empty) runs (via post) once it is fsynced.
  void append(tree::SharedTxn txn, std::function<void()> durable);
  /// Runs `job` on the storage thread after everything submitted before it;
  /// `done` runs via post afterwards.
  void run(std::function<void(Database&)> job, std::function<void()> done);
  /// `done` runs (via post) once everything submitted before it is done. Unlike a run() of a
  /// job that does nothing, which commits the txns queued before it on their own, it lets
  /// the txns around it share one group commit.
  void when_done(std::function<void()> done);
  /// Finishes queued work and stops the thread.
  void stop();

  /// Number of SQLite transactions used for appends, and txns appended (group commit ratio).
  uint64_t batches() const { return batches_; }
  uint64_t appended() const { return appended_; }
  /// The file of the database it writes (other threads open their own readers of it).
  const std::string& database_path() const { return db_.path(); }

 private:
  /// A txn to log (txn set), a job to run (job set), or a when_done() (neither).
  struct Item {
    tree::SharedTxn txn;
    std::function<void(Database&)> job;
    std::function<void()> done;
  };

  void enqueue(Item item);
  void loop();
  /// Appends the txns among `items` in one transaction, then posts the items' `done`s as one.
  void flush_txns(std::vector<Item>& items);
  /// Posts the `done`s of `items`, in order, as one completion, and clears `items`.
  void post_done(std::vector<Item>& items);

  Database& db_;
  std::function<void(std::function<void()>)> post_;
  FlushObserver flushed_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> appended_{0};
  std::thread thread_;
};

}  // namespace corral::storage
