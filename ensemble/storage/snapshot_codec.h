// Snapshot records: a znode <-> its Protocol Buffers record.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ensemble/tree/data_tree.h"
#include "ensemble/txn/pb_wire.h"

namespace corral::storage {

/// pb.Node's field numbers (records.proto).
namespace node_field {
inline constexpr int kData = 1;
inline constexpr int kDataNull = 2;
inline constexpr int kAcl = 3;
inline constexpr int kCzxid = 4;
inline constexpr int kMzxid = 5;
inline constexpr int kPzxid = 6;
inline constexpr int kCtime = 7;
inline constexpr int kMtime = 8;
inline constexpr int kVersion = 9;
inline constexpr int kCversion = 10;
inline constexpr int kAversion = 11;
inline constexpr int kEphemeralOwner = 12;
}  // namespace node_field

/// Encodes a node (without its children: paths imply them).
std::string encode_node(const tree::Node& node);

/// pb.Node's acl field for `acl`, as write_node takes it: nodes share few lists, so a caller
/// encoding many nodes encodes each list once.
std::string encode_acl_field(const wire::AclList& acl);

/// Writes `node`'s record (pb.Node, byte for byte as protobuf would) to `out` (a
/// pb_wire::SizeCounter, StringAppender or PointerWriter), its ACL as encode_acl_field gave it.
template <class Out>
void write_node(Out& out, const tree::Node& node, std::string_view acl_field) {
  using pb_wire::bytes_field, pb_wire::int_field;
  if (!node.data.empty()) bytes_field(out, node_field::kData, node.data.view());
  int_field(out, node_field::kDataNull, node.data_null);
  out.put(acl_field);
  int_field(out, node_field::kCzxid, node.czxid);
  int_field(out, node_field::kMzxid, node.mzxid);
  int_field(out, node_field::kPzxid, node.pzxid);
  int_field(out, node_field::kCtime, node.ctime);
  int_field(out, node_field::kMtime, node.mtime);
  int_field(out, node_field::kVersion, node.version);
  int_field(out, node_field::kCversion, node.cversion);
  int_field(out, node_field::kAversion, node.aversion);
  int_field(out, node_field::kEphemeralOwner, node.ephemeral_owner);
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
  /// The ACL list read (acl_'s first acl_size_), the previous node's when equal.
  tree::SharedAcl shared_acl();

  tree::DataTree& tree_;
  /// The record's ACL list as read (its strings keep their room from node to node).
  wire::AclList acl_;
  size_t acl_size_ = 0;
  tree::SharedAcl last_acl_;
};

}  // namespace corral::storage
