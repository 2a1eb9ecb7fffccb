// ServerCore: the reconfig request (opcode 16). The leader checks it as ZooKeeper's
// PrepRequestProcessor does (plan_reconfig, then the WRITE ACL on /zookeeper/config) and
// proposes the new config as a txn; learners forward it. The answering server replies once
// the txn is applied, with its own active config and the stat of /zookeeper/config
// (FinalRequestProcessor, case reconfig).
#include <spdlog/spdlog.h>

#include "ensemble/server/reconfig_prep.h"
#include "ensemble/server/server_core.h"

namespace corral::server {

using wire::ErrorCode;
using wire::OpCode;

namespace {

tree::Txn error_txn(const tree::PrepContext& ctx, ErrorCode err) {
  tree::Txn txn;
  txn.session_id = ctx.session_id;
  txn.cxid = ctx.cxid;
  txn.zxid = ctx.zxid;
  txn.time_ms = ctx.time_ms;
  txn.type = OpCode::kError;
  txn.err = err;
  return txn;
}

}  // namespace

ReconfigView ServerCore::reconfig_view() const {
  if (replication_) return replication_->reconfig_view();
  ReconfigView standalone;
  standalone.reconfig_enabled = config_.reconfig_enabled;
  standalone.standalone = true;
  standalone.standalone_enabled = config_.standalone_enabled;
  return standalone;
}

tree::Txn ServerCore::prepare_reconfig(const tree::PrepContext& ctx, std::string_view body) {
  auto request = decode_reconfig(body);
  if (auto* err = std::get_if<ErrorCode>(&request)) return error_txn(ctx, *err);
  auto next = plan_reconfig(std::get<wire::ReconfigRequest>(request), reconfig_view(), ctx.zxid);
  if (auto* err = std::get_if<ErrorCode>(&next)) return error_txn(ctx, *err);
  if (config_.skip_acl) spdlog::warn("skipACL is set: reconfig is not checked against ACLs");
  return prep_.prepare_reconfig(ctx, std::get<zab::QuorumConfig>(next).text());
}

void ServerCore::handle_reconfig(ClientLink& link, const wire::RequestHeader& h,
                                 wire::JuteReader& r, int64_t now_ms) {
  link.last_op = "RECO";
  ReconfigView view = reconfig_view();
  // Refused where it arrives when no member could take it; ZooKeeper's leader answers the
  // same codes (its first checks), so nothing is gained by a round trip.
  if (!view.reconfig_enabled) return reply_error(link, h.xid, ErrorCode::kReconfigDisabled);
  if (view.standalone) return reply_error(link, h.xid, ErrorCode::kUnimplemented);
  std::string body(r.rest());
  if (std::holds_alternative<ErrorCode>(decode_reconfig(body)))
    return reply_error(link, h.xid, ErrorCode::kMarshallingError);
  ++link.writes_submitted;
  auto then = [this, link_id = link.id, xid = h.xid](const tree::ApplyResult& res) {
    write_done(link_id, [&](ClientLink& l) {
      if (res.err != ErrorCode::kOk) return reply_error(l, xid, res.err);
      // This server activated the config before applying its txn (zab::Ready's order).
      reply(l, xid, ErrorCode::kOk, [&](wire::JuteWriter& w) {
        w.buffer(quorum_config_ ? quorum_config_->text() : std::string());
        res.ops.front().stat.write(w);
      });
    });
  };
  if (forwards())
    return forward(link.session_id, h.xid, OpCode::kReconfig, std::move(body), link.auth,
                   std::move(then));
  commit(prepare_reconfig(context(link, h.xid, now_ms), body), std::move(then));
}

}  // namespace corral::server
