// Scripted ZAB peers wired directly for the reconfig tests (zab_reconfig_test.cc): configs,
// reconfig txns, and a Cluster that drives Peers as QuorumPeer does, with an in-memory disk.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ensemble/zab/peer.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::zab::reconfig_test {

constexpr int64_t kNow = 1'000'000;
constexpr int64_t kStepMs = 10;
constexpr auto P = QuorumRole::kParticipant;
constexpr auto O = QuorumRole::kObserver;

/// Server `id` on 127.0.0.1, quorum port 2000+id, election port 3000+id.
inline QuorumServer server(int64_t id, QuorumRole role) {
  QuorumServer s;
  s.id = id;
  s.host = "127.0.0.1";
  s.quorum_port = static_cast<int>(2000 + id);
  s.election_port = static_cast<int>(3000 + id);
  s.role = role;
  return s;
}

/// A config at version 0 with server N on 127.0.0.1, quorum port 2000+N, election 3000+N.
inline QuorumConfig members(std::map<int64_t, QuorumRole> roles) {
  QuorumConfig c;
  for (const auto& [id, role] : roles) c.servers[id] = server(id, role);
  return c;
}

/// The reconfig txn that moves to `next`, as the prep builds it for zxid `zxid`.
inline tree::Txn reconfig_txn(QuorumConfig next, int64_t zxid) {
  next.version = zxid;
  tree::TxnOp op;
  op.type = wire::OpCode::kSetData;
  op.path = std::string(kConfigNode);
  op.data = next.text();
  op.version = -1;
  tree::Txn t;
  t.type = wire::OpCode::kReconfig;
  t.ops.push_back(op);
  return t;
}

inline tree::Txn write_txn() {
  tree::Txn t;
  t.type = wire::OpCode::kCreateSession;
  return t;
}

/// What a peer's driver keeps: survives a crash.
struct Disk {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  std::vector<tree::Txn> log;
  std::shared_ptr<const QuorumConfig> active;
  std::shared_ptr<const QuorumConfig> next;
  std::vector<Activation> activations;
  std::vector<int64_t> applied;
};

/// Peers wired directly, as QuorumPeer drives them: logs are durable at once, messages arrive
/// in order, a crashed peer neither sends nor receives, and `drop` loses ZAB messages.
class Cluster {
 public:
  /// `encode_txn`: each peer's PeerConfig::encode_txn.
  Cluster(const QuorumConfig& initial, std::vector<int64_t> ids, bool reconfig_enabled = true,
          std::function<std::string(const tree::Txn&)> encode_txn = {})
      : reconfig_enabled_(reconfig_enabled), encode_txn_(std::move(encode_txn)) {
    for (int64_t id : ids) {
      disks_[id].active = std::make_shared<const QuorumConfig>(initial);
      start(id);
    }
  }

  void start(int64_t id) {
    const Disk& d = disks_[id];
    PeerHistory h;
    h.accepted_epoch = d.accepted_epoch;
    h.current_epoch = d.current_epoch;
    h.recent = d.log;
    h.last_zxid = d.log.empty() ? 0 : d.log.back().zxid;
    h.active = d.active;
    h.last_seen = d.next;
    PeerConfig c;
    c.my_id = id;
    c.reconfig_enabled = reconfig_enabled_;
    c.tick_ms = 100;
    c.encode_txn = encode_txn_;
    // The static member list (only used when PeerHistory::active is null) and what
    // reconfig-off servers act under.
    for (const auto& [sid, s] : d.active->servers) c.members.push_back({sid, s.role == P});
    peers_[id] = std::make_unique<Peer>(c, h, now_);
    peers_[id]->set_snapshot_source([this, id] {
      std::ostringstream state;
      for (int64_t z : disks_[id].applied) state << z << ' ';
      return std::make_shared<SnapshotData>(
          SnapshotData{peers_[id]->last_committed_zxid(), state.str()});
    });
  }

  void crash(int64_t id) {
    peers_.erase(id);
    for (auto& [other, p] : peers_) p->disconnected(id, now_);
  }

  int64_t now() const { return now_; }
  Peer& peer(int64_t id) { return *peers_.at(id); }
  const Disk& disk(int64_t id) { return disks_[id]; }
  bool applied(int64_t id, int64_t zxid) {
    for (int64_t z : disks_[id].applied)
      if (z == zxid) return true;
    return false;
  }
  bool logged(int64_t id, int64_t zxid) {
    for (const auto& t : disks_[id].log)
      if (t.zxid == zxid) return true;
    return false;
  }

