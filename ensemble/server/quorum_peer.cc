#include "ensemble/server/quorum_peer.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <chrono>
#include <set>

#include "ensemble/server/network_server.h"
#include "ensemble/server/quorum_security.h"
#include "ensemble/server/tls_context.h"
#include "ensemble/storage/state_image.h"
#include "ensemble/txn/txn_codec.h"

namespace corral::server {

using zab::PeerState;

zab::PeerConfig peer_config(const ServerConfig& config) {
  zab::PeerConfig pc;
  pc.encode_txn = txn::encode_txn;
  pc.my_id = config.my_id;
  for (const auto& s : config.servers) {
    bool observer = s.observer || (s.id == config.my_id && config.peer_type == PeerType::observer);
    pc.members.push_back({s.id, !observer});
  }
  pc.tick_ms = config.tick_ms;
  pc.init_limit = config.init_limit;
  pc.sync_limit = config.sync_limit;
  pc.reconfig_enabled = config.reconfig_enabled;
  return pc;
}

namespace {

std::vector<MeshPeer> mesh_peers(const ServerConfig& config, bool election) {
  std::vector<MeshPeer> out;
  for (const auto& s : config.servers)
    out.push_back(
        {s.id, s.host, static_cast<uint16_t>(election ? s.election_port : s.quorum_port)});
  return out;
}

// A vote is a few dozen bytes: more on the election port is not a member's.
constexpr size_t kElectionFrameBytes = 64 * 1024;

const char* state_name(PeerState s) {
  switch (s) {
    case PeerState::kLeading:
      return "leading";
    case PeerState::kFollowing:
      return "following";
    case PeerState::kObserving:
      return "observing";
    default:
      return "looking";
  }
}

}  // namespace

int64_t QuorumPeer::steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

QuorumPeer::QuorumPeer(asio::io_context& io, ServerCore& core, storage::StorageThread& storage,
                       zab::PeerHistory history, std::string config_path)
    : io_(io),
      core_(core),
      storage_(storage),
      config_path_(std::move(config_path)),
      config_(peer_config(core.config())),
      peer_(config_, std::move(history), steady_ms()),
      timer_(io),
      // A DIFF's frame stays within the quorum frame limit (a SNAP's parts are 1 MiB).
      snapshot_streams_(io, snapshot_mesh(), storage.database_path(),
                        std::min(size_t{256} << 20,
                                 static_cast<size_t>(core.config().quorum_max_frame_bytes) / 2)),
      not_serving_since_ms_(steady_ms()) {
  peer_.set_snapshot_source([this] {
    std::vector<storage::SessionRow> sessions;
    for (const auto& [id, s] : core_.sessions().sessions())
      sessions.push_back({id, s.timeout_ms, s.passwd});
    spdlog::info("sending a snapshot of {} nodes at zxid 0x{:x}", core_.tree().node_count(),
                 core_.tree().last_zxid());
    try {
      return snapshot_streams_.start(core_.tree(), sessions);
    } catch (const std::system_error& e) {
      // No process to write it: the image is made here, and the leader waits for it.
      spdlog::warn("cannot stream the snapshot ({}): making it on the leader's thread", e.what());
      storage::StateImage image = storage::capture_image(core_.tree(), std::move(sessions));
      return std::make_shared<const zab::SnapshotData>(
          zab::SnapshotData{image.zxid, storage::encode_image(image)});
    }
  });
  try {
    log_reader_ = storage::Database::open_reader(storage_.database_path());
    peer_.set_log_floor([this](int64_t zxid) -> std::optional<int64_t> {
      try {
        return log_reader_->log_floor(zxid);
      } catch (const storage::StorageError& e) {
        spdlog::warn("cannot read the txn log for a DIFF ({}): a SNAP instead", e.what());
        return std::nullopt;
      }
    });
  } catch (const storage::StorageError& e) {
    spdlog::warn(
        "no reader of the txn log ({}): learners behind the history in memory get a "
        "SNAP",
        e.what());
  }
  auto handlers = [this](bool quorum) {
    PeerMesh::Handlers h;
    h.frame = [this, quorum](int64_t from, std::string_view body) { on_frame(from, body, quorum); };
    if (quorum)
      h.disconnected = [this](int64_t peer) {
        snapshot_streams_.drop(peer);
        peer_.disconnected(peer, steady_ms());
        drive();
      };
    else
      h.disconnected = [](int64_t) {};
    return h;
  };
  // With reconfigEnabled, servers outside the config (joiners, removed members) are let in as
  // guests, and the meshes follow the configs from start() on.
  const MeshGuests guests{config_.reconfig_enabled, 16,
                          std::chrono::milliseconds(config_.tick_ms * config_.init_limit)};
  election_mesh_ = std::make_unique<PeerMesh>(io_, config_.my_id, mesh_peers(core.config(), true),
                                              handlers(false), kElectionFrameBytes, guests);
  quorum_mesh_ = std::make_unique<PeerMesh>(
      io_, config_.my_id, mesh_peers(core.config(), false), handlers(true),
      static_cast<size_t>(core.config().quorum_max_frame_bytes), guests);
}

void QuorumPeer::start() {
  looking_since_ms_ = steady_ms();
  if (peer_.abstaining()) log_abstention(true);
  secure_meshes();
  // A vote sent while a connection is still being made must not be lost: a server that
  // misses a better vote may decide on its own and lead nobody until initLimit.
  election_mesh_->keep_last_unsent();
  if (config_.reconfig_enabled) {
    // The config chosen at start-up may be newer than zoo.cfg's server.N lines.
    election_mesh_->set_members(mesh_members(true));
    quorum_mesh_->set_members(mesh_members(false));
  }
  election_mesh_->start();
  quorum_mesh_->start();
  drive();
  schedule_tick();
}

void QuorumPeer::secure_meshes() {
  const ServerConfig& config = core_.config();
  // Every vote and ZAB message arrives over these meshes: with authentication or TLS on,
  // nothing from a connection counts before its handshake proved it is a member.
  PeerAuthSettings auth = quorum_auth_settings(config);
  election_mesh_->authenticate(auth, "election");
  quorum_mesh_->authenticate(std::move(auth), "quorum");
  if (config.ssl_quorum) {
    tls_server_.emplace(make_tls_server_context(config.quorum_tls));
    tls_client_.emplace(make_tls_client_context(config.quorum_tls));
    for (PeerMesh* mesh : {election_mesh_.get(), quorum_mesh_.get()})
      mesh->use_tls(*tls_server_, *tls_client_, config.quorum_tls.hostname_verification);
    spdlog::info("sslQuorum: quorum and election connections use TLS (trust store {})",
                 config.quorum_tls.truststore_location);
  }
  const auto limit = static_cast<size_t>(config.quorum_send_queue_max_bytes);
  election_mesh_->limit_queue(limit);
  quorum_mesh_->limit_queue(limit);
}

void QuorumPeer::stop() {
  stopped_ = true;
  timer_.cancel();
  snapshot_streams_.clear();
  election_mesh_->stop();
  quorum_mesh_->stop();
}

void QuorumPeer::schedule_tick() {
  // Fine-grained: the election's finalize wait (50 ms) and resends should not
  // be rounded up to a coarse tick.
  constexpr auto kTick = std::chrono::milliseconds(5);
  timer_.expires_after(kTick);
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    tick();
    schedule_tick();
  });
}

