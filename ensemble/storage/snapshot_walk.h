// The walk behind a fuzzy snapshot: the tree's nodes in preorder, a run at a
// time (snapshot_chunk.h), while the tree keeps changing between runs. Each node is encoded as it
// is when the walk reaches it; a node deleted before then is skipped with its
// subtree, and children are resumed after the last one visited, so children
// created meanwhile before that name are missed (their creates are in the log
// after the snapshot's start, and recovery replays them). A call ends right after
// the node it visited last (last_path()), before any of its children: what follows
// that node in preorder, as the tree is at the next call, is walked next.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
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
  /// Goes on as if `path` (a node of the tree) had just been visited: next come its children,
  /// then what follows it in preorder. How a snapshot passes over a run it reuses.
  void seek_after(std::string_view path);
  /// The path of the node visited last (or sought); empty before the first.
  const std::string& last_path() const { return last_path_; }

  /// Calls `visit` for up to `max_nodes` of the next nodes of `tree`, parents before
  /// children, and stops early after a node for which it returns false; `path` is valid
  /// during the call. Returns the number of nodes visited.
  size_t next(const tree::DataTree& tree, size_t max_nodes,
              const std::function<bool(std::string_view path, const tree::Node& node)>& visit);
  /// Appends up to `max_nodes` rows for the next nodes, as the other next.
  size_t next(const tree::DataTree& tree, size_t max_nodes, std::vector<SnapshotRow>& rows);
  /// Adds the next run of nodes (SnapshotChunks::run_complete) to `chunks`, empty.
  size_t next_run(const tree::DataTree& tree, SnapshotChunks& chunks);

  /// True when every node has been visited.
  bool done() const { return stack_.empty(); }

 private:
  /// A node being walked: its path, whether it was written, the last child visited.
  struct Visit {
    /// Kept between calls to next(); within one, a node reached through its parent has only
    /// `key` (the tree's own copy of its path) until the call ends.
    std::string path;
    bool written = false;
    bool started_children = false;
    /// Kept between calls; within one, `last_visited` names it until the call ends.
    std::string last_child;
    /// The rest are valid only within one call to next() (the tree changes between calls):
    /// each call starts by nulling `node`, and a null node is found again by path.
    std::string_view key;
    const tree::Node* node = nullptr;
    tree::ChildNames::const_iterator next_child;
    const tree::ChildNames::Entry* last_visited = nullptr;
  };

  /// Ends a call to next(): what the stack holds of the tree is copied into it.
  void keep_positions();

  std::vector<Visit> stack_;
  std::string last_path_;
};

}  // namespace corral::storage
