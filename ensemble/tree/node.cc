#include "ensemble/tree/node.h"

#include "ensemble/tree/txn.h"

namespace corral::tree {

wire::Stat Node::stat() const {
  wire::Stat s;
  s.czxid = czxid;
  s.mzxid = mzxid;
  s.ctime = ctime;
  s.mtime = mtime;
  s.version = version;
  // Every creation but those of the children still present was followed by a
  // deletion, so creations + deletions = 2 * creations - children (ZooKeeper's rule).
  s.cversion = static_cast<int32_t>(2u * static_cast<uint32_t>(cversion) - children.size());
  s.aversion = aversion;
  // Containers and TTL nodes show no owner to clients.
  s.ephemeral_owner = node_kind(ephemeral_owner) == NodeKind::kEphemeral ? ephemeral_owner : 0;
  s.data_length = static_cast<int32_t>(data.size());
  s.num_children = static_cast<int32_t>(children.size());
  s.pzxid = pzxid;
  return s;
}

}  // namespace corral::tree