  /// Runs until `done`, for up to `max_ms` of simulated time; `each` runs every step.
  bool run_until(
      const std::function<bool()>& done, int64_t max_ms = 20'000,
      const std::function<void()>& each = [] {}) {
    for (int64_t end = now_ + max_ms; now_ < end; now_ += kStepMs) {
      for (auto& [id, p] : peers_) p->tick(now_);
      pump();
      each();
      if (done()) return true;
    }
    return false;
  }
  void run_for(int64_t ms) {
    run_until([] { return false; }, ms);
  }

  /// Whether every running peer serves under `leader`, which leads.
  bool all_serve(int64_t leader) {
    for (auto& [id, p] : peers_)
      if (!p->serving() || p->leader() != leader) return false;
    return peers_.count(leader) && peers_[leader]->state() == PeerState::kLeading;
  }
  /// Notifications sent by looking servers so far: an election runs (and may end) within
  /// one step, so states sampled between steps would miss it.
  int64_t looking_notifications() const { return looking_notifications_; }
  /// Whether every running peer's active config has `version`.
  bool all_active(int64_t version) {
    for (auto& [id, p] : peers_)
      if (p->active_config()->version != version) return false;
    return true;
  }

  /// Leader `id` proposes `t`, with the reconfig's config versioned by its zxid.
  int64_t propose(int64_t id, const std::function<tree::Txn(int64_t)>& make) {
    auto zxid = peer(id).propose(make(peer(id).next_zxid()), now_);
    EXPECT_TRUE(zxid.has_value());
    return zxid.value_or(0);
  }

  /// Acts on leader `id`'s Ready now, its messages queued behind those already queued: what it
  /// proposes next travels in PROPOSALs of its own, as after one of QuorumPeer's drives (within
  /// one Ready, the proposals to a learner are one message).
  void flush(int64_t id) { act(id, peers_.at(id)->take_ready()); }

  std::function<bool(const Message&)> drop = [](const Message&) { return false; };

 private:
  using Envelope = std::variant<Message, std::pair<int64_t, Notification>>;

  void pump() {
    for (bool more = true; more;) {
      more = false;
      for (auto& [id, p] : peers_) more |= act(id, p->take_ready());
      while (!queue_.empty()) {
        Envelope e = std::move(queue_.front());
        queue_.pop_front();
        deliver(e);
        more = true;
      }
    }
  }

  void deliver(const Envelope& e) {
    if (const auto* m = std::get_if<Message>(&e)) {
      if (peers_.count(m->to) && peers_.count(m->from) && !drop(*m)) peers_[m->to]->step(*m, now_);
    } else {
      const auto& [to, n] = std::get<std::pair<int64_t, Notification>>(e);
      if (n.state == PeerState::kLooking) ++looking_notifications_;
      if (peers_.count(to) && peers_.count(n.from)) peers_[to]->step_election(n, now_);
    }
  }

  bool act(int64_t id, Ready r) {
    Disk& d = disks_[id];
    if (r.accepted_epoch) d.accepted_epoch = *r.accepted_epoch;
    if (r.current_epoch) d.current_epoch = *r.current_epoch;
    if (r.next_config) d.next = r.next_config;
    if (r.activated) {
      d.active = r.activated->config;
      d.activations.push_back(*r.activated);
    }
    if (r.install_snapshot) {
      d.log.clear();
      d.applied.clear();
      std::istringstream state(r.install_snapshot->bytes);
      for (int64_t z; state >> z;) d.applied.push_back(z);
    }
    if (r.truncate_after) {
      std::erase_if(d.log, [&](const tree::Txn& t) { return t.zxid > *r.truncate_after; });
      std::erase_if(d.applied, [&](int64_t z) { return z > *r.truncate_after; });
      if (d.next && d.next->version > *r.truncate_after) d.next = nullptr;
    }
    for (const auto& t : r.to_log) d.log.push_back(*t);
    for (auto& m : r.messages) queue_.push_back(m);
    for (auto& n : r.notifications) queue_.push_back(n);
    for (const auto& t : r.committed) d.applied.push_back(t->zxid);
    bool any = !r.to_log.empty() || !r.messages.empty() || !r.notifications.empty() ||
               r.install_snapshot || r.truncate_after || !r.committed.empty() || r.accepted_epoch ||
               r.current_epoch || r.next_config || r.activated;
    if (!r.to_log.empty()) peers_[id]->logged(r.to_log.back()->zxid, now_);
    return any;
  }

  bool reconfig_enabled_;
  std::function<std::string(const tree::Txn&)> encode_txn_;
  int64_t now_ = kNow;
  std::map<int64_t, std::unique_ptr<Peer>> peers_;
  std::map<int64_t, Disk> disks_;
  std::deque<Envelope> queue_;
  int64_t looking_notifications_ = 0;
};

}  // namespace corral::zab::reconfig_test
