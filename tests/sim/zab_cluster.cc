#include "tests/sim/zab_cluster.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace corral::sim {
namespace {

using zab::MessageType;
using zab::PeerState;

constexpr size_t kRecentTraceLines = 80;
constexpr size_t kMaxViolations = 10;

}  // namespace

SimTxn to_sim(const tree::Txn& t) {
  SimTxn s;
  s.zxid = t.zxid;
  if (!t.ops.empty()) {
    s.path = t.ops.front().path;
    s.data = t.ops.front().data;
  }
  return s;
}

tree::Txn to_txn(const SimTxn& s) {
  tree::Txn t;
  t.zxid = s.zxid;
  t.type = wire::OpCode::kCreate;
  tree::TxnOp op;
  op.type = wire::OpCode::kCreate;
  op.path = s.path;
  op.data = s.data;
  if (s.path == zab::kConfigNode) {
    t.type = wire::OpCode::kReconfig;
    op.type = wire::OpCode::kSetData;
    op.version = -1;
  }
  t.ops.push_back(std::move(op));
  return t;
}

/// The snapshot of a peer's applied state: "zxid path size data" per txn (a
/// config's text has line breaks).
std::string encode_state(const std::vector<SimTxn>& txns) {
  std::string out;
  for (const auto& t : txns)
    out += std::to_string(t.zxid) + " " + t.path + " " + std::to_string(t.data.size()) + " " +
           t.data + "\n";
  return out;
}

std::vector<SimTxn> decode_state(const std::string& bytes) {
  std::vector<SimTxn> out;
  std::istringstream in(bytes);
  SimTxn t;
  size_t size = 0;
  while (in >> t.zxid >> t.path >> size) {
    in.get();  // the space before the data
    t.data.assign(size, '\0');
    in.read(t.data.data(), static_cast<std::streamsize>(size));
    out.push_back(t);
  }
  return out;
}

/// Whether `log` holds `t` (logs are sorted by zxid).
bool log_holds(const std::vector<SimTxn>& log, size_t len, const SimTxn& t) {
  auto end = log.begin() + static_cast<std::ptrdiff_t>(std::min(len, log.size()));
  auto it = std::lower_bound(log.begin(), end, t.zxid,
                             [](const SimTxn& a, int64_t z) { return a.zxid < z; });
  return it != end && *it == t;
}

const char* peer_state_name(PeerState s) {
  switch (s) {
    case PeerState::kLooking:
      return "LOOKING";
    case PeerState::kFollowing:
      return "FOLLOWING";
    case PeerState::kLeading:
      return "LEADING";
    case PeerState::kObserving:
      return "OBSERVING";
  }
  return "?";
}

const char* message_type_name(MessageType t) {
  switch (t) {
    case MessageType::kFollowerInfo:
      return "FOLLOWERINFO";
    case MessageType::kLeaderInfo:
      return "LEADERINFO";
    case MessageType::kAckEpoch:
      return "ACKEPOCH";
    case MessageType::kSync:
      return "SYNC";
    case MessageType::kNewLeader:
      return "NEWLEADER";
    case MessageType::kAckNewLeader:
      return "ACK(NEWLEADER)";
    case MessageType::kUpToDate:
      return "UPTODATE";
    case MessageType::kProposal:
      return "PROPOSAL";
    case MessageType::kAck:
      return "ACK";
    case MessageType::kCommit:
      return "COMMIT";
    case MessageType::kInform:
      return "INFORM";
    case MessageType::kPing:
      return "PING";
  }
  return "?";
}

const char* sync_mode_name(zab::SyncMode m) {
  switch (m) {
    case zab::SyncMode::kDiff:
      return "DIFF";
    case zab::SyncMode::kTrunc:
      return "TRUNC";
    case zab::SyncMode::kSnap:
      return "SNAP";
  }
  return "?";
}

std::string ids_text(const std::set<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) out += " " + std::to_string(id);
  return out;
}

