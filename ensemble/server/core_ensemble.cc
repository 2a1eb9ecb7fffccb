// ServerCore as a member of an ensemble: committed txns coming back from the
// ensemble, forwarded writes, session touches, sync, and state replacement.
#include <spdlog/spdlog.h>

#include "ensemble/server/server_core.h"

namespace corral::server {

using wire::ErrorCode;
using wire::OpCode;

namespace {

// How long a handshake waits for this server to rejoin a quorum before it is closed.
constexpr int64_t kParkMs = 1000;

}  // namespace

void ServerCore::resume_parked_handshakes(int64_t now_ms) {
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& [id, p] : parked) {
    ClientLink* link = link_of(id);
    if (!link || link->closing) continue;
    handshake(*link, p.payload, now_ms);
    // Frames held behind the parked handshake now wait for the session it creates.
    for (auto& f : link->held_frames)
      f.after_writes = std::max(f.after_writes, link->writes_submitted);
    ++link->writes_completed;
    release_held(*link, now_ms);
  }
}

void ServerCore::close_stale_parked(int64_t now_ms) {
  std::vector<uint64_t> stale;
  for (const auto& [id, p] : parked_)
    if (now_ms - p.since_ms >= kParkMs) stale.push_back(id);
  for (uint64_t id : stale) {
    parked_.erase(id);
    if (ClientLink* link = link_of(id)) {
      detach(*link);
      link->closing = true;
      link->close();
    }
  }
}

void ServerCore::apply_committed(const tree::Txn& txn) {
  tree::ApplyResult result = apply(txn);
  auto it = pending_.find({txn.session_id, txn.cxid});
  if (it != pending_.end()) {
    auto then = std::move(it->second);
    pending_.erase(it);
    then(result);
  } else if (txn.type == OpCode::kCloseSession) {
    // Expired by the leader, or closed through another server: its connection here goes.
    close_session_link(txn.session_id);
  }
  while (!applied_waiters_.empty() && applied_waiters_.begin()->first <= tree_.last_zxid()) {
    auto f = std::move(applied_waiters_.begin()->second);
    applied_waiters_.erase(applied_waiters_.begin());
    f();
  }
}

void ServerCore::close_session_link(int64_t session_id) {
  auto it = session_links_.find(session_id);
  if (it == session_links_.end()) return;
  ClientLink* link = it->second;
  detach(*link);
  link->closing = true;
  link->close();
}

bool ServerCore::refused_when_read_only(OpCode type) {
  return wire::is_write(type) || type == OpCode::kSync || type == OpCode::kReconfig;
}

void ServerCore::read_only_handshake(ClientLink& link, const wire::ConnectRequest& req,
                                     int32_t timeout, int64_t now_ms) {
  if (req.session_id != 0) {
    // As ZooKeeper's read-only server: a session of the quorum is not renewed here (the
    // majority may have expired it meanwhile); the connection is closed unanswered and the
    // client tries elsewhere. Sessions this server created read-only may come back.
    if (!local_sessions_.count(req.session_id)) {
      spdlog::info("refusing to renew global session 0x{:x} in read-only mode", req.session_id);
      link.closing = true;
      return link.close();
    }
    session::Session* s = session_with_password(req.session_id, req.passwd);
    if (!s) return refuse_session(link);
    sessions_.touch(req.session_id, now_ms);
    return finish_handshake(link, req.session_id, timeout, s->passwd, true);
  }
  int64_t id = sessions_.next_session_id();
  std::string passwd = session::SessionTracker::new_password();
  sessions_.add(id, timeout, passwd, now_ms);
  local_sessions_.insert(id);
  finish_handshake(link, id, timeout, passwd, true);
}

void ServerCore::forward(int64_t session_id, int32_t cxid, OpCode type, std::string body,
                         const tree::AuthIds& auth,
                         std::function<void(const tree::ApplyResult&)> then) {
  pending_[{session_id, cxid}] = std::move(then);
  zab::Relay request;
  request.kind = zab::RelayKind::kRequest;
  request.session_id = session_id;
  request.cxid = cxid;
  request.type = static_cast<int32_t>(type);
  request.body = std::move(body);
  request.auth = auth;
  replication_->forward(std::move(request));
}

void ServerCore::handle_sync(ClientLink& link, int32_t xid, std::string path) {
  // Counted as a write: the session's later requests wait until it is answered.
  ++link.writes_submitted;
  replication_->sync([this, link_id = link.id, xid, path = std::move(path)](int64_t zxid) {
    when_applied(zxid, [this, link_id, xid, path] {
      write_done(link_id, [&](ClientLink& l) {
        reply(l, xid, ErrorCode::kOk, [&](wire::JuteWriter& w) { w.string(path); });
      });
    });
  });
}

void ServerCore::when_applied(int64_t zxid, std::function<void()> f) {
  if (tree_.last_zxid() >= zxid) return f();
  applied_waiters_.emplace(zxid, std::move(f));
}

void ServerCore::touch_sessions(const std::vector<int64_t>& ids, int64_t now_ms) {
  for (int64_t id : ids) sessions_.touch(id, now_ms);
}

void ServerCore::keep_alive(const ClientLink& link, int64_t now_ms) {
  if (link.session_id == 0 || link.closing) return;
  sessions_.touch(link.session_id, now_ms);
  if (replication_) touched_.insert(link.session_id);
}

std::vector<int64_t> ServerCore::take_touched_sessions() {
  std::vector<int64_t> out(touched_.begin(), touched_.end());
  touched_.clear();
  return out;
}

void ServerCore::restart_session_timeouts(int64_t now_ms) {
  // A closeSession forwarded to the old leader may be lost with it (found by tests/nemesis:
  // the session then never expired and its ephemerals stayed forever).
  sessions_.reopen_all();
  std::vector<int64_t> ids;
  for (const auto& [id, s] : sessions_.sessions()) ids.push_back(id);
  for (int64_t id : ids) sessions_.touch(id, now_ms);
  next_container_check_ms_ = now_ms + config_.container_check_interval_ms;
}

void ServerCore::stop_serving() {
  std::vector<ClientLink*> all;
  for (const auto& [id, link] : links_) all.push_back(link);
  for (ClientLink* link : all) {
    if (parked_.count(link->id)) continue;  // still waiting for a quorum
    detach(*link);
    link->closing = true;
    link->close();
  }
  pending_.clear();
  applied_waiters_.clear();
  touched_.clear();
  for (int64_t id : local_sessions_) sessions_.remove(id);
  local_sessions_.clear();
  // Proposals this server prepared as leader may never commit.
  prep_.applied(INT64_MAX);
}

void ServerCore::install_config(zab::QuorumConfig config, int64_t now_ms, bool set_node) {
  if (set_node) tree_.set_config_node(config.text(), config.version, now_ms);
  quorum_config_ = std::move(config);
}

void ServerCore::replace_state(tree::DataTree tree, const std::vector<session::Session>& live,
                               int64_t now_ms) {
  stop_serving();
  tree_ = std::move(tree);
  tree_.set_change_listener(tree_listener_);
  sessions_ = session::SessionTracker(config_.my_id, now_ms);
  for (const auto& s : live) sessions_.add(s.id, s.timeout_ms, s.passwd, now_ms);
  ++state_generation_;
  // A SNAP carries the leader's copy of the node; each member shows its own config.
  if (quorum_config_)
    tree_.set_config_node(quorum_config_->text(), quorum_config_->version, now_ms);
  spdlog::info("state replaced: {} nodes, {} sessions, zxid 0x{:x}", tree_.node_count(),
               live.size(), tree_.last_zxid());
}

}  // namespace corral::server