void QuorumPeer::tick() {
  int64_t now = steady_ms();
  peer_.tick(now);
  drive();
  // Learners tell the leader which sessions are alive here (ZooKeeper sends them with pings).
  if (peer_.serving() && peer_.state() != PeerState::kLeading &&
      now - last_touch_report_ms_ >= config_.tick_ms / 2) {
    last_touch_report_ms_ = now;
    zab::Relay touch;
    touch.kind = zab::RelayKind::kTouch;
    touch.sessions = core_.take_touched_sessions();
    if (!touch.sessions.empty()) send_relay(peer_.leader(), std::move(touch));
  }
}

void QuorumPeer::on_frame(int64_t from, std::string_view body, bool quorum) {
  auto frame = zab::decode_frame(body);
  if (!frame && quorum) {
    // Skipping it would leave a hole in the ZAB stream (a SYNC, PROPOSAL or COMMIT): a
    // learner would then ack NEWLEADER without the history. ZooKeeper's Learner and
    // LearnerHandler also end the connection on a packet they cannot read.
    return drop_member(from, "sent a quorum frame that does not decode");
  }
  if (!frame) {
    spdlog::warn("dropping a malformed election frame from server {}", from);
    return;
  }
  int64_t now = steady_ms();
  if (auto* n = std::get_if<zab::Notification>(&*frame)) {
    n->from = from;
    peer_.step_election(*n, now);
  } else if (auto* m = std::get_if<zab::Message>(&*frame)) {
    m->from = from;
    if (m->type == zab::MessageType::kSync && m->snapshot && m->snapshot->streamed) {
      // Its image came ahead in parts; none arrived whole: the SNAP does not decode.
      auto bytes = incoming_snapshot_.take(from, m->snapshot->zxid);
      m->snapshot = std::make_shared<const zab::SnapshotData>(
          zab::SnapshotData{m->snapshot->zxid, bytes ? std::move(*bytes) : std::string()});
    }
    if (!accept_snapshot(*m)) return;
    peer_.step(*m, now);
  } else {
    auto& r = std::get<zab::Relay>(*frame);
    r.from = from;
    on_relay(r);
    return drive_soon();
  }
  drive();
  // A SNAP the core did not take (it refused the message). Inside an outer drive() the
  // Ready holding it is still to be acted on.
  if (!driving_) forget_snapshot(std::move(decoded_snapshot_));
}

