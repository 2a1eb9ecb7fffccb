// ServerCore: requests answered from the local tree (reads, watches, auth).
#include <spdlog/spdlog.h>

#include "ensemble/server/server_core.h"
#include "wire/path.h"

namespace corral::server {

using wire::ErrorCode;
using wire::OpCode;

namespace {

// getACL for a client without ADMIN shows digest ids with the hash hidden.
wire::AclList redact_digests(wire::AclList acl) {
  for (auto& a : acl)
    if (a.id.scheme == "digest") a.id.id = a.id.id.substr(0, a.id.id.find(':')) + ":x";
  return acl;
}

std::string user_of(const wire::Id& id) {
  return id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id;
}

void write_data(wire::JuteWriter& w, const tree::Node& n) {
  if (n.data_null)
    w.null_buffer();
  else
    w.buffer(n.data);
}

// Replies with more data than this are built at their exact size (see kGetData); below it the
// frame's spare capacity is small, and an extra copy would cost more than it saves.
constexpr size_t kExactReplyBytes = 64 * 1024;
// The encoded size of a Stat.
constexpr size_t kStatBytes = 68;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void ServerCore::handle_read(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r) {
  const auto op = static_cast<OpCode>(h.type);
  auto readable = [&](const tree::Node* n, int32_t perm) {
    if (!n) return ErrorCode::kNoNode;
    return acl_allows(*n->acl, perm, link.auth) ? ErrorCode::kOk : ErrorCode::kNoAuth;
  };
  switch (op) {
    case OpCode::kExists: {
      link.last_op = "EXIS";
      auto req = wire::PathWatchRequest::read(r);
      if (req.path.find('\0') != std::string::npos)
        return reply_error(link, h.xid, ErrorCode::kBadArguments);
      const tree::Node* n = tree_.find(req.path);
      // ZOOKEEPER-2590, when switched on: READ is checked only on a node that exists, and
      // before the watch is set, so a refused exists leaves none; a missing node still gets
      // its watch for the create.
      if (n && config_.exists_checks_read && readable(n, wire::perms::kRead) != ErrorCode::kOk)
        return reply_error(link, h.xid, ErrorCode::kNoAuth);
      if (req.watch && wire::validate_path(req.path).empty())
        watches_.add_data_watch(req.path, link.id);
      if (!n) return reply_error(link, h.xid, ErrorCode::kNoNode);
      return reply(link, h.xid, ErrorCode::kOk, [&](wire::JuteWriter& w) { n->stat().write(w); });
    }
    case OpCode::kGetData: {
      link.last_op = "GETD";
      auto req = wire::PathWatchRequest::read(r);
      const tree::Node* n = tree_.find(req.path);
      ErrorCode rc = readable(n, wire::perms::kRead);
      if (rc == ErrorCode::kOk && req.watch) watches_.add_data_watch(req.path, link.id);
      if (rc == ErrorCode::kOk && n->data.size() > kExactReplyBytes) {
        // Written into the frame piece by piece, the data would double the frame's capacity
        // (a 1 MiB reply would hold 2 MiB while queued, unseen by corral.outputBudgetBytes);
        // a body of the exact size first, appended at once, keeps the frame exact.
        std::string body;
        body.reserve(4 + n->data.size() + kStatBytes);
        wire::JuteWriter b(body);
        write_data(b, *n);
        n->stat().write(b);
        return reply(link, h.xid, rc, [&](wire::JuteWriter& w) { w.raw(body); });
      }
      return reply(link, h.xid, rc, [&](wire::JuteWriter& w) {
        write_data(w, *n);
        n->stat().write(w);
      });
    }
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: {
      link.last_op = "GETC";
      auto req = wire::PathWatchRequest::read(r);
      const tree::Node* n = tree_.find(req.path);
      ErrorCode rc = readable(n, wire::perms::kRead);
      if (rc == ErrorCode::kOk && req.watch) watches_.add_child_watch(req.path, link.id);
      return reply(link, h.xid, rc, [&](wire::JuteWriter& w) {
        w.int32(static_cast<int32_t>(n->children.size()));
        for (const auto& c : n->children) w.string(c);
        if (op == OpCode::kGetChildren2) n->stat().write(w);
      });
    }
    case OpCode::kGetAcl: {
      link.last_op = "GETA";
      auto req = wire::PathRequest::read(r);
      const tree::Node* n = tree_.find(req.path);
      ErrorCode rc = readable(n, wire::perms::kRead | wire::perms::kAdmin);
      return reply(link, h.xid, rc, [&](wire::JuteWriter& w) {
        bool admin = acl_allows(*n->acl, wire::perms::kAdmin, link.auth);
        wire::write_acls(w, admin ? *n->acl : redact_digests(*n->acl));
        n->stat().write(w);
      });
    }
    case OpCode::kGetAllChildrenNumber: {
      link.last_op = "GETACN";
      auto req = wire::PathRequest::read(r);
      const tree::Node* n = tree_.find(req.path);
      ErrorCode rc = readable(n, wire::perms::kRead);
      return reply(link, h.xid, rc,
                   [&](wire::JuteWriter& w) { w.int32(tree_.descendant_count(req.path)); });
    }
    case OpCode::kGetEphemerals: {
      link.last_op = "GETE";
      auto req = wire::PathRequest::read(r);
      std::vector<std::string> out;
      for (auto& p : tree_.ephemerals(link.session_id))
        if (req.path.empty() || req.path == "/" || starts_with(p, req.path)) out.push_back(p);
      return reply(link, h.xid, ErrorCode::kOk,
                   [&](wire::JuteWriter& w) { wire::write_strings(w, out); });
    }
    case OpCode::kSync: {
      link.last_op = "SYNC";
      auto req = wire::PathRequest::read(r);
      if (replication_) return handle_sync(link, h.xid, std::move(req.path));
      return reply(link, h.xid, ErrorCode::kOk, [&](wire::JuteWriter& w) { w.string(req.path); });
    }
    case OpCode::kAddWatch: {
      link.last_op = "ADDW";
      auto req = wire::PathIntRequest::read(r);
      if (req.value != 0 && req.value != 1)
        return reply_error(link, h.xid, ErrorCode::kMarshallingError);
      watches_.add_persistent(req.path, link.id, req.value == 1);
      return reply(link, h.xid, ErrorCode::kOk, [](wire::JuteWriter& w) { w.int32(0); });
    }
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches: {
      link.last_op = op == OpCode::kCheckWatches ? "CHKW" : "REMW";
      auto req = wire::PathIntRequest::read(r);
      if (req.value < 1 || req.value > 3)
        return reply_error(link, h.xid, ErrorCode::kMarshallingError);
      auto type = static_cast<wire::WatcherType>(req.value);
      bool found = op == OpCode::kCheckWatches ? watches_.contains(req.path, link.id, type)
                                               : watches_.remove(req.path, link.id, type);
      return reply_error(link, h.xid, found ? ErrorCode::kOk : ErrorCode::kNoWatcher);
    }
    case OpCode::kWhoAmI: {
      link.last_op = "HOMI";
      return reply(link, h.xid, ErrorCode::kOk, [&](wire::JuteWriter& w) {
        w.int32(static_cast<int32_t>(link.auth.size()));
        for (const auto& id : link.auth) wire::ClientInfo{id.scheme, user_of(id)}.write(w);
      });
    }
    default:
      link.last_op = "UNKN";
      return reply_error(link, h.xid, ErrorCode::kUnimplemented);
  }
}

void ServerCore::handle_multi_read(ClientLink& link, const wire::RequestHeader& h,
                                   wire::JuteReader& r) {
  std::string body;
  wire::JuteWriter w(body);
  for (;;) {
    auto mh = wire::MultiHeader::read(r);
    if (mh.done) break;
    auto req = wire::PathWatchRequest::read(r);
    auto op = static_cast<OpCode>(mh.type);
    if (op != OpCode::kGetData && op != OpCode::kGetChildren)
      return reply_error(link, h.xid, ErrorCode::kMarshallingError);
    const tree::Node* n = tree_.find(req.path);
    ErrorCode rc = !n                                                   ? ErrorCode::kNoNode
                   : acl_allows(*n->acl, wire::perms::kRead, link.auth) ? ErrorCode::kOk
                                                                        : ErrorCode::kNoAuth;
    if (rc != ErrorCode::kOk) {
      wire::MultiHeader{-1, false, static_cast<int32_t>(rc)}.write(w);
      w.int32(static_cast<int32_t>(rc));
      continue;
    }
    wire::MultiHeader{mh.type, false, 0}.write(w);
    if (op == OpCode::kGetData) {
      write_data(w, *n);
      n->stat().write(w);
    } else {
      w.int32(static_cast<int32_t>(n->children.size()));
      for (const auto& c : n->children) w.string(c);
    }
  }
  wire::MultiHeader{-1, true, -1}.write(w);
  reply(link, h.xid, ErrorCode::kOk, [&](wire::JuteWriter& out) { out.raw(body); });
}

void ServerCore::handle_auth(ClientLink& link, wire::JuteReader& r) {
  auto pkt = wire::AuthPacket::read(r);
  // As DigestAuthenticationProvider: any text is accepted ("user" alone digests
  // to "user:base64(sha1(user))"), so a digest auth never fails.
  if (pkt.scheme == "digest") {
    std::string digest = tree::digest_of(pkt.auth);
    if (!config_.super_digest.empty() && digest == config_.super_digest)
      link.auth.push_back({"super", ""});
    wire::Id id{"digest", digest};
    if (std::find(link.auth.begin(), link.auth.end(), id) == link.auth.end())
      link.auth.push_back(id);
    return reply_error(link, wire::kAuthXid, ErrorCode::kOk);
  }
  if (pkt.scheme == "ip") return reply_error(link, wire::kAuthXid, ErrorCode::kOk);
  spdlog::info("auth failed for {} with scheme '{}'", link.address, pkt.scheme);
  reply_error(link, wire::kAuthXid, ErrorCode::kAuthFailed);
  link.closing = true;
  link.close();
}

void ServerCore::handle_set_watches(ClientLink& link, const wire::RequestHeader& h,
                                    wire::JuteReader& r) {
  bool v2 = static_cast<OpCode>(h.type) == OpCode::kSetWatches2;
  auto req = wire::SetWatchesRequest::read(r, v2);
  using wire::EventType;
  for (const auto& p : req.data_watches) {
    const tree::Node* n = tree_.find(p);
    if (!n)
      notify(link.id, EventType::kNodeDeleted, p);
    else if (n->mzxid > req.relative_zxid)
      notify(link.id, EventType::kNodeDataChanged, p);
    else
      watches_.add_data_watch(p, link.id);
  }
  for (const auto& p : req.exist_watches) {
    if (tree_.find(p))
      notify(link.id, EventType::kNodeCreated, p);
    else
      watches_.add_data_watch(p, link.id);
  }
  for (const auto& p : req.child_watches) {
    const tree::Node* n = tree_.find(p);
    if (!n)
      notify(link.id, EventType::kNodeDeleted, p);
    else if (n->pzxid > req.relative_zxid)
      notify(link.id, EventType::kNodeChildrenChanged, p);
    else
      watches_.add_child_watch(p, link.id);
  }
  for (const auto& p : req.persistent_watches) watches_.add_persistent(p, link.id, false);
  for (const auto& p : req.persistent_recursive_watches) watches_.add_persistent(p, link.id, true);
  reply_error(link, h.xid, ErrorCode::kOk);
}

}  // namespace corral::server
