// A read-write lock (Curator's InterProcessReadWriteLock layout: `_c_<id>-__READ__<seq>` and
// `_c_<id>-__WRIT__<seq>` under one path). Readers share it, a writer excludes everyone, and
// the queue is FIFO across both: a reader that arrives after a waiting writer waits for that
// writer, so writers never starve.
//
//   ReadWriteLock rw(client, "/locks/catalog");
//   auto g = co_await rw.read_lock().acquire(kWaitForever, asio::use_awaitable);
//
// The holder of the write lock may also take the read lock (downgrade: take read, then
// release write). Each side is a Mutex (reentrant, fencing tokens, hold-state listener).
#pragma once

#include <memory>
#include <string>

#include "corral/recipes/mutex.h"

namespace corral::recipes {

/// Two locks over one queue: shared readers, exclusive writers.
class ReadWriteLock {
 public:
  /// A read-write lock on `path`; `id` goes in its nodes' data.
  ReadWriteLock(client::Client& client, std::string path, std::string id = "");
  ReadWriteLock(const ReadWriteLock&) = delete;
  ReadWriteLock& operator=(const ReadWriteLock&) = delete;

  /// The shared side.
  Mutex& read_lock() { return *reader_; }
  /// The exclusive side.
  Mutex& write_lock() { return *writer_; }

 private:
  std::unique_ptr<Mutex> writer_;
  std::unique_ptr<Mutex> reader_;
};

}  // namespace corral::recipes
