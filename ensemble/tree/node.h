// A znode as the tree holds it, without its path (its NodeEntry holds both).
#pragma once

#include <cstdint>

#include "ensemble/tree/child_names.h"
#include "ensemble/tree/node_data.h"
#include "ensemble/tree/shared_acl.h"
#include "wire/records.h"

namespace corral::tree {

/// A znode. Children are kept as their entries in the tree's table; the stat's dataLength and
/// numChildren are derived from data and children. Its data has an allocation of its own; its
/// path shares the node's (node_entry.h).
struct Node {
  NodeData data;
  SharedAcl acl;
  ChildNames children;
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t pzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int64_t ephemeral_owner = 0;
  int32_t version = 0;
  /// Count of child creations, as ZooKeeper stores it: it names sequential
  /// children, and the reported cversion is derived from it (see stat()).
  int32_t cversion = 0;
  int32_t aversion = 0;
  /// ZooKeeper keeps null data apart from empty data: getData returns length -1.
  bool data_null = false;

  /// The node's Stat as ZooKeeper reports it.
  wire::Stat stat() const;
};

static_assert(sizeof(Node) == 88, "a node and a path of up to 19 characters fill 112 bytes");

}  // namespace corral::tree