void QuorumPeer::on_relay(const zab::Relay& r) {
  bool leading = leads();
  bool to_leader = r.kind == zab::RelayKind::kRequest || r.kind == zab::RelayKind::kTouch ||
                   r.kind == zab::RelayKind::kSyncRequest || r.kind == zab::RelayKind::kRevalidate;
  if (to_leader && !leading && peer_.state() == PeerState::kLeading) {
    // Leading but not ready yet (the epoch's first commits are still being applied): a
    // write prepared now would not see them.
    early_relays_.push_back(r);
    return;
  }
  switch (r.kind) {
    case zab::RelayKind::kRequest:
      if (leading) core_.on_forwarded(r, NetworkServer::now_ms());
      return;
    case zab::RelayKind::kTouch:
      if (leading) core_.touch_sessions(r.sessions, NetworkServer::now_ms());
      return;
    case zab::RelayKind::kSyncRequest:
      if (leading)
        start_leader_sync([this, to = r.from, id = r.id](int64_t zxid) {
          zab::Relay reply;
          reply.kind = zab::RelayKind::kSyncReply;
          reply.id = id;
          reply.zxid = zxid;
          send_relay(to, std::move(reply));
        });
      return;
    case zab::RelayKind::kSyncReply:
      if (auto it = learner_syncs_.find(r.id); it != learner_syncs_.end()) {
        auto done = std::move(it->second);
        learner_syncs_.erase(it);
        done(r.zxid);
      }
      return;
    case zab::RelayKind::kConfirm:
      if (peer_.state() == PeerState::kFollowing && peer_.leader() == r.from) {
        zab::Relay ack;
        ack.kind = zab::RelayKind::kConfirmAck;
        ack.id = r.id;
        send_relay(r.from, std::move(ack));
      }
      return;
    case zab::RelayKind::kConfirmAck:
      if (!leading) return;
      confirmed_round_[r.from] = std::max(confirmed_round_[r.from], r.id);
      check_leader_syncs();
      return;
    case zab::RelayKind::kRevalidate:
      if (leading) answer_revalidate(r);
      return;
    case zab::RelayKind::kSnapshotChunk:
      // Only the leader's, and no more than a SNAP in one frame could hold.
      if ((peer_.state() == PeerState::kFollowing || peer_.state() == PeerState::kObserving) &&
          r.from == peer_.leader() &&
          incoming_snapshot_.add(r.from, r.zxid, r.id, r.body,
                                 static_cast<size_t>(core_.config().quorum_max_frame_bytes)))
        peer_.snapshot_progress(steady_ms());  // a part dropped is no progress
      return;
    case zab::RelayKind::kRevalidateReply:
      if (auto it = learner_revalidations_.find(r.id); it != learner_revalidations_.end()) {
        auto done = std::move(it->second);
        learner_revalidations_.erase(it);
        done(r.valid, r.zxid);
      }
      return;
  }
}

