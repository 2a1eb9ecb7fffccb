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
    bytes_field(to, 3, entry);
  }
  return out;
}

bool decode_node(std::string_view bytes, tree::DataTree& tree, tree::Node& out) {
  return NodeDecoder(tree).decode(bytes, out);
}

bool NodeDecoder::decode(std::string_view bytes, tree::Node& out) {
  pb_wire::Reader in(bytes);
  tree::Node node;
  acl_size_ = 0;
  while (!in.done()) {
    int field, type;
    if (!in.key(field, type)) return false;
    std::string_view payload;
    uint64_t v = 0;
    if (type == pb_wire::kLengthDelimited && (field == 1 || field == 3)) {
      if (!in.bytes(payload)) return false;
      if (field == 1) {
        node.data = payload;
      } else if (!decode_acl(payload)) {
        return false;
      }
      continue;
    }
    if (type != pb_wire::kVarint || field < 2 || field == 3 || field > 12) {
      if (!in.skip(type)) return false;  // a field this build does not know
      continue;
    }
    if (!in.varint(v)) return false;
    const auto i64 = static_cast<int64_t>(v);
    const auto i32 = static_cast<int32_t>(v);  // protobuf keeps an int32's low 32 bits
    switch (field) {
      case 2:
        node.data_null = v != 0;
        break;
      case 4:
        node.czxid = i64;
        break;
      case 5:
        node.mzxid = i64;
        break;
      case 6:
        node.pzxid = i64;
        break;
      case 7:
        node.ctime = i64;
        break;
      case 8:
        node.mtime = i64;
        break;
      case 9:
        node.version = i32;
        break;
      case 10:
        node.cversion = i32;
        break;
      case 11:
        node.aversion = i32;
        break;
      case 12:
        node.ephemeral_owner = i64;
        break;
    }
  }
  const bool same = last_acl_ && last_acl_->size() == acl_size_ &&
                    std::equal(acl_.begin(), acl_.begin() + static_cast<ptrdiff_t>(acl_size_),
                               last_acl_->begin());
  if (!same)
    last_acl_ = tree_.shared_acl(
        wire::AclList(acl_.begin(), acl_.begin() + static_cast<ptrdiff_t>(acl_size_)));
  node.acl = last_acl_;
  out = std::move(node);
  return true;
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
    if (!in.key(field, type)) return false;
    if (field == 1 && type == pb_wire::kVarint) {
      uint64_t v;
      if (!in.varint(v)) return false;
      acl.perms = static_cast<int32_t>(v);
    } else if (field == 2 && type == pb_wire::kLengthDelimited) {
      std::string_view id;
      if (!in.bytes(id)) return false;
      pb_wire::Reader id_in(id);  // pb.Id: scheme (1), id (2)
      while (!id_in.done()) {
        int id_field, id_type;
        std::string_view text;
        if (!id_in.key(id_field, id_type)) return false;
        if (id_type == pb_wire::kLengthDelimited && (id_field == 1 || id_field == 2)) {
          if (!id_in.bytes(text)) return false;
          (id_field == 1 ? acl.id.scheme : acl.id.id).assign(text);
        } else if (!id_in.skip(id_type)) {
          return false;
        }
      }
    } else if (!in.skip(type)) {
      return false;
    }
  }
  return true;
}

}  // namespace corral::storage
