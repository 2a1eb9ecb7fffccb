// Snapshot records: a znode <-> its Protocol Buffers record.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ensemble/storage/pb_wire.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// Encodes a node (without its children: paths imply them).
std::string encode_node(const tree::Node& node);

/// pb.Node's acl field for `acl`, as write_node takes it: nodes share few lists, so a caller
/// encoding many nodes encodes each list once.
std::string encode_acl_field(const wire::AclList& acl);

/// Writes `node`'s record (pb.Node, byte for byte as protobuf would) to `out` (a
/// pb_wire::SizeCounter or StringAppender), its ACL as encode_acl_field gave it.
template <class Out>
void write_node(Out& out, const tree::Node& node, std::string_view acl_field) {
  using pb_wire::bytes_field, pb_wire::int_field;
  if (!node.data.empty()) bytes_field(out, 1, node.data.view());
  int_field(out, 2, node.data_null);
  out.put(acl_field);
  int_field(out, 4, node.czxid);
  int_field(out, 5, node.mzxid);
  int_field(out, 6, node.pzxid);
  int_field(out, 7, node.ctime);
  int_field(out, 8, node.mtime);
  int_field(out, 9, node.version);
  int_field(out, 10, node.cversion);
  int_field(out, 11, node.aversion);
  int_field(out, 12, node.ephemeral_owner);
}
/// Decodes a node record, sharing ACL lists through `tree`; false if malformed.
bool decode_node(std::string_view bytes, tree::DataTree& tree, tree::Node& out);

/// Decodes node records one after another, as recovery and a learner's SNAP do a million
/// times: the record is read where it lies (pb_wire::Reader, no message built), and an ACL
/// list equal to the previous node's (most nodes share one) is taken again without being built.
class NodeDecoder {
 public:
  /// Decodes into nodes of `tree`, whose shared ACL lists they use.
  explicit NodeDecoder(tree::DataTree& tree) : tree_(tree) {}

  /// As decode_node. Fields it does not know are skipped, as protobuf skips them.
  bool decode(std::string_view bytes, tree::Node& out);

 private:
  /// Reads one pb.Acl into the next entry of acl_.
  bool decode_acl(std::string_view bytes);

  tree::DataTree& tree_;
  /// The record's ACL list as read (its strings keep their room from node to node).
  wire::AclList acl_;
  size_t acl_size_ = 0;
  std::shared_ptr<const wire::AclList> last_acl_;
};

}  // namespace corral::storage
