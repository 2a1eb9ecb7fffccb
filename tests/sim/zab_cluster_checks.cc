// ZabCluster's side of the Ready contract (persisting, applying) and the
// invariants it checks after every step: what a peer commits or serves
// matches what everyone else committed, a commit is durable on a majority of
// each config it was proposed in, a new leader holds every committed txn and
// is backed by majorities of its configs, one leader per epoch, epochs never
// go back. The config-aware role checks are in zab_cluster_reconfig.cc.
#include <algorithm>
#include <string>

#include "tests/sim/zab_cluster.h"

namespace corral::sim {
namespace {

using zab::PeerState;

bool is_learner(PeerState s) { return s == PeerState::kFollowing || s == PeerState::kObserving; }

}  // namespace

void ZabCluster::persist(int64_t id, zab::Ready& r) {
  Node& n = nodes_.at(id);
  SimStorage& s = n.storage;
  const std::string who = "peer " + std::to_string(id) + ": ";
  if (r.accepted_epoch) {
    if (*r.accepted_epoch < s.accepted_epoch)
      violation(who + "acceptedEpoch goes back from " + std::to_string(s.accepted_epoch) + " to " +
                std::to_string(*r.accepted_epoch));
    s.accepted_epoch = *r.accepted_epoch;
  }
  if (r.current_epoch) {
    if (*r.current_epoch < s.current_epoch)
      violation(who + "currentEpoch goes back from " + std::to_string(s.current_epoch) + " to " +
                std::to_string(*r.current_epoch));
    s.current_epoch = *r.current_epoch;
    if (s.current_epoch > s.accepted_epoch)
      violation(who + "currentEpoch " + std::to_string(s.current_epoch) + " > acceptedEpoch " +
                std::to_string(s.accepted_epoch));
  }
  // Committed txns a SNAP or TRUNC takes off this disk: the same sync must
  // bring them back, and meanwhile a quorum must still hold them.
  std::vector<SimTxn> dropped;
  if (r.install_snapshot) {
    std::vector<SimTxn> state = decode_state(r.install_snapshot->bytes);
    for (const auto& t : s.log)
      if (log_holds(committed_, committed_.size(), t) && !log_holds(state, state.size(), t))
        dropped.push_back(t);
    const int64_t last = state.empty() ? 0 : state.back().zxid;
    if (last != r.install_snapshot->zxid)
      violation(who + "snapshot says zxid " + zxid_text(r.install_snapshot->zxid) +
                " but holds up to " + zxid_text(last));
    trace(who + "installs a snapshot up to " + zxid_text(last));
    s.log = state;
    s.durable = s.snapshot_len = s.log.size();
    n.applied = std::move(state);
    n.vouched = 0;
  }
  if (r.truncate_after) {
    const int64_t z = *r.truncate_after;
    trace(who + "truncates after " + zxid_text(z));
    auto keep = std::upper_bound(s.log.begin(), s.log.end(), z,
                                 [](int64_t v, const SimTxn& t) { return v < t.zxid; });
    for (auto it = keep; it != s.log.end(); ++it)
      if (log_holds(committed_, committed_.size(), *it)) dropped.push_back(*it);
    s.log.erase(keep, s.log.end());
    // As Database::truncate_after: a last-seen config whose txn is cut goes too.
    if (s.next && s.next->version > z) s.next.reset();
    // The truncation is one durable write; it makes what came before durable too.
    s.durable = s.log.size();
    s.snapshot_len = std::min(s.snapshot_len, s.log.size());
    n.applied = s.log;
    n.vouched = std::min(n.vouched, n.applied.size());
  }
  // After the TRUNC, which may cut a stored last-seen config that this Ready replaces.
  persist_configs(id, r);
  for (const auto& t : r.to_log) {
    SimTxn x = to_sim(*t);
    if (!s.log.empty() && x.zxid <= s.log.back().zxid) {
      violation(who + "appends " + zxid_text(x.zxid) + " " + x.path + " to a log that ends at " +
                zxid_text(s.log.back().zxid) + " " + s.log.back().path);
      continue;
    }
    s.log.push_back(std::move(x));
  }
  for (const auto& t : dropped) {
    const bool back = std::any_of(r.to_log.begin(), r.to_log.end(),
                                  [&](const tree::SharedTxn& x) { return to_sim(*x) == t; });
    if (!back) {
      violation(who + "sync drops committed txn " + zxid_text(t.zxid) + " " + t.path);
      continue;
    }
    const std::string missing = missing_majorities(t);
    if (!missing.empty())
      violation(who + "sync drops committed txn " + zxid_text(t.zxid) + " " + t.path +
                " to log it again; until then " + missing);
  }
  if (!r.to_log.empty() && !n.fsync_scheduled) {
    n.fsync_scheduled = true;
    const ZabFaults& f = options_.faults;
    Event e;
    e.at_ms = now_ms_ + f.min_fsync_ms +
              static_cast<int64_t>(random_below(static_cast<uint64_t>(
                  std::max<int64_t>(f.max_fsync_ms - f.min_fsync_ms + 1, 1))));
    e.kind = EventKind::kFsync;
    e.to = id;
    e.incarnation = n.incarnation;
    push(e);
  }
}

void ZabCluster::fsync(int64_t id) {
  Node& n = nodes_.at(id);
  n.fsync_scheduled = false;
  n.storage.durable = n.storage.log.size();
  if (n.storage.log.empty()) return;
  n.peer->logged(n.storage.log.back().zxid, now_ms_);
  process(id);
}

void ZabCluster::apply_committed(int64_t id, const std::vector<tree::SharedTxn>& txns) {
  if (txns.empty()) return;
  Node& n = nodes_.at(id);
  for (const auto& t : txns) {
    SimTxn s = to_sim(*t);
    if (!n.applied.empty() && s.zxid <= n.applied.back().zxid) {
      violation("peer " + std::to_string(id) + " applies " + zxid_text(s.zxid) + " " + s.path +
                " after " + zxid_text(n.applied.back().zxid) + " " + n.applied.back().path +
                " (zxids must increase; a duplicate?)");
      continue;
    }
    n.applied.push_back(s);
    if (trace_all_) trace("peer " + std::to_string(id) + " applies " + zxid_text(s.zxid));
    auto w = n.client_waiting.find(s.zxid);
    if (w != n.client_waiting.end() && w->second == s) {
      acknowledged_[s.zxid] = s;
      n.client_waiting.erase(w);
    }
  }
  vouch(id, n.applied.size(), "commits");
}

void ZabCluster::vouch(int64_t id, size_t upto, const char* how) {
  Node& n = nodes_.at(id);
  const size_t before = committed_.size();
  for (size_t i = n.vouched; i < upto; ++i) {
    if (i < committed_.size()) {
      if (!(n.applied[i] == committed_[i])) {
        violation("peer " + std::to_string(id) + " " + how + " " + zxid_text(n.applied[i].zxid) +
                  " " + n.applied[i].path + " at position " + std::to_string(i) +
                  " where another peer committed " + zxid_text(committed_[i].zxid) + " " +
                  committed_[i].path);
        return;
      }
    } else {
      committed_.push_back(n.applied[i]);
    }
  }
  n.vouched = std::max(n.vouched, upto);
  if (committed_.size() > before) on_commit_extended(id, before, how);
}

void ZabCluster::on_commit_extended(int64_t id, size_t from, const char* how) {
  for (size_t i = from; i < committed_.size(); ++i) {
    const SimTxn& t = committed_[i];
    if (i > 0 && t.zxid <= committed_[i - 1].zxid)
      violation("committed sequence goes from " + zxid_text(committed_[i - 1].zxid) + " to " +
                zxid_text(t.zxid));
    // Committed means durable on a majority of each config it was proposed in.
    const std::string missing = missing_majorities(t);
    if (!missing.empty())
      violation("peer " + std::to_string(id) + " " + how + " txn " + zxid_text(t.zxid) + " " +
                t.path + " as committed but " + missing);
    trace("committed #" + std::to_string(i + 1) + " " + zxid_text(t.zxid) + " " + t.path);
  }
}

void ZabCluster::note_role(int64_t id) {
  Node& n = nodes_.at(id);
  const PeerState state = n.peer->state();
  const int64_t leader = n.peer->leader();
  if (state == n.state && leader == n.leader) return;
  trace("peer " + std::to_string(id) + " " + peer_state_name(n.state) + " -> " +
        peer_state_name(state) +
        (state == PeerState::kLooking ? std::string() : " leader " + std::to_string(leader)));
  ++n.role_changes;
  // A server that stops following closes its connection to the leader; one
  // that stops leading closes its learners' connections. The other side sees it.
  if (is_learner(n.state) && n.leader != 0 && n.leader != id)
    close_connection(id, n.leader, false, false, true);
  if (n.state == PeerState::kLeading)
    for (int64_t other : ids())
      if (other != id) close_connection(other, id, false, true, false);
  if (n.state == PeerState::kLeading) n.client_waiting.clear();
  n.state = state;
  n.leader = leader;
}

void ZabCluster::check_peer(int64_t id) {
  Node& n = nodes_.at(id);
  const zab::Peer& p = *n.peer;
  const std::string who = "peer " + std::to_string(id) + ": ";
  check_roles(id);
  if (p.accepted_epoch() < n.max_accepted_epoch)
    violation(who + "acceptedEpoch " + std::to_string(p.accepted_epoch()) + " < earlier " +
              std::to_string(n.max_accepted_epoch));
  if (p.current_epoch() < n.max_current_epoch)
    violation(who + "currentEpoch " + std::to_string(p.current_epoch()) + " < earlier " +
              std::to_string(n.max_current_epoch));
  if (p.current_epoch() > p.accepted_epoch())
    violation(who + "currentEpoch " + std::to_string(p.current_epoch()) + " > acceptedEpoch " +
              std::to_string(p.accepted_epoch()));
  n.max_accepted_epoch = std::max(n.max_accepted_epoch, p.accepted_epoch());
  n.max_current_epoch = std::max(n.max_current_epoch, p.current_epoch());
  const bool became_serving = p.serving() && !n.serving;
  n.serving = p.serving();
  if (!became_serving) return;
  if (p.state() == PeerState::kLeading) {
    check_established(id);
  } else {
    trace(who + "serving under " + std::to_string(p.leader()));
  }
  // A server that serves has applied committed txns only.
  vouch(id, n.applied.size(), "serves");
}

void ZabCluster::check_established(int64_t id) {
  Node& n = nodes_.at(id);
  const zab::Peer& p = *n.peer;
  const std::string who = "peer " + std::to_string(id) + ": ";
  auto [it, fresh] = epoch_leaders_.emplace(p.current_epoch(), id);
  if (it->second != id || !fresh)
    violation(who + "leads epoch " + std::to_string(p.current_epoch()) + " which " +
              std::to_string(it->second) + " already led");
  trace(who + "established as leader of epoch " + std::to_string(p.current_epoch()));
  // NEWLEADER was acknowledged by a majority of each config the leader went
  // by (before this step, now, and the pending one): those voters made the
  // epoch durable before they acknowledged. Members of no such config, or
  // observers, never make up for a missing voter.
  std::vector<std::shared_ptr<const zab::QuorumConfig>> configs = {n.config_before,
                                                                   p.active_config()};
  if (p.last_seen_config()) configs.push_back(p.last_seen_config());
  for (const auto& config : configs) {
    if (!config) continue;
    std::vector<int64_t> backers;
    for (int64_t v : config->voters()) {
      auto node = nodes_.find(v);
      if (v == id ||
          (node != nodes_.end() && node->second.storage.current_epoch >= p.current_epoch()))
        backers.push_back(v);
    }
    if (!config->majority(backers))
      violation(who + "established in epoch " + std::to_string(p.current_epoch()) +
                " but only voters {" + ids_text({backers.begin(), backers.end()}) +
                " } of config " + zxid_text(config->version) + " hold that epoch");
  }
  // A new leader holds every committed txn, and its state reflects its
  // whole history, which a quorum now holds: all of it is committed.
  const std::vector<SimTxn>& log = n.storage.log;
  for (size_t i = 0; i < committed_.size(); ++i) {
    if (i >= log.size() || !(log[i] == committed_[i])) {
      violation(who + "established in epoch " + std::to_string(p.current_epoch()) +
                " without committed txn " + zxid_text(committed_[i].zxid) + " " +
                committed_[i].path);
      break;
    }
  }
  if (n.applied.size() != log.size())
    violation(who + "established with " + std::to_string(n.applied.size()) + " txns applied but " +
              std::to_string(log.size()) + " logged");
}

}  // namespace corral::sim
