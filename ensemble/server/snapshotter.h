// Fuzzy snapshots: the tree is walked in runs of nodes on the core's thread
// (so no request waits more than a run's time), runs are written by the
// storage thread, and the snapshot records the zxid range it spans; recovery
// replays the log from its start idempotently (DataTree::replay). The runs of the last
// snapshot in which nothing changed are written again by reference (incremental_snapshot.h).
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/server/server_core.h"
#include "ensemble/storage/incremental_snapshot.h"
#include "ensemble/storage/storage_thread.h"

namespace corral::server {

/// Takes a snapshot every `snapCount` applied txns.
class Snapshotter {
 public:
  /// Listens to the core's tree changes from now on.
  Snapshotter(asio::io_context& io, ServerCore& core, storage::StorageThread& storage);
  /// Stops listening to the core's tree.
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;
  /// Starts a snapshot when one is due and none is running (and, in an ensemble,
  /// only while serving: before that the tree may still be truncated). At the first call
  /// while serving, with autopurge on, purges the log the stored snapshots no longer need
  /// (what a stop left of the last purge).
  void maybe_start();
  /// Starts a snapshot now unless one is running.
  void start();
  /// True while a snapshot is being taken.
  bool running() const { return running_; }
  /// Snapshots completed since start-up.
  uint64_t completed() const { return completed_; }
  /// The last zxid the newest snapshot taken since start-up covers; -1 before the first.
  int64_t last_zxid() const { return last_zxid_; }
  /// When the newest snapshot since start-up finished, seconds since the epoch; -1 before.
  int64_t last_time_s() const { return last_time_s_; }

 private:
  /// Steps of the walk written in one storage job (one SQLite transaction and its fsync). With
  /// one a job, the jobs' commits were 7.4% of create's member samples on a grown tree; with 4,
  /// create there ran 5% more ops/s (bench/RESULTS.md, twenty-third section).
  static constexpr size_t kStepsPerJob = 4;
  /// True (and the snapshot ends) when the state was replaced since the walk began.
  bool abandoned();
  void step();
  void finish();
  /// Removes from the log, a batch a storage job, the txns the oldest stored snapshot no longer
  /// needs (Database::kLogPurgeBatch): what the purge of the snapshot just finished left, or
  /// at start-up what a stop did.
  void purge_log();

  asio::io_context& io_;
  ServerCore& core_;
  storage::StorageThread& storage_;
  bool running_ = false;
  /// True once the start-up purge was queued (or autopurge found off).
  bool purge_resumed_ = false;
  uint64_t completed_ = 0;
  int64_t last_zxid_ = -1;
  int64_t last_time_s_ = -1;
  std::chrono::steady_clock::time_point started_;
  storage::IncrementalSnapshot snapshots_;
  std::shared_ptr<int64_t> snapshot_id_;
  int64_t node_count_ = 0;
  /// Of those, the nodes of runs reused from the last snapshot.
  int64_t reused_nodes_ = 0;
  /// The core's state generation when the walk began (a replaced tree ends the walk, and
  /// the runs of the snapshots before it are not reused).
  uint64_t generation_ = 0;
};

}  // namespace corral::server