void QuorumPeer::answer_revalidate(const zab::Relay& r) {
  zab::Relay reply;
  reply.kind = zab::RelayKind::kRevalidateReply;
  reply.id = r.id;
  reply.valid = core_.revalidate_session(r.session_id, r.passwd, NetworkServer::now_ms());
  // Every txn up to here was applied, so its COMMIT or INFORM went out to the learner before
  // this reply on the same connection.
  reply.zxid = core_.last_zxid();
  spdlog::info("session 0x{:x} revalidated for server {}: {}", r.session_id, r.from,
               reply.valid ? "valid" : "invalid");
  send_relay(r.from, std::move(reply));
}

void QuorumPeer::propose(tree::Txn txn) {
  if (!peer_.propose(std::move(txn), steady_ms()))
    spdlog::warn("cannot propose: this server no longer leads");
  drive_soon();
}

void QuorumPeer::drive_soon() {
  // Driven once for a burst: the writes of one read from a client or of one read of forwarded
  // writes (and of the handlers ready with it) go to each learner as one PROPOSAL and to the
  // log as one batch.
  if (drive_posted_) return;
  drive_posted_ = true;
  asio::post(io_, [this] {
    drive_posted_ = false;
    if (!stopped_) drive();
  });
}

void QuorumPeer::forward(zab::Relay request) { send_relay(peer_.leader(), std::move(request)); }

void QuorumPeer::sync(std::function<void(int64_t zxid)> done) {
  if (leads()) return start_leader_sync(std::move(done));
  int64_t id = ++next_sync_id_;
  learner_syncs_[id] = std::move(done);
  zab::Relay request;
  request.kind = zab::RelayKind::kSyncRequest;
  request.id = id;
  send_relay(peer_.leader(), std::move(request));
}

bool QuorumPeer::revalidate(int64_t session_id, std::string passwd,
                            std::function<void(bool valid, int64_t zxid)> done) {
  zab::Relay request;
  request.kind = zab::RelayKind::kRevalidate;
  request.id = ++next_revalidation_id_;
  request.session_id = session_id;
  request.passwd = std::move(passwd);
  if (!send_relay(peer_.leader(), std::move(request))) return false;
  learner_revalidations_[next_revalidation_id_] = std::move(done);
  return true;
}

void QuorumPeer::start_leader_sync(std::function<void(int64_t)> done) {
  // Every proposal made so far commits before the sync is answered, and a quorum
  // must confirm this server still leads: a deposed leader cannot answer.
  LeaderSync s{++confirm_round_, peer_.last_appended_zxid(), std::move(done)};
  leader_syncs_.push_back(std::move(s));
  for (int64_t f : peer_.synced_followers()) {
    zab::Relay confirm;
    confirm.kind = zab::RelayKind::kConfirm;
    confirm.id = confirm_round_;
    send_relay(f, std::move(confirm));
  }
  check_leader_syncs();
}

void QuorumPeer::check_leader_syncs() {
  while (!leader_syncs_.empty()) {
    const LeaderSync& s = leader_syncs_.front();
    // Quorums as the core counts them: of the active config, and of a pending one too.
    std::set<int64_t> confirmed{config_.my_id};
    for (const auto& [id, round] : confirmed_round_)
      if (round >= s.round) confirmed.insert(id);
    if (!peer_.confirms(confirmed)) return;
    auto done = std::move(leader_syncs_.front().done);
    int64_t zxid = s.zxid;
    leader_syncs_.pop_front();
    done(zxid);
  }
}

