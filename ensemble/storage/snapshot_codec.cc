#include "ensemble/storage/snapshot_codec.h"

#include "ensemble/storage/records.pb.h"

namespace corral::storage {

std::string encode_node(const tree::Node& node) {
  pb::Node p;
  p.set_data(node.data);
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
  pb::Node p;
  if (!p.ParseFromString(bytes)) return false;
  out.data = p.data();
  out.data_null = p.data_null();
  wire::AclList acl;
  for (const auto& a : p.acl()) acl.push_back({a.perms(), {a.id().scheme(), a.id().id()}});
  out.acl = tree.shared_acl(acl);
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

}  // namespace corral::storage
