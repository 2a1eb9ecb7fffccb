// ZabCluster's dynamic reconfiguration: the reconfig action, the configs a
// Ready persists (last-seen and active, with the epochs), and the
// config-aware checks: a commit is durable on a majority of each config its
// proposal was tagged with; activations never go back and agree on text and
// designated leader per version; an activation from a txn is of a txn the
// peer committed; roles and votes are judged by each peer's own config, so a
// removed peer may follow but never leads, and observers never vote.
#include <algorithm>
#include <string>

#include "tests/sim/zab_cluster.h"

namespace corral::sim {
namespace {

using zab::PeerState;
using zab::QuorumConfig;
using zab::QuorumRole;

}  // namespace

zab::QuorumServer sim_server(int64_t id, QuorumRole role) {
  zab::QuorumServer s;
  s.id = id;
  s.host = "10.0.0." + std::to_string(id);
  s.quorum_port = 2888;
  s.election_port = 3888;
  s.role = role;
  s.client_host = "0.0.0.0";
  s.client_port = 2181;
  return s;
}

QuorumConfig with_server(QuorumConfig config, int64_t id, QuorumRole role) {
  config.servers[id] = sim_server(id, role);
  return config;
}

QuorumConfig without_server(QuorumConfig config, int64_t id) {
  config.servers.erase(id);
  return config;
}

tree::Txn reconfig_txn(const QuorumConfig& config) {
  SimTxn s;
  s.zxid = config.version;
  s.path = std::string(zab::kConfigNode);
  s.data = config.text();
  return to_txn(s);
}

const char* role_name(QuorumRole r) {
  switch (r) {
    case QuorumRole::kParticipant:
      return "participant";
    case QuorumRole::kObserver:
      return "observer";
    case QuorumRole::kAbsent:
      return "non-member";
  }
  return "?";
}

// ---------------------------------------------------------------- the action

std::optional<int64_t> ZabCluster::reconfig(QuorumConfig next, std::optional<int64_t> at) {
  if (!options_.reconfig_enabled) return std::nullopt;
  if (!at) at = serving_leader();
  if (!at || !up(*at)) return std::nullopt;
  Node& n = nodes_.at(*at);
  const zab::Peer& p = *n.peer;
  if (p.state() != PeerState::kLeading || !p.serving()) return std::nullopt;
  // The server's reconfig prep refuses these before anything is proposed.
  const char* refused = nullptr;
  if (p.reconfig_pending())
    refused = "a reconfig is in progress";
  else if (next.voters().size() < 2)
    refused = "fewer than 2 voters";
  else if (!p.quorum_synced(next))
    refused = "the new voters are not synced";
  if (refused) {
    trace("reconfig at " + std::to_string(*at) + " refused: " + refused);
    return std::nullopt;
  }
  next.version = n.peer->next_zxid();
  tree::Txn txn = reconfig_txn(next);
  std::optional<int64_t> zxid = n.peer->propose(txn, now_ms_);
  if (zxid) {
    if (*zxid != next.version)
      violation("leader " + std::to_string(*at) + " gave reconfig txn zxid " + zxid_text(*zxid) +
                " but next_zxid() said " + zxid_text(next.version));
    txn.zxid = *zxid;
    SimTxn s = to_sim(txn);
    note_config_text(*at, "proposed", next);
    n.client_waiting[*zxid] = s;
    proposed_.push_back(s);
    note_proposal(*at, *zxid);
    std::string voters;
    for (int64_t v : next.voters()) voters += " " + std::to_string(v);
    trace("reconfig proposed at " + std::to_string(*at) + " as " + zxid_text(*zxid) + ": voters {" +
          voters + " }, " + std::to_string(next.servers.size()) + " servers");
  }
  process(*at);
  return zxid;
}

void ZabCluster::note_proposal(int64_t leader, int64_t zxid) {
  const zab::Peer& p = *nodes_.at(leader).peer;
  auto& configs = proposal_configs_[zxid];
  configs = {p.active_config()};
  if (p.last_seen_config()) configs.push_back(p.last_seen_config());
}

void ZabCluster::retag_history(int64_t leader) {
  const Node& n = nodes_.at(leader);
  const zab::Peer& p = *n.peer;
  std::vector<std::shared_ptr<const QuorumConfig>> configs = {n.config_before, p.active_config()};
  if (p.last_seen_config()) configs.push_back(p.last_seen_config());
  for (const SimTxn& t : n.storage.log) {
    if (log_holds(committed_, committed_.size(), t)) continue;
    if (t.path == zab::kConfigNode)
      if (auto carried = zab::config_of(to_txn(t))) configs.push_back(std::move(carried));
    proposal_configs_[t.zxid] = configs;
  }
}

// ---------------------------------------------------------------- persisting

void ZabCluster::persist_configs(int64_t id, const zab::Ready& r) {
  Node& n = nodes_.at(id);
  SimStorage& s = n.storage;
  const std::string who = "peer " + std::to_string(id) + ": ";
  if (r.next_config) {
    note_config_text(id, "last-seen", *r.next_config);
    s.next = r.next_config;
    trace(who + "last-seen config " + zxid_text(r.next_config->version));
  }
  if (!r.activated) return;
  const zab::Activation& a = *r.activated;
  if (!a.config) return violation(who + "activates a null config");
  const int64_t v = a.config->version;
  if (v < n.max_active_version)
    violation(who + "activates config " + zxid_text(v) + " after " +
              zxid_text(n.max_active_version));
  note_config_text(id, "activated", *a.config);
  if (a.designated_leader != 0) {
    if (a.config->role_of(a.designated_leader) != QuorumRole::kParticipant)
      violation(who + "config " + zxid_text(v) + " designates " +
                std::to_string(a.designated_leader) + ", not one of its voters");
    // One leader designates, and tells everyone the same; a later leader
    // that completes the reconfig (a new epoch) may choose another.
    const int64_t epoch = n.peer->accepted_epoch();
    auto [it, fresh] = designated_.emplace(std::pair{v, epoch}, a.designated_leader);
    if (it->second != a.designated_leader)
      violation(who + "config " + zxid_text(v) + " designates " +
                std::to_string(a.designated_leader) + " in epoch " + std::to_string(epoch) +
                " where another peer had " + std::to_string(it->second));
  }
  s.active = a.config;
  if (s.next && s.next->version <= v) s.next.reset();
  n.max_active_version = std::max(n.max_active_version, v);
  if (v > current_config_->version) current_config_ = a.config;
  trace(who + "activates config " + zxid_text(v) +
        (a.designated_leader ? ", designated leader " + std::to_string(a.designated_leader) : "") +
        (a.from_txn ? "" : " (no txn)"));
}

void ZabCluster::note_config_text(int64_t id, const char* what, const QuorumConfig& config) {
  const std::string text = config.text();
  auto [it, fresh] = config_texts_.emplace(config.version, text);
  if (it->second != text)
    violation("peer " + std::to_string(id) + ": " + what + " config " + zxid_text(config.version) +
              " reads\n" + text + "\nbut elsewhere it reads\n" + it->second);
}

void ZabCluster::check_activation(int64_t id, const zab::Activation& a) {
  if (!a.from_txn || !a.config) return;
  Node& n = nodes_.at(id);
  const int64_t v = a.config->version;
  auto it = std::lower_bound(n.applied.begin(), n.applied.end(), v,
                             [](const SimTxn& t, int64_t z) { return t.zxid < z; });
  const std::string who = "peer " + std::to_string(id) + ": ";
  if (it == n.applied.end() || it->zxid != v)
    return violation(who + "activates config " + zxid_text(v) + " from a txn it has not applied");
  if (it->path != zab::kConfigNode || it->data != a.config->text())
    return violation(who + "activates config " + zxid_text(v) + " but its txn there is " +
                     it->path + " " + it->data);
  // Activating at commit: the txn and everything before it are committed.
  vouch(id, static_cast<size_t>(it - n.applied.begin()) + 1, "activates");
}

// ---------------------------------------------------------------- majorities

std::vector<std::shared_ptr<const QuorumConfig>> ZabCluster::configs_of(const SimTxn& t) const {
  auto it = proposal_configs_.find(t.zxid);
  if (it != proposal_configs_.end()) return it->second;
  return {initial_config_};  // on a disk the test prepared
}

std::string ZabCluster::missing_majorities(const SimTxn& t) const {
  std::string out;
  for (const auto& config : configs_of(t)) {
    if (!config) continue;
    std::vector<int64_t> holders;
    for (int64_t v : config->voters()) {
      auto node = nodes_.find(v);
      if (node == nodes_.end()) continue;
      const SimStorage& s = node->second.storage;
      if (log_holds(s.log, s.durable, t)) holders.push_back(v);
    }
    if (config->majority(holders)) continue;
    std::string voters;
    for (int64_t v : config->voters()) voters += " " + std::to_string(v);
    out += (out.empty() ? "" : "; ") + std::string("of the voters {") + voters + " } of config " +
           zxid_text(config->version) + " it was proposed in, only {" +
           ids_text({holders.begin(), holders.end()}) + " } hold it durably";
  }
  return out;
}

// ---------------------------------------------------------------- roles

QuorumRole ZabCluster::own_role(int64_t id) const {
  const Node& n = nodes_.at(id);
  if (n.peer) return n.peer->active_config()->role_of(id);
  if (n.storage.active) return n.storage.active->role_of(id);
  if (n.bootstrap) return n.bootstrap->role_of(id);
  return initial_config_->role_of(id);
}

void ZabCluster::check_roles(int64_t id) {
  Node& n = nodes_.at(id);
  const zab::Peer& p = *n.peer;
  const std::string who = "peer " + std::to_string(id) + ": ";
  const std::shared_ptr<const QuorumConfig> config = p.active_config();
  const QuorumRole role = config->role_of(id);
  if (role == QuorumRole::kObserver &&
      (p.state() == PeerState::kLeading || p.state() == PeerState::kFollowing))
    violation(who + "an observer of config " + zxid_text(config->version) + " is " +
              peer_state_name(p.state()));
  if (role == QuorumRole::kAbsent && p.state() == PeerState::kLeading)
    violation(who + "leads but is not in its config " + zxid_text(config->version));
  if (p.state() != PeerState::kLooking && p.leader() != 0 && p.leader() != id &&
      config->role_of(p.leader()) != QuorumRole::kParticipant)
    violation(who + "follows " + std::to_string(p.leader()) + ", a " +
              role_name(config->role_of(p.leader())) + " of its config " +
              zxid_text(config->version));
  if (config->version < n.max_active_version)
    violation(who + "acts under config " + zxid_text(config->version) + " after " +
              zxid_text(n.max_active_version));
  n.max_active_version = std::max(n.max_active_version, config->version);
  if (!options_.reconfig_enabled) return;
  // What it acts under is durable: a restart must not take it back.
  const auto& stored = n.storage.active ? n.storage.active : n.bootstrap;
  if (stored && *stored != *config)
    violation(who + "acts under config " + zxid_text(config->version) + " but its disk has " +
              zxid_text(stored->version));
  const auto next = p.last_seen_config();
  if (next && (!n.storage.next || *n.storage.next != *next))
    violation(who + "has last-seen config " + zxid_text(next->version) + " but its disk has " +
              (n.storage.next ? zxid_text(n.storage.next->version) : std::string("none")));
}

void ZabCluster::check_notification(int64_t from, const zab::Notification& msg) {
  const Node& n = nodes_.at(from);
  // The step may have changed its config after it wrote the notification.
  const std::shared_ptr<const QuorumConfig> configs[] = {n.config_before, n.peer->active_config()};
  auto any = [&](auto pred) {
    return std::any_of(std::begin(configs), std::end(configs),
                       [&](const auto& c) { return c && pred(*c); });
  };
  const auto is = [&](int64_t id, QuorumRole r) {
    return any([&](const QuorumConfig& c) { return c.role_of(id) == r; });
  };
  const bool voter = is(from, QuorumRole::kParticipant);
  const std::string who = "peer " + std::to_string(from) + " ";
  if (msg.state == PeerState::kLeading && !voter)
    violation(who + "announces LEADING but votes in none of its configs");
  if (msg.state == PeerState::kFollowing && !voter && !is(from, QuorumRole::kAbsent))
    violation(who + "announces FOLLOWING but is an observer");
  if (msg.state == PeerState::kLooking && !voter) return;
  if (nodes_.count(msg.vote.leader) && !any([&](const QuorumConfig& c) {
        return c.role_of(msg.vote.leader) == QuorumRole::kParticipant;
      }))
    violation(who + "votes for " + std::to_string(msg.vote.leader) +
              ", a voter of none of its configs");
}

}  // namespace corral::sim
