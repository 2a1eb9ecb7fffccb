// The walk behind a fuzzy snapshot: the tree's nodes in preorder, a chunk at a
// time, while the tree keeps changing between chunks. Each node is encoded as it
// is when the walk reaches it; a node deleted before then is skipped with its
// subtree, and children are resumed after the last one visited, so children
// created meanwhile before that name are missed (their creates are in the log
// after the snapshot's start, and recovery replays them).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// A preorder walk of a DataTree that can be resumed after the tree changed.
class SnapshotWalk {
 public:
  /// A walk starting at "/".
  SnapshotWalk() { restart(); }

  /// Starts over at "/".
  void restart();

  /// Appends up to `max_nodes` rows for the next nodes of `tree`, parents
  /// before children. Returns the number of rows appended.
  size_t next(const tree::DataTree& tree, size_t max_nodes, std::vector<SnapshotRow>& rows);

  /// True when every node has been visited.
  bool done() const { return stack_.empty(); }

 private:
  /// A node being walked: its path, whether it was written, the last child visited.
  struct Visit {
    std::string path;
    bool written = false;
    bool started_children = false;
    std::string last_child;
    /// The node and its next child, valid only within one call to next() (the tree changes
    /// between calls): each call starts by nulling them, and a null node is found again by path.
    const tree::Node* node = nullptr;
    tree::ChildNames::const_iterator next_child;
  };

  std::vector<Visit> stack_;
};

}  // namespace corral::storage
