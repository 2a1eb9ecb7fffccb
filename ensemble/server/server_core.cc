#include "ensemble/server/server_core.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ensemble/tree/acl.h"

namespace corral::server {

using wire::ErrorCode;
using wire::OpCode;

std::string start_frame() { return std::string(4, '\0'); }

std::string finish_frame(std::string frame) {
  wire::JuteWriter w(frame);
  w.patch_int32(0, static_cast<int32_t>(frame.size() - 4));
  return frame;
}

ServerCore::ServerCore(ServerConfig config, int64_t now_ms)
    : config_(std::move(config)),
      prep_(tree_, config_.extended_types_enabled, config_.skip_acl),
      sessions_(config_.my_id, now_ms),
      started_ms_(now_ms),
      next_container_check_ms_(now_ms + config_.container_check_interval_ms) {}

void ServerCore::attach(ClientLink& link, int64_t now_ms) {
  links_[link.id] = &link;
  link.auth.push_back({"ip", link.address});
  link.established_ms = now_ms;
}

void ServerCore::detach(ClientLink& link) {
  parked_.erase(link.id);
  sasl_exchanges_.erase(link.id);
  throttled_.erase(link.id);
  // Nothing releases a detached link's held frames: they stop counting now.
  held_total_ -= link.held_frames.size();
  link.held_frames.clear();
  link.held_barriers = 0;
  watches_.remove_watcher(link.id);
  links_.erase(link.id);
  auto it = session_links_.find(link.session_id);
  if (it != session_links_.end() && it->second == &link) session_links_.erase(it);
}

namespace {

bool is_write(int32_t type) { return wire::is_write(static_cast<OpCode>(type)); }

// The opcode of a request frame, or 0 when it is too short to have one.
int32_t peek_type(std::string_view payload) {
  if (payload.size() < 8) return 0;
  wire::JuteReader r(payload.substr(4, 4));
  return r.int32();
}

}  // namespace

void ServerCore::on_frame(ClientLink& link, std::string_view payload, int64_t now_ms) {
  if (link.closing) return;
  last_now_ms_ = now_ms;
  ++stats_.packets_received;
  ++link.packets_received;
  if (link.session_id != 0) {
    sessions_.touch(link.session_id, now_ms);
    if (replication_) touched_.insert(link.session_id);
  }
  bool writes_pending = link.writes_completed < link.writes_submitted;
  bool handshaking = link.session_id == 0;
  int32_t type = handshaking ? 0 : peek_type(payload);
  // Writes pipeline behind earlier writes (they complete in zxid order) and may pass reads
  // held for those writes: release_held answers such reads, whatever the output, before any
  // later write is applied. Not reads held only for room in the output (the front frame's
  // writes are done): the later write could then be answered before them.
  bool may_pass =
      !handshaking && is_write(type) && link.held_barriers == 0 &&
      (link.held_frames.empty() || link.held_frames.front().after_writes > link.writes_completed);
  if (!may_pass && (writes_pending || !link.held_frames.empty())) {
    // setAuth and SASL change the identities the requests after them are checked with.
    bool barrier = handshaking || static_cast<OpCode>(type) == OpCode::kAuth ||
                   static_cast<OpCode>(type) == OpCode::kSasl;
    link.held_frames.push_back({std::string(payload), link.writes_submitted, barrier});
    ++held_total_;
    if (barrier) ++link.held_barriers;
    return;
  }
  process(link, payload, now_ms);
}

void ServerCore::process(ClientLink& link, std::string_view payload, int64_t now_ms) {
  if (link.session_id == 0) {
    handshake(link, payload, now_ms);
    return;
  }
  wire::JuteReader r(payload);
  wire::RequestHeader h = wire::RequestHeader::read(r);
  link.last_cxid = h.xid;
  link.request_started_ms.push_back(now_ms);
  dispatch(link, h, r, now_ms);
}

uint64_t ServerCore::outstanding_of(const ClientLink& link) {
  return link.held_frames.size() + (link.writes_submitted - link.writes_completed);
}

bool ServerCore::accepts(const ClientLink& link) {
  uint64_t own = outstanding_of(link);
  // Under its own limit the link's answers wake it (write_done).
  if (own >= static_cast<uint64_t>(config_.connection_outstanding_limit)) return false;
  if (own == 0 || global_outstanding() < static_cast<uint64_t>(config_.global_outstanding_limit))
    return true;
  throttled_.insert(link.id);
  return false;
}

void ServerCore::wake_throttled() {
  if (throttled_.empty() ||
      global_outstanding() >= static_cast<uint64_t>(config_.global_outstanding_limit))
    return;
  std::unordered_set<uint64_t> woken;
  woken.swap(throttled_);
  for (uint64_t id : woken)
    if (ClientLink* link = link_of(id); link && !link->closing) link->wake();
}

void ServerCore::resume_held(ClientLink& link, int64_t now_ms) {
  last_now_ms_ = now_ms;
  release_held(link, now_ms);
  wake_throttled();
}

void ServerCore::release_held(ClientLink& link, int64_t now_ms) {
  // The loop in progress sees whatever a nested call would have released.
  if (link.releasing_held) return;
  link.releasing_held = true;
  while (!link.closing && !link.held_frames.empty()) {
    ClientLink::HeldFrame& next = link.held_frames.front();
    // With nothing held before it, a write pipelines behind the pending ones.
    bool pipelines = link.session_id != 0 && is_write(peek_type(next.payload));
    if (!pipelines && next.after_writes > link.writes_completed) break;
    // A frame a later write has passed must be answered before that write is: only the
    // others wait while the output or the server's budget is full (the link resumes us).
    bool passed = next.after_writes < link.writes_submitted;
    if (!passed && !link.may_answer()) break;
    ClientLink::HeldFrame held = std::move(next);
    link.held_frames.pop_front();
    --held_total_;
    if (held.barrier) --link.held_barriers;
    uint64_t submitted = link.writes_submitted;
    try {
      process(link, held.payload, now_ms);
    } catch (const wire::DecodeError&) {
      link.closing = true;
      link.close();
    }
    // A write released from the queue comes before everything still held in it.
    if (link.writes_submitted != submitted)
      for (auto& f : link.held_frames)
        f.after_writes = std::max(f.after_writes, link.writes_submitted);
  }
  link.releasing_held = false;
}

uint64_t ServerCore::outstanding_requests() const {
  uint64_t n = 0;
  for (const auto& [id, link] : links_)
    n += link->held_frames.size() + (link->writes_submitted - link->writes_completed);
  return n;
}

ClientLink* ServerCore::link_of(uint64_t id) {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second;
}

void ServerCore::write_done(uint64_t link_id, const std::function<void(ClientLink&)>& respond) {
  ClientLink* link = link_of(link_id);
  if (!link) return;
  bool was_full =
      outstanding_of(*link) >= static_cast<uint64_t>(config_.connection_outstanding_limit);
  ++link->writes_completed;
  answering_write_ = true;
  respond(*link);
  answering_write_ = false;
  release_held(*link, last_now_ms_);
  if (was_full && accepts(*link)) link->wake();
  wake_throttled();
}

void ServerCore::restore(int64_t last_zxid, const std::vector<session::Session>& live,
                         int64_t now_ms) {
  zxid_ = last_zxid;
  for (const auto& s : live) sessions_.add(s.id, s.timeout_ms, s.passwd, now_ms);
}

void ServerCore::handshake(ClientLink& link, std::string_view payload, int64_t now_ms) {
  wire::JuteReader r(payload);
  wire::ConnectRequest req = wire::ConnectRequest::read(r);
  int32_t timeout = std::clamp(req.timeout_ms, config_.effective_min_session_timeout_ms(),
                               config_.effective_max_session_timeout_ms());
  if (replication_ && !replication_->serving()) {
    if (replication_->read_only() && req.read_only)
      return read_only_handshake(link, req, timeout, now_ms);
    // A member outside a quorum takes no sessions. Unlike ZooKeeper, which closes the
    // connection at once, it holds the handshake for a moment (see kParkMs): after a
    // leader's crash the election is over before the client would have found a server.
    // The parked handshake counts as a pending write so that later frames wait for it.
    ++link.writes_submitted;
    parked_[link.id] = {std::string(payload), now_ms};
    return;
  }
  if (req.last_zxid_seen > tree_.last_zxid()) {
    spdlog::info("refusing session from {}: it has seen zxid 0x{:x}, ours is 0x{:x}", link.address,
                 req.last_zxid_seen, tree_.last_zxid());
    link.closing = true;
    link.close();
    return;
  }
  if (req.session_id != 0) return reattach(link, req, timeout, now_ms);
  int64_t id = sessions_.next_session_id();
  std::string passwd = session::SessionTracker::new_password();
  ++link.writes_submitted;
  auto then = [this, link_id = link.id, id, timeout, passwd](const tree::ApplyResult&) {
    write_done(link_id, [&](ClientLink& l) { finish_handshake(l, id, timeout, passwd); });
  };
  if (forwards()) {
    zab::Relay request;
    request.kind = zab::RelayKind::kRequest;
    request.session_id = id;
    request.type = static_cast<int32_t>(OpCode::kCreateSession);
    request.timeout_ms = timeout;
    request.passwd = passwd;
    pending_[{id, 0}] = std::move(then);
    replication_->forward(std::move(request));
    return;
  }
  tree::PrepContext ctx{id, 0, take_zxid(), now_ms, &link.auth};
  tree::Txn txn = prep_.prepare_create_session(ctx, timeout);
  txn.session_passwd = passwd;
  commit(std::move(txn), std::move(then));
}

void ServerCore::refuse_session(ClientLink& link) {
  // ZooKeeper answers an invalid reattach with timeout 0, which clients read as expiry.
  finish_handshake(link, 0, 0, std::string(16, '\0'));
  link.closing = true;
  link.close();
}

void ServerCore::finish_handshake(ClientLink& link, int64_t session_id, int32_t timeout_ms,
                                  const std::string& passwd, bool read_only) {
  wire::ConnectResponse rsp{0, timeout_ms, session_id, passwd, read_only};
  link.read_only = read_only;
  std::string frame = start_frame();
  wire::JuteWriter w(frame);
  rsp.write(w);
  ++link.packets_sent;
  ++stats_.packets_sent;
  link.send(finish_frame(std::move(frame)));
  if (session_id == 0) return;
  link.session_id = session_id;
  link.session_timeout_ms = timeout_ms;
  session_links_[session_id] = &link;
}

void ServerCore::dispatch(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                          int64_t now_ms) {
  if (!sessions_.touch(link.session_id, now_ms)) {
    reply_error(link, h.xid, ErrorCode::kSessionExpired);
    link.closing = true;
    link.close();
    return;
  }
  if (link.read_only && refused_when_read_only(static_cast<OpCode>(h.type)))
    return reply_error(link, h.xid, ErrorCode::kNotReadOnly);
  if (is_write(h.type)) return handle_write(link, h, r, now_ms);
  switch (static_cast<OpCode>(h.type)) {
    case OpCode::kPing:
      link.last_op = "PING";
      reply(link, h.xid, ErrorCode::kOk, [](wire::JuteWriter&) {});
      return;
    case OpCode::kCloseSession:
      link.last_op = "CLOS";
      if (link.read_only) {
        // Not replicated: only a local session ends here.
        if (local_sessions_.erase(link.session_id)) sessions_.remove(link.session_id);
        reply_error(link, h.xid, ErrorCode::kOk);
        detach(link);
        link.closing = true;
        link.close();
        return;
      }
      close_session(link.session_id, h.xid, now_ms);
      return;
    case OpCode::kAuth:
      link.last_op = "SETA";
      handle_auth(link, r);
      return;
    case OpCode::kSasl:
      handle_sasl(link, h, r);
      return;
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2:
      link.last_op = "SETW";
      handle_set_watches(link, h, r);
      return;
    case OpCode::kMultiRead:
      link.last_op = "MLTR";
      handle_multi_read(link, h, r);
      return;
    case OpCode::kReconfig:
      handle_reconfig(link, h, r, now_ms);
      return;
    default:
      handle_read(link, h, r);
      return;
  }
}

tree::PrepContext ServerCore::context(ClientLink& link, int32_t cxid, int64_t now_ms) {
  return tree::PrepContext{link.session_id, cxid, take_zxid(), now_ms, &link.auth};
}

int64_t ServerCore::take_zxid() { return replication_ ? replication_->next_zxid() : ++zxid_; }

void ServerCore::commit(tree::Txn txn, std::function<void(const tree::ApplyResult&)> then) {
  if (replication_) {
    if (then) pending_[{txn.session_id, txn.cxid}] = std::move(then);
    replication_->propose(std::move(txn));
    return;
  }
  if (!log_) {
    then(apply(txn));
    return;
  }
  tree::SharedTxn shared = tree::share(std::move(txn));
  ++log_in_flight_;
  log_->append(shared, [this, shared, then = std::move(then)] {
    --log_in_flight_;
    then(apply(*shared));
    wake_throttled();
  });
}

tree::ApplyResult ServerCore::apply(const tree::Txn& txn) {
  tree::ApplyResult result = tree_.apply(txn);
  prep_.applied(txn.zxid);
  ++txns_since_snapshot_;
  if (txn.type == OpCode::kCreateSession)
    sessions_.add(txn.session_id, txn.session_timeout_ms, txn.session_passwd, txn.time_ms);
  if (txn.type == OpCode::kCloseSession) sessions_.remove(txn.session_id);
  for (const auto& t : result.triggers)
    for (const auto& d : watches_.trigger(t.path, t.type))
      notify(d.watcher, d.type, d.path, t.acl.get());
  return result;
}

void ServerCore::notify(uint64_t link_id, wire::EventType type, const std::string& path,
                        const wire::AclList* acl) {
  auto it = links_.find(link_id);
  if (it == links_.end()) return;
  // CVE-2024-23944: as ZooKeeper 3.8.4/3.9.2, an event reaches a watcher only if it may READ
  // under `acl` at the moment the event fires, whatever it could read when it set the watch.
  // The watch that fired is spent either way (trigger() has removed a one-shot one).
  if (acl && !acl_allows(*acl, wire::perms::kRead, it->second->auth)) return;
  std::string frame = start_frame();
  wire::JuteWriter w(frame);
  wire::ReplyHeader{wire::kNotificationXid, -1, 0}.write(w);
  wire::WatcherEvent{static_cast<int32_t>(type),
                     static_cast<int32_t>(wire::KeeperState::kSyncConnected), path}
      .write(w);
  ++it->second->packets_sent;
  ++stats_.packets_sent;
  it->second->send(finish_frame(std::move(frame)));
}

void ServerCore::record_latency(ClientLink& link) {
  if (link.request_started_ms.empty()) return;
  int64_t ms = std::max<int64_t>(0, last_now_ms_ - link.request_started_ms.front());
  link.request_started_ms.pop_front();
  link.last_response_ms = last_now_ms_;
  for (auto* s : {&stats_.min_latency_ms, &link.min_latency_ms})
    if (*s < 0 || ms < *s) *s = ms;
  stats_.max_latency_ms = std::max(stats_.max_latency_ms, ms);
  link.max_latency_ms = std::max(link.max_latency_ms, ms);
  stats_.total_latency_ms += ms;
  link.total_latency_ms += ms;
  link.last_latency_ms = ms;
  ++link.requests_completed;
  ++stats_.requests_completed;
  (answering_write_ ? stats_.update_latency_ms : stats_.read_latency_ms).add(double(ms));
}

void ServerCore::record_response_size(size_t bytes) {
  auto size = static_cast<int64_t>(bytes);
  stats_.last_response_bytes = size;
  if (stats_.min_response_bytes < 0 || size < stats_.min_response_bytes)
    stats_.min_response_bytes = size;
  stats_.max_response_bytes = std::max(stats_.max_response_bytes, size);
}

void ServerCore::reply_error(ClientLink& link, int32_t xid, ErrorCode err) {
  reply(link, xid, err, [](wire::JuteWriter&) {});
}

void ServerCore::close_session(int64_t session_id, std::optional<int32_t> reply_xid,
                               int64_t now_ms) {
  session::Session* s = sessions_.find(session_id);
  if (s) s->closing = true;
  auto owner = session_links_.find(session_id);
  uint64_t link_id = owner == session_links_.end() ? 0 : owner->second->id;
  if (link_id && reply_xid) ++owner->second->writes_submitted;
  auto then = [this, session_id, reply_xid, link_id](const tree::ApplyResult&) {
    ClientLink* link = link_of(link_id);
    if (!link || link->session_id != session_id) return;
    if (reply_xid) {
      ++link->writes_completed;
      reply_error(*link, *reply_xid, ErrorCode::kOk);
    }
    detach(*link);
    link->closing = true;
    link->close();
  };
  if (forwards()) {
    if (!reply_xid) return;  // only the leader expires sessions
    forward(session_id, *reply_xid, OpCode::kCloseSession, {}, {}, std::move(then));
    return;
  }
  tree::PrepContext ctx{session_id, reply_xid.value_or(0), take_zxid(), now_ms, nullptr};
  commit(prep_.prepare_close_session(ctx), std::move(then));
}

void ServerCore::tick(int64_t now_ms) {
  last_now_ms_ = now_ms;
  close_stale_parked(now_ms);
  // In an ensemble only the leader expires sessions and removes unused nodes.
  if (replication_ && !replication_->leads()) return;
  for (int64_t id : sessions_.expire(now_ms)) {
    spdlog::info("session 0x{:x} expired", id);
    close_session(id, std::nullopt, now_ms);
  }
  if (now_ms < next_container_check_ms_) return;
  next_container_check_ms_ = now_ms + config_.container_check_interval_ms;
  std::vector<std::string> candidates(tree_.containers().begin(), tree_.containers().end());
  candidates.insert(candidates.end(), tree_.ttl_nodes().begin(), tree_.ttl_nodes().end());
  for (const auto& path : candidates) delete_if_unused(path, now_ms);
}

void ServerCore::delete_if_unused(const std::string& path, int64_t now_ms) {
  const tree::Node* n = tree_.find(path);
  if (!n || !n->children.empty()) return;
  bool is_ttl = tree::node_kind(n->ephemeral_owner) == tree::NodeKind::kTtl;
  bool due = is_ttl ? now_ms - n->mtime > tree::ttl_of(n->ephemeral_owner) : n->cversion > 0;
  if (!due) return;
  tree::AuthIds server_ids{{"super", ""}};
  tree::PrepContext ctx{0, 0, take_zxid(), now_ms, &server_ids};
  wire::PathVersionRequest req{path, -1};
  commit(prep_.prepare(ctx, tree::WriteOp{OpCode::kDeleteContainer, req}),
         [](const tree::ApplyResult&) {});
}

}  // namespace corral::server
