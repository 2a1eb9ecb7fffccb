#include "ensemble/storage/snapshot_runs.h"

#include <algorithm>
#include <cstring>

namespace corral::storage {

bool preorder_less(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  // Paths compared share long prefixes (a run's end and a path near it): 8 bytes at a time
  // up to the first difference.
  size_t i = 0;
  for (uint64_t x, y; i + 8 <= n; i += 8) {
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) break;
  }
  for (; i < n; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == '/') return true;
    if (b[i] == '/') return false;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

void SnapshotRuns::clear() {
  runs_.clear();
  last_marked_ = 0;
}

size_t SnapshotRuns::holding(std::string_view path) const {
  auto it = std::partition_point(runs_.begin(), runs_.end(), [&](const SnapshotRun& r) {
    return preorder_less(r.last_path, path);
  });
  return static_cast<size_t>(it - runs_.begin());
}

void SnapshotRuns::mark_changed(std::string_view path) {
  // The run marked last holds `path` when it ends at or after it and the one before ends
  // before it: two comparisons instead of a search.
  const size_t last = last_marked_;
  if (last < runs_.size() && !preorder_less(runs_[last].last_path, path) &&
      (last == 0 || preorder_less(runs_[last - 1].last_path, path))) {
    runs_[last].changed = true;
    return;
  }
  const size_t i = holding(path);
  if (i == runs_.size()) return;
  runs_[i].changed = true;
  last_marked_ = i;
}

size_t SnapshotRuns::ending_at(std::string_view path) const {
  const size_t i = holding(path);
  return i < runs_.size() && runs_[i].last_path == path ? i : runs_.size();
}

}  // namespace corral::storage
