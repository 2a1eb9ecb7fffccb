#include "ensemble/txn/txn_codec.h"

#include "ensemble/txn/txn.pb.h"

namespace corral::txn {
namespace {

void to_pb(const wire::AclList& acl, google::protobuf::RepeatedPtrField<pb::Acl>* out) {
  for (const auto& a : acl) {
    pb::Acl* p = out->Add();
    p->set_perms(a.perms);
    p->mutable_id()->set_scheme(a.id.scheme);
    p->mutable_id()->set_id(a.id.id);
  }
}

wire::AclList from_pb(const google::protobuf::RepeatedPtrField<pb::Acl>& in) {
  wire::AclList out;
  for (const auto& a : in) out.push_back({a.perms(), {a.id().scheme(), a.id().id()}});
  return out;
}

}  // namespace

std::string encode_txn(const tree::Txn& txn) {
  pb::Txn p;
  p.set_session_id(txn.session_id);
  p.set_cxid(txn.cxid);
  p.set_zxid(txn.zxid);
  p.set_time_ms(txn.time_ms);
  p.set_type(static_cast<int32_t>(txn.type));
  p.set_session_timeout_ms(txn.session_timeout_ms);
  p.set_session_passwd(txn.session_passwd);
  p.set_err(static_cast<int32_t>(txn.err));
  for (const auto& op : txn.ops) {
    pb::TxnOp* o = p.add_ops();
    o->set_type(static_cast<int32_t>(op.type));
    o->set_path(op.path);
    o->set_data(op.data);
    o->set_data_null(op.data_null);
    to_pb(op.acl, o->mutable_acl());
    o->set_ephemeral_owner(op.ephemeral_owner);
    o->set_version(op.version);
    o->set_parent_cversion(op.parent_cversion);
    o->set_err(static_cast<int32_t>(op.err));
  }
  return p.SerializeAsString();
}

tree::Txn decode_txn(const std::string& bytes) {
  pb::Txn p;
  if (!p.ParseFromString(bytes)) throw DecodeError("malformed txn record");
  tree::Txn txn;
  txn.session_id = p.session_id();
  txn.cxid = p.cxid();
  txn.zxid = p.zxid();
  txn.time_ms = p.time_ms();
  txn.type = static_cast<wire::OpCode>(p.type());
  txn.session_timeout_ms = p.session_timeout_ms();
  txn.session_passwd = p.session_passwd();
  txn.err = static_cast<wire::ErrorCode>(p.err());
  for (const auto& o : p.ops()) {
    tree::TxnOp op;
    op.type = static_cast<wire::OpCode>(o.type());
    op.path = o.path();
    op.data = o.data();
    op.data_null = o.data_null();
    op.acl = from_pb(o.acl());
    op.ephemeral_owner = o.ephemeral_owner();
    op.version = o.version();
    op.parent_cversion = o.parent_cversion();
    op.err = static_cast<wire::ErrorCode>(o.err());
    txn.ops.push_back(std::move(op));
  }
  return txn;
}

}  // namespace corral::txn
