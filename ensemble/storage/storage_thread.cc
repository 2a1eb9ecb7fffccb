#include "ensemble/storage/storage_thread.h"

#include <cstdio>
#include <cstdlib>

namespace corral::storage {

StorageThread::StorageThread(Database& db, std::function<void(std::function<void()>)> post,
                             FlushObserver flushed)
    : db_(db), post_(std::move(post)), flushed_(std::move(flushed)), thread_([this] { loop(); }) {}

StorageThread::~StorageThread() { stop(); }

void StorageThread::append(tree::SharedTxn txn, std::function<void()> durable) {
  enqueue({std::move(txn), {}, std::move(durable)});
}

void StorageThread::run(std::function<void(Database&)> job, std::function<void()> done) {
  enqueue({nullptr, std::move(job), std::move(done)});
}

void StorageThread::when_done(std::function<void()> done) {
  enqueue({nullptr, {}, std::move(done)});
}

void StorageThread::enqueue(Item item) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
}

void StorageThread::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StorageThread::loop() {
  for (;;) {
    std::deque<Item> work;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      work.swap(queue_);
    }
    std::vector<Item> txns;  // and when_done() items, in order
    for (auto& item : work) {
      if (!item.job) {
        txns.push_back(std::move(item));
        continue;
      }
      flush_txns(txns);
      try {
        item.job(db_);
      } catch (const StorageError& e) {
        std::fprintf(stderr, "corral: storage job failed: %s\n", e.what());
        std::abort();
      }
      if (item.done) post_(std::move(item.done));
    }
    flush_txns(txns);
  }
}

void StorageThread::flush_txns(std::vector<Item>& items) {
  if (items.empty()) return;
  std::vector<tree::SharedTxn> batch;
  batch.reserve(items.size());
  for (auto& item : items)
    if (item.txn) batch.push_back(std::move(item.txn));
  if (batch.empty()) return post_done(items);
  auto started = std::chrono::steady_clock::now();
  try {
    db_.append(batch);
  } catch (const StorageError& e) {
    // Nothing in this batch may be acknowledged, and later txns depend on it.
    std::fprintf(stderr, "corral: cannot write the txn log, stopping: %s\n", e.what());
    std::abort();
  }
  if (flushed_) flushed_(batch.size(), std::chrono::steady_clock::now() - started);
  ++batches_;
  appended_ += batch.size();
  post_done(items);
}

void StorageThread::post_done(std::vector<Item>& items) {
  // One post for the lot: each is an allocation and a lock shared with the core's thread.
  std::vector<std::function<void()>> done;
  done.reserve(items.size());
  for (auto& item : items)
    if (item.done) done.push_back(std::move(item.done));
  items.clear();
  if (done.empty()) return;
  post_([done = std::move(done)] {
    for (const auto& f : done) f();
  });
}

}  // namespace corral::storage
