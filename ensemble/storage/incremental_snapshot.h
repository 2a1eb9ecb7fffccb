// A snapshot's walk that skips what did not change: the runs of the last complete snapshot
// (snapshot_runs.h) in which no node changed since they were walked are written again by
// reference to their stored chunks, neither walked, encoded, hashed nor compared. Every other
// run is walked from the tree as SnapshotWalk does; the runs come out the same either way (a
// run's end is chosen by its nodes' paths alone), so the walk meets the last snapshot's run
// ends again after a run that changed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_runs.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// One step of a snapshot's walk (a storage job writes a few): a run walked now, or runs of the
/// last snapshot written again by reference.
struct SnapshotStep {
  /// The run walked (empty when runs were reused).
  SnapshotChunks walked;
  /// Where the storage job puts the ids of the chunks that hold `walked`
  /// (Database::add_snapshot_steps); the next snapshot refers to them. Null when runs were
  /// reused.
  std::shared_ptr<std::vector<int64_t>> walked_ids;
  /// The chunks of the runs reused (Database::add_snapshot_steps), their nodes and checksum.
  std::vector<int64_t> reused_ids;
  size_t reused_nodes = 0;
  uint64_t reused_checksum = 0;

  /// True when this step reuses runs rather than walking one.
  bool reuses() const { return !reused_ids.empty(); }
  /// The nodes this step adds.
  size_t node_count() const { return walked.node_count() + reused_nodes; }
};

/// Fuzzy snapshots of one tree, each after the last, told every change in between
/// (DataTree::set_change_listener).
class IncrementalSnapshot {
 public:
  /// A step reuses about this many chunks at most (whole runs): its storage job stays short.
  static constexpr size_t kMaxReusedChunks = 4096;
  /// Every this many snapshots, one walks the whole tree: each chunk it stores again is read
  /// back and compared, which mends one damaged since it was stored (Database::store_chunk),
  /// where a reused chunk is not read at all.
  static constexpr int kFullWalkEvery = 8;

  /// `path` changed in the tree (DataTree::ChangeListener).
  void changed(std::string_view path);
  /// Starts a snapshot's walk at "/". The runs of the last snapshot complete() ended may be
  /// reused; those of one that did not end are not.
  void begin();
  /// The next step: the runs of the last snapshot that start where the walk stands and did not
  /// change, else the next run walked from `tree`. A step of no nodes ends the walk.
  SnapshotStep next(const tree::DataTree& tree);
  /// The steps one storage job writes: up to `max_steps` from next(), fewer where the walk
  /// ends. None once it has ended.
  std::vector<std::shared_ptr<SnapshotStep>> next_job(const tree::DataTree& tree, size_t max_steps);
  /// True when the walk has visited (or reused) every node.
  bool done() const { return walk_.done(); }
  /// The path of the node the walk stands at: the last one walked or reused.
  const std::string& position() const { return walk_.last_path(); }
  /// The snapshot begun last is stored complete: the next one may reuse its runs.
  void complete() { walking_ = false; }
  /// Forgets every run: the tree was replaced, and the chunks they name may be gone.
  void forget();

 private:
  /// Runs of the last complete snapshot, while a walk is under way (else empty).
  SnapshotRuns last_;
  /// Runs of the snapshot being walked, or of the last complete one between walks.
  SnapshotRuns current_;
  bool walking_ = false;
  /// Snapshots begun since the last that walked the whole tree.
  int since_full_walk_ = 0;
  /// The index in last_ of the run that begins where the walk stands, if any does.
  size_t aligned_ = 0;
  SnapshotWalk walk_;
};

}  // namespace corral::storage
