#include "ensemble/storage/snapshot_codec.h"

#include "ensemble/storage/records.pb.h"

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

bool decode_node(const std::string& bytes, tree::DataTree& tree, tree::Node& out) {
  return NodeDecoder(tree).decode(bytes, out);
}

NodeDecoder::NodeDecoder(tree::DataTree& tree)
    : tree_(tree), record_(std::make_unique<pb::Node>()) {}

NodeDecoder::~NodeDecoder() = default;

bool NodeDecoder::decode(const std::string& bytes, tree::Node& out) {
  pb::Node& p = *record_;
  if (!p.ParseFromString(bytes)) return false;
  out.data = p.data();
  out.data_null = p.data_null();
  if (!same_as_last_acl()) {
    wire::AclList acl;
    for (const auto& a : p.acl()) acl.push_back({a.perms(), {a.id().scheme(), a.id().id()}});
    last_acl_ = tree_.shared_acl(acl);
  }
  out.acl = last_acl_;
  out.czxid = p.czxid();
  out.mzxid = p.mzxid();
  out.pzxid = p.pzxid();
  out.ctime = p.ctime();
  out.mtime = p.mtime();
  out.version = p.version();
  out.cversion = p.cversion();
  out.aversion = p.aversion();
  out.ephemeral_owner = p.ephemeral_owner();
  return true;
}

bool NodeDecoder::same_as_last_acl() const {
  if (!last_acl_ || last_acl_->size() != static_cast<size_t>(record_->acl_size())) return false;
  for (int i = 0; i < record_->acl_size(); ++i) {
    const pb::Acl& a = record_->acl(i);
    const wire::Acl& b = (*last_acl_)[static_cast<size_t>(i)];
    if (a.perms() != b.perms || a.id().scheme() != b.id.scheme || a.id().id() != b.id.id)
      return false;
  }
  return true;
}

}  // namespace corral::storage