std::string zxid_text(int64_t zxid) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%llx:%llx", static_cast<unsigned long long>(zxid >> 32),
                static_cast<unsigned long long>(zxid & 0xffffffffll));
  return buf;
}

ZabCluster::ZabCluster(ZabClusterOptions options) : options_(options), rng_(options.seed) {
  const char* t = std::getenv("ZAB_TRACE");
  trace_all_ = t != nullptr && *t != '\0' && *t != '0';
  assert((options_.spares == 0 || options_.reconfig_enabled) && "spares need reconfig");
  zab::QuorumConfig initial;
  for (int i = 1; i <= options_.voters + options_.observers; ++i) {
    const bool voter = i <= options_.voters;
    members_.push_back({i, voter});
    initial.servers[i] =
        sim_server(i, voter ? zab::QuorumRole::kParticipant : zab::QuorumRole::kObserver);
    nodes_[i];
  }
  for (int i = 1; i <= options_.spares; ++i) nodes_[options_.voters + options_.observers + i];
  initial_config_ = current_config_ = std::make_shared<const zab::QuorumConfig>(initial);
  if (options_.reconfig_enabled) config_texts_[0] = initial.text();
}

std::vector<int64_t> ZabCluster::ids() const {
  std::vector<int64_t> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

bool ZabCluster::is_voter(int64_t id) const {
  return current_config_->role_of(id) == zab::QuorumRole::kParticipant;
}

bool ZabCluster::up(int64_t id) const {
  auto it = nodes_.find(id);
  return it != nodes_.end() && it->second.peer != nullptr;
}

const zab::Peer* ZabCluster::peer(int64_t id) const { return nodes_.at(id).peer.get(); }

zab::PeerConfig ZabCluster::config_for(int64_t id) const {
  zab::PeerConfig c;
  c.my_id = id;
  c.members = members_;
  c.tick_ms = options_.tick_ms;
  c.init_limit = options_.init_limit;
  c.sync_limit = options_.sync_limit;
  c.election = options_.election;
  c.history_txns = options_.history_txns;
  if (options_.max_zxid_counter > 0) c.max_zxid_counter = options_.max_zxid_counter;
  c.reconfig_enabled = options_.reconfig_enabled;
  return c;
}

zab::PeerHistory ZabCluster::history_of(int64_t id) const {
  const Node& n = nodes_.at(id);
  const SimStorage& s = n.storage;
  zab::PeerHistory h;
  // As the server's start-up does: the stored active config (else the
  // bootstrap one, its zoo.cfg), and the stored next one if newer.
  h.active = s.active ? s.active : n.bootstrap;
  if (s.next && (!h.active || s.next->version > h.active->version)) h.last_seen = s.next;
  h.accepted_epoch = s.accepted_epoch;
  h.current_epoch = s.current_epoch;
  h.last_zxid = s.log.empty() ? 0 : s.log.back().zxid;
  size_t first = s.snapshot_len;
  if (s.log.size() - first > options_.history_txns) first = s.log.size() - options_.history_txns;
  for (size_t i = first; i < s.log.size(); ++i) h.recent.push_back(to_txn(s.log[i]));
  return h;
}

void ZabCluster::set_storage(int64_t id, SimStorage storage) {
  assert(!up(id));
  nodes_.at(id).storage = std::move(storage);
}

// ---------------------------------------------------------------- lifecycle

void ZabCluster::start(int64_t id) {
  Node& n = nodes_.at(id);
  assert(!n.peer && "start a peer that is down");
  ++n.incarnation;
  n.fsync_scheduled = false;
  // As ZooKeeper does at start-up, every logged txn is applied.
  n.applied = n.storage.log;
  n.vouched = 0;
  n.client_waiting.clear();
  if (options_.reconfig_enabled && !n.bootstrap) {
    // A spare's zoo.cfg lists the ensemble as it is when it first starts.
    n.bootstrap = initial_config_->servers.count(id) ? initial_config_ : current_config_;
  }
  n.peer = std::make_unique<zab::Peer>(config_for(id), history_of(id), now_ms_);
  n.peer->set_snapshot_source([this, id] {
    auto snap = std::make_shared<zab::SnapshotData>();
    const std::vector<SimTxn>& applied = nodes_.at(id).applied;
    snap->zxid = applied.empty() ? 0 : applied.back().zxid;
    snap->bytes = encode_state(applied);
    return std::shared_ptr<const zab::SnapshotData>(std::move(snap));
  });
  if (options_.log_diffs)
    n.peer->set_log_floor([this, id](int64_t zxid) { return log_floor(id, zxid); });
  n.state = n.peer->state();
  n.leader = n.peer->leader();
  n.serving = false;
  n.config_before = n.peer->active_config();
  trace("start " + std::to_string(id) + " (log " + std::to_string(n.storage.log.size()) +
        " txns, last " + zxid_text(n.applied.empty() ? 0 : n.applied.back().zxid) + ", epochs " +
        std::to_string(n.storage.accepted_epoch) + "/" + std::to_string(n.storage.current_epoch) +
        ")");
  if (!tick_scheduled_) {
    tick_scheduled_ = true;
    Event e;
    e.at_ms = now_ms_ + options_.tick_interval_ms;
    e.kind = EventKind::kTick;
    push(e);
  }
  process(id);
}

void ZabCluster::start_all() {
  for (int64_t id : ids())
    if (!up(id)) start(id);
}

void ZabCluster::crash(int64_t id, bool silent) { do_crash(id, silent); }

void ZabCluster::crash_soon(int64_t id, bool silent) {
  Event e;
  e.at_ms = now_ms_;
  e.kind = EventKind::kCrash;
  e.to = id;
  e.about = silent ? 1 : 0;
  push(e);
}

void ZabCluster::do_crash(int64_t id, bool silent) {
  Node& n = nodes_.at(id);
  if (!n.peer) return;
  trace(std::string(silent ? "silent " : "") + "crash " + std::to_string(id) + " (" +
        std::to_string(n.storage.log.size() - n.storage.durable) + " txns not durable)");
  n.peer.reset();
  n.busy = false;
  n.deferred_sends.clear();
  deferred_events_.erase(id);
  n.storage.log.resize(n.storage.durable);
  n.storage.snapshot_len = std::min(n.storage.snapshot_len, n.storage.durable);
  n.client_waiting.clear();
  n.state = PeerState::kLooking;
  n.leader = 0;
  n.serving = false;
  // Data the process sent before it died still arrives; then the others see
  // the connection close, unless the machine vanished silently.
  for (int64_t other : ids())
    if (other != id) {
      close_connection(id, other, false, false, !silent);
      close_connection(other, id, false, !silent, false);
    }
}

// ---------------------------------------------------------------- clients

tree::Txn ZabCluster::make_txn(size_t data_bytes) {
  ++next_txn_;
  SimTxn s;
  s.path = "/n" + std::to_string(next_txn_);
  s.data = "s" + std::to_string(options_.seed) + "-" + std::to_string(next_txn_);
  if (s.data.size() < data_bytes) s.data.resize(data_bytes, '.');
  return to_txn(s);
}

std::optional<int64_t> ZabCluster::propose(std::optional<int64_t> at) {
  std::optional<int64_t> zxid = propose_unprocessed(at);
  if (at) process(*at);
  return zxid;
}

std::vector<int64_t> ZabCluster::propose_burst(size_t n, std::optional<int64_t> at,
                                               size_t data_bytes) {
  std::vector<int64_t> zxids;
  for (size_t i = 0; i < n; ++i)
    if (auto zxid = propose_unprocessed(at, data_bytes)) zxids.push_back(*zxid);
  if (at) process(*at);
  return zxids;
}

std::optional<int64_t> ZabCluster::propose_unprocessed(std::optional<int64_t>& at,
                                                       size_t data_bytes) {
  if (!at) {
    std::vector<int64_t> leaders;
    for (const auto& [id, n] : nodes_)
      if (n.peer && n.peer->state() == PeerState::kLeading && n.peer->serving())
        leaders.push_back(id);
    if (leaders.empty()) return std::nullopt;
    at = leaders[random_below(leaders.size())];
  }
  Node& n = nodes_.at(*at);
  if (!n.peer) return std::nullopt;
  tree::Txn txn = make_txn(data_bytes);
  std::optional<int64_t> zxid = n.peer->propose(txn, now_ms_);
  if (zxid) {
    txn.zxid = *zxid;
    SimTxn s = to_sim(txn);
    if ((*zxid >> 32) != n.peer->current_epoch())
      violation("leader " + std::to_string(*at) + " proposed " + zxid_text(*zxid) +
                " outside its epoch " + std::to_string(n.peer->current_epoch()));
    n.client_waiting[*zxid] = s;
    proposed_.push_back(s);
    note_proposal(*at, *zxid);
    trace("client proposes " + zxid_text(*zxid) + " " + s.path + " at " + std::to_string(*at));
  }
  return zxid;
}

void ZabCluster::set_client_interval(int64_t mean_ms) {
  client_interval_ms_ = mean_ms;
  if (mean_ms > 0 && !client_scheduled_) {
    client_scheduled_ = true;
    Event e;
    e.at_ms = now_ms_ + 1 + static_cast<int64_t>(random_below(2 * mean_ms));
    e.kind = EventKind::kClient;
    push(e);
  }
}

void ZabCluster::client_write() {
  client_scheduled_ = false;
  if (client_interval_ms_ <= 0) return;
  const size_t most = std::max<size_t>(1, options_.max_client_burst);
  propose_burst(most == 1 ? 1 : 1 + random_below(most));
  set_client_interval(client_interval_ms_);
}

// ---------------------------------------------------------------- driving peers

std::optional<int64_t> ZabCluster::log_floor(int64_t id, int64_t zxid) const {
  const SimStorage& s = nodes_.at(id).storage;
  std::optional<int64_t> floor;
  for (size_t i = s.snapshot_len; i < s.durable && s.log[i].zxid <= zxid; ++i)
    floor = s.log[i].zxid;
  return floor;
}

bool ZabCluster::read_logged_txns(int64_t id, zab::Message& m) {
  if (m.log_to == 0) return true;
  if (options_.log_diffs_fail) {
    trace("leader " + std::to_string(id) + " cannot read its log for a DIFF to " +
          std::to_string(m.to));
    nodes_.at(id).peer->log_diff_failed(m.to);
    close_connection(m.to, id, true, true, true);
    return false;
  }
  const SimStorage& s = nodes_.at(id).storage;
  std::vector<tree::SharedTxn> txns;
  bool found = false;
  for (size_t i = s.snapshot_len; i < s.durable; ++i) {
    found = found || s.log[i].zxid == m.log_from;
    if (s.log[i].zxid > m.log_from && s.log[i].zxid <= m.log_to)
      txns.push_back(tree::share(to_txn(s.log[i])));
  }
  if (!found)
    violation("peer " + std::to_string(id) + " DIFFs from " + zxid_text(m.log_from) +
              ", which its log does not hold");
  txns.insert(txns.end(), m.txns.begin(), m.txns.end());
  m.txns = std::move(txns);
  m.log_from = m.log_to = 0;
  return true;
}

void ZabCluster::process(int64_t id) {
  Node& n = nodes_.at(id);
  if (!n.peer) return;
  zab::Ready r = n.peer->take_ready();
  persist(id, r);
  if (r.install_snapshot && options_.snapshot_install_ms > 0) start_busy(id);
  for (int64_t learner : r.dropped_learners) {
    trace("leader " + std::to_string(id) + " gives up on learner " + std::to_string(learner));
    close_connection(learner, id, true, true, false);
  }
  // The messages leave only now that the Ready's epochs, snapshot and
  // truncation are durable.
  for (auto& m : r.messages) {
    if (!read_logged_txns(id, m)) continue;
    if (m.from != id)
      violation("peer " + std::to_string(id) + " sends a message from " + std::to_string(m.from));
    if (n.busy) {
      n.deferred_sends.push_back(m);
      continue;
    }
    send_message(m);
    if (!n.peer) return;  // a hook crashed it
  }
  for (const auto& [to, notification] : r.notifications) send_notification(id, to, notification);
  if (n.peer->state() == PeerState::kLeading && !n.serving && !r.committed.empty())
    retag_history(id);
  apply_committed(id, r.committed);
  if (r.activated) check_activation(id, *r.activated);
  note_role(id);
  check_peer(id);
  n.config_before = n.peer->active_config();
}

// ---------------------------------------------------------------- running

bool ZabCluster::run_until(const std::function<bool()>& pred, int64_t max_ms) {
  const int64_t deadline = now_ms_ + max_ms;
  if (pred()) return true;
  while (!events_.empty() && events_.top().at_ms <= deadline) {
    Event e = events_.top();
    events_.pop();
    now_ms_ = std::max(now_ms_, e.at_ms);
    handle(e);
    if (pred()) return true;
  }
  now_ms_ = deadline;
  return false;
}

void ZabCluster::run_for(int64_t ms) {
  run_until([] { return false; }, ms);
}

void ZabCluster::handle(const Event& e) {
  switch (e.kind) {
    case EventKind::kTick: {
      for (auto& [id, n] : nodes_) {
        if (!n.peer || n.busy) continue;
        n.peer->tick(now_ms_);
        process(id);
      }
      Event next;
      next.at_ms = now_ms_ + options_.tick_interval_ms;
      next.kind = EventKind::kTick;
      push(next);
      return;
    }
    case EventKind::kClient:
      return client_write();
    case EventKind::kCrash:
      return do_crash(e.to, e.about != 0);
    case EventKind::kWake:
      return wake(e.to, e.incarnation);
    default:
      break;
  }
  Node& n = nodes_.at(e.to);
  if (!n.peer || n.incarnation != e.incarnation) return;
  if (n.busy) {
    deferred_events_[e.to].push_back(e);
    return;
  }
  switch (e.kind) {
    case EventKind::kFsync:
      return fsync(e.to);
    case EventKind::kNotification:
      if (!reachable(e.notification->from, e.to)) return;
      if (trace_all_) {
        const zab::Notification& v = *e.notification;
        trace("vote " + std::to_string(v.from) + " -> " + std::to_string(e.to) + " " +
              peer_state_name(v.state) + " leader " + std::to_string(v.vote.leader) + " zxid " +
              zxid_text(v.vote.zxid) + " epoch " + std::to_string(v.vote.peer_epoch) + " round " +
              std::to_string(v.election_epoch));
      }
      n.peer->step_election(*e.notification, now_ms_);
      return process(e.to);
    case EventKind::kDisconnect:
      if (connection(e.link).gen != e.conn_gen) return;  // about an older connection
      if (!concerns(e.to, e.link)) return;
      trace("peer " + std::to_string(e.to) + " sees its connection to " + std::to_string(e.about) +
            " close");
      n.peer->disconnected(e.about, now_ms_);
      return process(e.to);
    case EventKind::kMessage:
      return deliver_message(e);
    default:
      return;
  }
}

// ---------------------------------------------------------------- observing

std::optional<int64_t> ZabCluster::serving_leader() const {
  std::optional<int64_t> out;
  for (const auto& [id, n] : nodes_) {
    if (!n.peer || n.peer->state() != PeerState::kLeading || !n.peer->serving()) continue;
    if (out) return std::nullopt;
    out = id;
  }
  return out;
}

bool ZabCluster::settled() const {
  std::optional<int64_t> leader = serving_leader();
  if (!leader) return false;
  const zab::Peer& l = *nodes_.at(*leader).peer;
  if (l.reconfig_pending()) return false;
  const zab::QuorumConfig& config = *l.active_config();
  for (const auto& [id, n] : nodes_) {
    if (!n.peer) continue;
    if (n.peer->active_config()->version != config.version) return false;
    if (id != *leader) {
      const PeerState want = config.role_of(id) == zab::QuorumRole::kObserver
                                 ? PeerState::kObserving
                                 : PeerState::kFollowing;
      if (n.peer->state() != want || n.peer->leader() != *leader || !n.peer->serving())
        return false;
      // Not a connection that silently broke and nobody noticed yet.
      auto c = connections_.find({id, *leader});
      if (c == connections_.end() || !c->second.open || !c->second.accepted) return false;
    }
    if (n.applied.size() != committed_.size()) return false;
  }
  for (const auto& [id, n] : nodes_) {
    if (!n.peer || n.vouched == n.applied.size()) continue;
    for (size_t i = n.vouched; i < n.applied.size(); ++i)
      if (!(n.applied[i] == committed_[i])) return false;
  }
  return true;
}

std::string ZabCluster::describe() const {
  std::ostringstream out;
  out << "at " << now_ms_ << " ms, seed=" << options_.seed << ", " << committed_.size()
      << " txns committed (last " << zxid_text(committed_.empty() ? 0 : committed_.back().zxid)
      << "), " << acknowledged_.size() << " acknowledged:\n";
  for (const auto& [id, n] : nodes_) {
    out << "  peer " << id << " " << role_name(own_role(id));
    if (options_.reconfig_enabled) {
      const zab::Peer* p = n.peer.get();
      const auto active = p                  ? p->active_config()
                          : n.storage.active ? n.storage.active
                                             : n.bootstrap;
      const auto next = p ? p->last_seen_config() : n.storage.next;
      if (active) out << " in config " << zxid_text(active->version);
      if (next) out << " (next " << zxid_text(next->version) << ")";
    }
    out << ": ";
    if (!n.peer) {
      out << "down";
    } else {
      const zab::Peer& p = *n.peer;
      out << peer_state_name(p.state());
      if (p.state() != PeerState::kLooking) out << " leader " << p.leader();
      out << (p.serving() ? " serving" : "") << ", epochs " << p.accepted_epoch() << "/"
          << p.current_epoch() << ", logged " << zxid_text(p.last_logged_zxid()) << ", committed "
          << zxid_text(p.last_committed_zxid());
    }
    out << "; applied " << n.applied.size() << " (last "
        << zxid_text(n.applied.empty() ? 0 : n.applied.back().zxid) << ", " << n.vouched
        << " vouched), disk " << n.storage.log.size() << " txns (" << n.storage.durable
        << " durable), epochs " << n.storage.accepted_epoch << "/" << n.storage.current_epoch
        << "\n";
  }
  out << "recent events:\n";
  for (const auto& line : recent_trace_) out << "  " << line << "\n";
  return out.str();
}

void ZabCluster::violation(const std::string& what) {
  if (violations_.size() >= kMaxViolations) return;
  violations_.push_back("at " + std::to_string(now_ms_) + " ms: " + what +
                        " (reproduce with seed=" + std::to_string(options_.seed) + ")");
  trace("VIOLATION " + what);
}

void ZabCluster::trace(const std::string& line) {
  std::string text = "[" + std::to_string(now_ms_) + " ms] " + line;
  if (trace_all_) std::fprintf(stderr, "%s\n", text.c_str());
  recent_trace_.push_back(std::move(text));
  if (recent_trace_.size() > kRecentTraceLines) recent_trace_.pop_front();
}

uint64_t ZabCluster::random_below(uint64_t n) { return n <= 1 ? 0 : rng_() % n; }

double ZabCluster::random_unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

}  // namespace corral::sim
