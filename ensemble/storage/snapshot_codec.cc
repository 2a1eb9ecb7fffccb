#include "ensemble/storage/snapshot_codec.h"

#include "ensemble/storage/records.pb.h"

namespace corral::storage {

std::string encode_node(const tree::Node& node) {
  pb::Node p;
  p.set_data(node.data.view().data(), node.data.size());
  p.set_data_null(node.data_null);
  for (const auto& a : *node.acl) {
    pb::Acl* acl = p.add_acl();
    acl->set_perms(a.perms);
    acl->mutable_id()->set_scheme(a.id.scheme);
    acl->mutable_id()->set_id(a.id.id);
  }
  p.set_czxid(node.czxid);
  p.set_mzxid(node.mzxid);
  p.set_pzxid(node.pzxid);
  p.set_ctime(node.ctime);
  p.set_mtime(node.mtime);
  p.set_version(node.version);
  p.set_cversion(node.cversion);
  p.set_aversion(node.aversion);
  p.set_ephemeral_owner(node.ephemeral_owner);
  return p.SerializeAsString();
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
