// ServerCore: the write path. Decode -> prep (Txn or error Txn) -> commit -> respond.
#include <spdlog/spdlog.h>

#include "ensemble/server/server_core.h"

namespace corral::server {

using wire::ErrorCode;
using wire::OpCode;

namespace {

tree::WriteOp read_write_op(OpCode type, wire::JuteReader& r) {
  switch (type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
      return {type, wire::CreateRequest::read(r, false)};
    case OpCode::kCreateTtl:
      return {type, wire::CreateRequest::read(r, true)};
    case OpCode::kDelete:
    case OpCode::kCheck:
      return {type, wire::PathVersionRequest::read(r)};
    case OpCode::kSetData:
      return {type, wire::SetDataRequest::read(r)};
    case OpCode::kSetAcl:
      return {type, wire::SetAclRequest::read(r)};
    default:
      throw wire::DecodeError("not a write op: " + std::to_string(static_cast<int32_t>(type)));
  }
}

// ZooKeeper's MultiOperationRecord takes every write but setACL and multi itself.
bool allowed_in_multi(OpCode type) {
  return wire::is_write(type) && type != OpCode::kSetAcl && type != OpCode::kMulti;
}

// Reads the ops of a multi until the done marker; nullopt when an op type is
// not allowed in a multi (ZooKeeper answers ZMARSHALLINGERROR).
std::optional<std::vector<tree::WriteOp>> read_multi(wire::JuteReader& r) {
  std::vector<tree::WriteOp> ops;
  ops.reserve(8);  // the count is only known at the done marker; most multis are small
  for (;;) {
    auto mh = wire::MultiHeader::read(r);
    if (mh.done) return ops;
    auto type = static_cast<OpCode>(mh.type);
    if (!allowed_in_multi(type)) return std::nullopt;
    ops.push_back(read_write_op(type, r));
  }
}

// The opcode a multi result reports: plain create answers with a path only,
// the other create variants with path and Stat (create2).
int32_t result_type(OpCode request_type) {
  if (request_type == OpCode::kCreateContainer || request_type == OpCode::kCreateTtl)
    return static_cast<int32_t>(OpCode::kCreate2);
  return static_cast<int32_t>(request_type);
}

void write_op_result(wire::JuteWriter& w, const tree::OpResult& res) {
  switch (res.type) {
    case OpCode::kCreate:
      w.string(res.path);
      return;
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      w.string(res.path);
      res.stat.write(w);
      return;
    case OpCode::kSetData:
    case OpCode::kSetAcl:
      res.stat.write(w);
      return;
    default:
      return;  // delete and check answer with the header alone
  }
}

void write_multi_results(wire::JuteWriter& w, const tree::ApplyResult& res) {
  for (const auto& op : res.ops) {
    if (op.type == OpCode::kError) {
      wire::MultiHeader{-1, false, static_cast<int32_t>(op.err)}.write(w);
      w.int32(static_cast<int32_t>(op.err));
      continue;
    }
    wire::MultiHeader{result_type(op.type), false, 0}.write(w);
    write_op_result(w, op);
  }
  wire::MultiHeader{-1, true, -1}.write(w);
}

const char* op_name(OpCode type) {
  switch (type) {
    case OpCode::kDelete:
      return "DELE";
    case OpCode::kSetData:
      return "SETD";
    case OpCode::kSetAcl:
      return "SETA";
    case OpCode::kCheck:
      return "CHEC";
    case OpCode::kMulti:
      return "MULT";
    default:
      return "CREA";
  }
}

}  // namespace

void ServerCore::handle_write(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                              int64_t now_ms) {
  auto type = static_cast<OpCode>(h.type);
  link.last_op = op_name(type);
  std::string_view body = r.rest();
  if (type == OpCode::kMulti) {
    auto ops = read_multi(r);
    if (!ops) return reply_error(link, h.xid, ErrorCode::kMarshallingError);
    ++link.writes_submitted;
    auto then = [this, link_id = link.id, xid = h.xid](const tree::ApplyResult& res) {
      write_done(link_id, [&](ClientLink& l) {
        // A multi refused as a whole (its session expired on the leader) has no op results.
        if (res.ops.empty() && res.err != ErrorCode::kOk) return reply_error(l, xid, res.err);
        reply(l, xid, ErrorCode::kOk, [&](wire::JuteWriter& w) { write_multi_results(w, res); });
      });
    };
    if (forwards())
      return forward(link.session_id, h.xid, type, std::string(body), link.auth, std::move(then));
    commit(prep_.prepare_multi(context(link, h.xid, now_ms), *ops), std::move(then));
    return;
  }
  tree::WriteOp op = read_write_op(type, r);
  ++link.writes_submitted;
  auto then = [this, link_id = link.id, xid = h.xid](const tree::ApplyResult& res) {
    write_done(link_id, [&](ClientLink& l) {
      reply(l, xid, res.err, [&](wire::JuteWriter& w) { write_op_result(w, res.ops.front()); });
    });
  };
  if (forwards())
    return forward(link.session_id, h.xid, type, std::string(body), link.auth, std::move(then));
  commit(prep_.prepare(context(link, h.xid, now_ms), op), std::move(then));
}

void ServerCore::on_forwarded(const zab::Relay& request, int64_t now_ms) {
  auto type = static_cast<OpCode>(request.type);
  bool live = sessions_.touch(request.session_id, now_ms);
  tree::PrepContext ctx{request.session_id, request.cxid, 0, now_ms, &request.auth};
  if (!live && type != OpCode::kCreateSession && type != OpCode::kCloseSession) {
    // Expired or closing here while the request travelled (ZooKeeper's checkSession): an
    // ephemeral created now would outlive its session on every member.
    tree::Txn txn;
    txn.session_id = request.session_id;
    txn.cxid = request.cxid;
    txn.zxid = take_zxid();
    txn.time_ms = now_ms;
    txn.type = OpCode::kError;
    txn.err = ErrorCode::kSessionExpired;
    return commit(std::move(txn), nullptr);
  }
  try {
    wire::JuteReader r(request.body);
    switch (type) {
      case OpCode::kCreateSession: {
        ctx.zxid = take_zxid();
        tree::Txn txn = prep_.prepare_create_session(ctx, request.timeout_ms);
        txn.session_passwd = request.passwd;
        return commit(std::move(txn), nullptr);
      }
      case OpCode::kCloseSession:
        if (session::Session* s = sessions_.find(request.session_id)) s->closing = true;
        ctx.zxid = take_zxid();
        return commit(prep_.prepare_close_session(ctx), nullptr);
      case OpCode::kReconfig:
        ctx.zxid = take_zxid();
        return commit(prepare_reconfig(ctx, request.body), nullptr);
      case OpCode::kMulti: {
        auto ops = read_multi(r);
        if (!ops) throw wire::DecodeError("an op not allowed in a multi");
        ctx.zxid = take_zxid();
        return commit(prep_.prepare_multi(ctx, *ops), nullptr);
      }
      default: {
        tree::WriteOp op = read_write_op(type, r);
        ctx.zxid = take_zxid();
        return commit(prep_.prepare(ctx, op), nullptr);
      }
    }
  } catch (const wire::DecodeError& e) {
    // The learner decoded it before forwarding: this is a bug or a foreign server.
    spdlog::warn("dropping a forwarded request of session 0x{:x}: {}", request.session_id,
                 e.what());
  }
}

}  // namespace corral::server
