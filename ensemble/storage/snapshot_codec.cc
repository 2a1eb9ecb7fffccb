#include "ensemble/storage/snapshot_codec.h"

#include <algorithm>

namespace corral::storage {

std::string encode_node(const tree::Node& node) {
  std::string out;
  pb_wire::StringAppender to{out};
  write_node(to, node, encode_acl_field(*node.acl));
  return out;
}

std::string encode_acl_field(const wire::AclList& acl) {
  using pb_wire::bytes_field, pb_wire::StringAppender;
  std::string out;
  StringAppender to{out};
  for (const auto& a : acl) {
    std::string id;
    StringAppender id_to{id};
    if (!a.id.scheme.empty()) bytes_field(id_to, 1, a.id.scheme);
    if (!a.id.id.empty()) bytes_field(id_to, 2, a.id.id);
    std::string entry;
    StringAppender entry_to{entry};
    pb_wire::int_field(entry_to, 1, a.perms);
    bytes_field(entry_to, 2, id);  // protobuf writes a set message even when it is empty
    bytes_field(to, node_field::kAcl, entry);
  }
  return out;
}

bool decode_node(std::string_view bytes, tree::DataTree& tree, tree::Node& out) {
  return NodeDecoder(tree).decode(bytes, out);
}

namespace {

// pb.Node's number fields: false when `field` is none of them.
bool set_number(tree::Node& node, int field, uint64_t v) {
  const auto i64 = static_cast<int64_t>(v);
  const auto i32 = static_cast<int32_t>(v);  // protobuf keeps an int32's low 32 bits
  switch (field) {
    case node_field::kDataNull:
      node.data_null = v != 0;
      return true;
    case node_field::kCzxid:
      node.czxid = i64;
      return true;
    case node_field::kMzxid:
      node.mzxid = i64;
      return true;
    case node_field::kPzxid:
      node.pzxid = i64;
      return true;
    case node_field::kCtime:
      node.ctime = i64;
      return true;
    case node_field::kMtime:
      node.mtime = i64;
      return true;
    case node_field::kVersion:
      node.version = i32;
      return true;
    case node_field::kCversion:
      node.cversion = i32;
      return true;
    case node_field::kAversion:
      node.aversion = i32;
      return true;
    case node_field::kEphemeralOwner:
      node.ephemeral_owner = i64;
      return true;
    default:
      return false;
  }
}

// pb.Id's fields into `id`, whose strings keep their room.
bool decode_id(std::string_view bytes, wire::Id& id) {
  pb_wire::Reader in(bytes);
  while (!in.done()) {
    int field, type;
    std::string_view text;
    if (!in.key(field, type)) return false;
    if (type == pb_wire::kLengthDelimited && (field == 1 || field == 2)) {  // scheme, id
      if (!in.bytes(text)) return false;
      (field == 1 ? id.scheme : id.id).assign(text);
    } else if (!in.skip(field, type)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool NodeDecoder::decode(std::string_view bytes, tree::Node& out) {
  pb_wire::Reader in(bytes);
  tree::Node node;
  acl_size_ = 0;
  while (!in.done()) {
    int field, type;
    if (!in.key(field, type)) return false;
    std::string_view payload;
    uint64_t v = 0;
    if (type == pb_wire::kLengthDelimited &&
        (field == node_field::kData || field == node_field::kAcl)) {
      if (!in.bytes(payload)) return false;
      if (field == node_field::kData) {
        node.data = payload;
      } else if (!decode_acl(payload)) {
        return false;
      }
    } else if (type == pb_wire::kVarint) {
      if (!in.varint(v)) return false;
      set_number(node, field, v);        // a number this build does not know is skipped
    } else if (!in.skip(field, type)) {  // so is a field of another kind
      return false;
    }
  }
  node.acl = shared_acl();
  out = std::move(node);
  return true;
}

tree::SharedAcl NodeDecoder::shared_acl() {
  const auto read = acl_.begin() + static_cast<ptrdiff_t>(acl_size_);
  if (!last_acl_ || last_acl_->size() != acl_size_ ||
      !std::equal(acl_.begin(), read, last_acl_->begin()))
    last_acl_ = tree_.shared_acl(wire::AclList(acl_.begin(), read));
  return last_acl_;
}

bool NodeDecoder::decode_acl(std::string_view bytes) {
  if (acl_.size() == acl_size_) acl_.emplace_back();
  wire::Acl& acl = acl_[acl_size_++];
  acl.perms = 0;
  acl.id.scheme.clear();
  acl.id.id.clear();
  pb_wire::Reader in(bytes);
  while (!in.done()) {
    int field, type;
    uint64_t v;
    std::string_view id;
    if (!in.key(field, type)) return false;
    if (field == 1 && type == pb_wire::kVarint) {  // perms
      if (!in.varint(v)) return false;
      acl.perms = static_cast<int32_t>(v);
    } else if (field == 2 && type == pb_wire::kLengthDelimited) {  // id
      if (!in.bytes(id) || !decode_id(id, acl.id)) return false;
    } else if (!in.skip(field, type)) {
      return false;
    }
  }
  return true;
}

}  // namespace corral::storage
