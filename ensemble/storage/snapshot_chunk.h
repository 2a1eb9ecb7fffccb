// A snapshot's nodes as stored: runs of them ("chunks"), each a pb.SnapshotChunk in a row of
// chunk_store, shared by the snapshots that hold the same run. One row per node made SQLite's
// per-row work (the statement, the B-tree cell) most of the cost of a snapshot; writing the
// nodes that did not change since the last snapshot was most of what was left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// About this many bytes of nodes go into one chunk (a node larger than that goes alone).
inline constexpr size_t kSnapshotChunkBytes = 256 * 1024;

/// A snapshot is written a few runs of nodes at a time (a storage job, Snapshotter::kStepsPerJob;
/// a run is a chunk, or a few when their nodes are large), each run ending after about one node in
/// kNodesPerRun, chosen by its path alone (its XXH3, the one its row's checksum starts from): where
/// the tree did not change, the next snapshot cuts the same runs, makes the same chunks, and stores
/// none of them again.
inline constexpr size_t kNodesPerRun = 1024;
/// A run ends after this many nodes, or once its chunks hold this many bytes, when no path
/// ended it: the storage jobs it goes into stay short.
inline constexpr size_t kMaxRunNodes = 4 * kNodesPerRun;
inline constexpr size_t kMaxRunBytes = 4 * kSnapshotChunkBytes;

/// Nodes encoded into chunks as they are added, with their share of their snapshot's checksum
/// (of kind kRowChecksum): a node costs no allocation of its own on its way to the database.
class SnapshotChunks {
 public:
  /// Adds a node, encoding its record into the last chunk.
  void add(std::string_view path, const tree::Node& node);
  /// Adds a node whose record is encoded already.
  void add(std::string_view path, std::string_view record);

  /// The chunks, each a pb.SnapshotChunk.
  const std::vector<std::string>& chunks() const { return chunks_; }
  /// The sum of snapshot_row_checksum(kRowChecksum, ...) over the nodes added.
  uint64_t checksum() const { return checksum_; }
  /// How many nodes were added.
  size_t node_count() const { return node_count_; }
  /// The bytes of the chunks.
  size_t bytes() const { return bytes_; }
  /// Whether the run these chunks hold is complete: the node added last ends runs (about one
  /// path in kNodesPerRun does), or the run is kMaxRunNodes or kMaxRunBytes long. The one rule
  /// both the Snapshotter's runs and a learner's staged SNAP are cut by, so they share chunks.
  bool run_complete() const {
    return last_ends_run_ || node_count_ >= kMaxRunNodes || bytes_ >= kMaxRunBytes;
  }
  /// The path of the first node of chunk `i`, to name it in errors.
  const std::string& first_path(size_t i) const { return first_paths_[i]; }

 private:
  /// Starts an entry of `path` and a record of `record_size` bytes (the chunk to hold it chosen
  /// by their size) and returns the chunk, to which the record is to be appended.
  std::string& start_entry(std::string_view path, size_t record_size);
  /// Counts in the node whose record ends the last chunk.
  void finish_entry(std::string_view path, size_t record_size);

  std::vector<std::string> chunks_;
  std::vector<std::string> first_paths_;
  uint64_t checksum_ = 0;
  size_t node_count_ = 0;
  size_t bytes_ = 0;
  bool last_ends_run_ = false;
  /// The ACL list of the last node added and its encoding: most nodes share one.
  tree::SharedAcl last_acl_;
  std::string last_acl_field_;
};

/// Calls `each` for the path and record of every entry of an encoded chunk, viewed where they
/// lie; false when the chunk does not decode (after the entries before the damage).
bool for_each_snapshot_entry(
    std::string_view chunk,
    const std::function<void(std::string_view path, std::string_view record)>& each);

}  // namespace corral::storage
