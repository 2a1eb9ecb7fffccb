// The runs a snapshot was written in (snapshot_chunk.h), each named by the last path it holds,
// with what its stored chunks are and whether a node in it changed since it was walked: the
// next snapshot writes a run that did not change again by reference, without walking it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corral::storage {

/// Whether `a` comes before `b` in the tree's preorder: byte order, but with '/' before every
/// other byte (a node's subtree comes before its next sibling, whose name may hold '-' or '.').
bool preorder_less(std::string_view a, std::string_view b);

/// One run of a snapshot.
struct SnapshotRun {
  /// The path of its last node; the run holds every node after the previous run's last, up to
  /// and with this one.
  std::string last_path;
  /// Its chunks' ids in chunk_store, filled by the storage job that wrote them (the core reads
  /// them only once that job is done: in a later snapshot).
  std::shared_ptr<std::vector<int64_t>> chunk_ids;
  int64_t node_count = 0;
  /// Its nodes' share of the snapshot's checksum (SnapshotChunks::checksum).
  uint64_t checksum = 0;
  /// A node in it changed since it was walked.
  bool changed = false;
};

/// A snapshot's runs in preorder.
class SnapshotRuns {
 public:
  /// Appends the run after the last one.
  void add(SnapshotRun run) { runs_.push_back(std::move(run)); }
  /// Removes every run.
  void clear();
  /// True when there is no run.
  bool empty() const { return runs_.empty(); }
  /// How many runs there are.
  size_t size() const { return runs_.size(); }
  /// Run `i`, in preorder.
  const SnapshotRun& operator[](size_t i) const { return runs_[i]; }
  /// The last run.
  const SnapshotRun& back() const { return runs_.back(); }

  /// Marks changed the run that holds `path` (none when it comes after the last run).
  void mark_changed(std::string_view path);
  /// The index of the run that ends with `path`, or size() when none does.
  size_t ending_at(std::string_view path) const;

 private:
  /// The first run whose last path is not before `path`.
  size_t holding(std::string_view path) const;

  std::vector<SnapshotRun> runs_;
  /// The run marked last: creates of sequential nodes mark the same one again and again.
  size_t last_marked_ = 0;
};

}  // namespace corral::storage
