// Snapshot records: a znode <-> its Protocol Buffers record.
#pragma once

#include <memory>
#include <string>

#include "ensemble/tree/data_tree.h"

namespace corral::storage {

namespace pb {
class Node;
}

/// Encodes a node (without its children: paths imply them).
std::string encode_node(const tree::Node& node);
/// Decodes a node record, sharing ACL lists through `tree`; false if malformed.
bool decode_node(const std::string& bytes, tree::DataTree& tree, tree::Node& out);

/// Decodes node records one after another, as recovery and a learner's SNAP do a million
/// times: the record's buffers are reused, and an ACL list equal to the previous node's (most
/// nodes share one) is taken again without being built.
class NodeDecoder {
 public:
  /// Decodes into nodes of `tree`, whose shared ACL lists they use.
  explicit NodeDecoder(tree::DataTree& tree);
  ~NodeDecoder();
  NodeDecoder(const NodeDecoder&) = delete;
  NodeDecoder& operator=(const NodeDecoder&) = delete;

  /// As decode_node.
  bool decode(const std::string& bytes, tree::Node& out);

 private:
  bool same_as_last_acl() const;

  tree::DataTree& tree_;
  std::unique_ptr<pb::Node> record_;
  std::shared_ptr<const wire::AclList> last_acl_;
};

}  // namespace corral::storage