bool QuorumPeer::read_only() const {
  // ZooKeeper starts its read-only server only after max(2 s, tickTime) outside a
  // quorum, so a quick election does not bounce clients to read-only sessions.
  int64_t grace = std::max<int64_t>(2000, config_.tick_ms);
  return core_.config().readonly_mode_enabled && !ready_to_serve() &&
         steady_ms() - not_serving_since_ms_ >= grace;
}

std::string QuorumPeer::mode() const {
  switch (peer_.state()) {
    case PeerState::kLeading:
      return "leader";
    case PeerState::kFollowing:
      return "follower";
    case PeerState::kObserving:
      return "observer";
    default:
      return "looking";
  }
}

bool QuorumPeer::send_relay(int64_t to, zab::Relay r) {
  r.from = config_.my_id;
  return quorum_mesh_->send(to, zab::encode_frame(r));
}

void QuorumPeer::drive() {
  if (driving_) return;  // the outer call picks up what this one would have done
  driving_ = true;
  for (;;) {
    zab::Ready ready = peer_.take_ready();
    bool empty = !ready.accepted_epoch && !ready.current_epoch && !ready.abstaining &&
                 !ready.install_snapshot && !ready.truncate_after && !ready.next_config &&
                 !ready.activated && ready.to_log.empty() && ready.messages.empty() &&
                 ready.notifications.empty() && ready.committed.empty() &&
                 ready.dropped_learners.empty();
    if (!empty) {
      act(std::move(ready));
      continue;
    }
    // A new role may take work at once (parked handshakes, early relays) that makes
    // more to do: go round again until nothing changes.
    if (!role_changed()) break;
  }
  driving_ = false;
}

void QuorumPeer::act(zab::Ready ready) {
  if (ready.abstaining) log_abstention(*ready.abstaining);
  for (int64_t learner : ready.dropped_learners) {
    spdlog::warn("server {} stopped counting on learner {} after its limit of silence",
                 config_.my_id, learner);
    snapshot_streams_.drop(learner);  // reset() tells no `disconnected` handler
    quorum_mesh_->reset(learner);
  }
  if (ready.accepted_epoch || ready.current_epoch || ready.abstaining || ready.install_snapshot ||
      ready.truncate_after || ready.next_config || ready.activated)
    persist(ready);
  if (!ready.to_log.empty()) {
    int64_t last = ready.to_log.back()->zxid;
    for (size_t i = 0; i + 1 < ready.to_log.size(); ++i)
      storage_.append(std::move(ready.to_log[i]), {});
    storage_.append(std::move(ready.to_log.back()), [this, last] {
      peer_.logged(last, steady_ms());
      drive();
    });
  }
  auto rest = [this, messages = std::move(ready.messages),
               notifications = std::move(ready.notifications),
               committed = std::move(ready.committed)]() mutable {
    // Made from a state found wrong since (an ACK or ACKNEWLEADER for txns now dropped):
    // the core's newer Readies say what to send.
    if (!diverged_) send_all(std::move(messages), std::move(notifications));
    apply_committed(committed);
  };
  if (barriers_ == 0) return rest();
  // Sent and applied only once the storage work before them is durable, in order with it.
  // This deferred step is itself a barrier until it has run: a later Ready must not send
  // or apply anything before it (its completion is a separate handler from the storage
  // job's, and other events can run in between).
  ++barriers_;
  storage_.when_done([this, rest = std::make_shared<decltype(rest)>(std::move(rest))] {
    (*rest)();
    --barriers_;
    drive();
  });
}

void QuorumPeer::send_all(std::vector<zab::Message> messages,
                          std::vector<std::pair<int64_t, zab::Notification>> notifications) {
  for (const auto& [to, n] : notifications) election_mesh_->send(to, zab::encode_frame(n));
  for (auto& m : messages) {
    if (SnapshotStreams::long_sync(m))
      snapshot_streams_.send_long_sync(m.to, std::move(m));
    else
      snapshot_streams_.send(m.to, m, zab::encode_frame(m));
  }
}

