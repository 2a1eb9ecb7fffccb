// Loading snapshot nodes into a tree, from the database (recovery) or from a leader's
// state image (SNAP). DataTree::load_node trusts its input: a bad path, a second copy of
// a node, or an owner on the root or a system node (which it replaces in place) would
// break its indexes. The checks here turn each of those into a message instead.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "ensemble/storage/snapshot_codec.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// Adds the nodes of one snapshot to a tree, parents first.
class SnapshotLoader {
 public:
  /// Loads `expected_nodes` nodes into `tree`, which holds only what DataTree's constructor
  /// put there; room for them all is made first, so loading rehashes nothing (no hash is
  /// stored per node: a rehash would hash every path again).
  SnapshotLoader(tree::DataTree& tree, size_t expected_nodes);

  /// Decodes `record` and adds it at `path`; returns why it cannot, empty when added.
  std::string add(std::string_view path, std::string_view record);
  /// Nodes added so far.
  int64_t loaded() const { return loaded_; }

 private:
  tree::DataTree& tree_;
  NodeDecoder decoder_;
  /// The nodes the tree started with, which the snapshot replaces once each. Any other node
  /// already in the tree came earlier in this snapshot: no set of every path is needed to tell
  /// a second copy (a million paths would be 100 MB while recovering).
  std::set<std::string, std::less<>> replaceable_;
  int64_t loaded_ = 0;
};

/// Why the complete `tree` is not one a server can hold (an ephemeral node with
/// children); empty when it can.
std::string ephemeral_problem(const tree::DataTree& tree);

}  // namespace corral::storage