SnapshotStreams::Mesh QuorumPeer::snapshot_mesh() {
  return {[this](int64_t to, std::string body) { return quorum_mesh_->send(to, std::move(body)); },
          [this](int64_t to) { return quorum_mesh_->queued_bytes(to); },
          [this](int64_t learner, const std::string& why) {
            spdlog::warn("server {} gives up syncing learner {}: {}", config_.my_id, learner, why);
            quorum_mesh_->reset(learner);  // the stream ended already
          },
          [this](int64_t learner) { peer_.log_diff_failed(learner); }};
}

void QuorumPeer::stop_serving_after_barriers() {
  auto stop = [this] {
    core_.stop_serving();
    leader_syncs_.clear();
    learner_syncs_.clear();
    learner_revalidations_.clear();
    confirmed_round_.clear();
  };
  if (barriers_ == 0) return stop();
  // Txns committed before the role changed (a reconfig's hand-off) still wait behind the
  // config's storage: their clients' replies are written before the connections close, and
  // a graceful close flushes them. Nothing serves meanwhile (a new role waits for barriers).
  ++barriers_;
  storage_.when_done([this, stop] {
    stop();
    --barriers_;
    drive();
  });
}

bool QuorumPeer::role_changed() {
  bool serving = ready_to_serve();
  PeerState state = peer_.state();
  bool role_moved = state != last_state_ || peer_.leader() != last_leader_;
  if (serving == was_serving_ && !role_moved) return false;
  spdlog::info("server {} is {}{} in epoch {} (leader {}, last zxid 0x{:x})", config_.my_id,
               state_name(state), serving ? " and serving" : "", peer_.current_epoch(),
               peer_.leader(), peer_.last_logged_zxid());
  // A role that changes without an election round is a reconfig's hand-off: the old leader's
  // COMMIT naming the designated leader may still wait behind the config's storage, and every
  // member moves to that leader on its own, so no connection is cut.
  bool handed_off = state != PeerState::kLooking && last_state_ != PeerState::kLooking;
  if (role_moved && last_state_ != PeerState::kLooking && !handed_off) {
    // Closing the quorum connections tells the other side at once (as ZooKeeper's closed
    // learner sockets do): a former leader's learners, or a learner's former leader, stop
    // counting on this server now rather than after syncLimit ticks of silence.
    if (last_state_ == PeerState::kLeading)
      quorum_mesh_->reset_all();
    else
      quorum_mesh_->reset(last_leader_);
  }
  if (peer_.leader() != last_leader_) incoming_snapshot_.clear();
  last_leader_ = peer_.leader();
  if (serving != was_serving_ || (was_serving_ && state != last_state_)) {
    // Every session moves elsewhere when the server leaves a quorum, and read-only
    // sessions end when it rejoins one.
    if (!serving) not_serving_since_ms_ = steady_ms();
    stop_serving_after_barriers();
  }
  bool started_serving = serving && !was_serving_;
  if (started_serving) serving_since_ms_ = steady_ms();
  if (state == PeerState::kLooking && last_state_ != PeerState::kLooking) {
    looking_since_ms_ = steady_ms();
  } else if (state != PeerState::kLooking && last_state_ == PeerState::kLooking) {
    core_.stats().election_ms.add(static_cast<double>(steady_ms() - looking_since_ms_));
  }
  if (serving && state == PeerState::kLeading && !(was_serving_ && last_state_ == state))
    core_.restart_session_timeouts(NetworkServer::now_ms());
  was_serving_ = serving;
  last_state_ = state;
  if (started_serving) core_.resume_parked_handshakes(NetworkServer::now_ms());
  if (state != PeerState::kLeading) {
    early_relays_.clear();  // their clients' connections to learners closed meanwhile
    snapshot_streams_.clear();
  } else if (serving) {
    auto early = std::move(early_relays_);
    early_relays_.clear();
    for (const auto& r : early) on_relay(r);
  }
  return true;
}

}  // namespace corral::server
