// Peer's side of dynamic reconfiguration (ZooKeeper 3.5+): the active and last-seen configs,
// the quorums that need both, activation at commit, the designated leader and the hand-off
// to it without an election.
#include <cassert>
#include <utility>

#include "ensemble/zab/peer.h"

namespace corral::zab {

namespace {

/// QuorumConfig::majority without its copies: this runs for every ack.
bool majority_of(const QuorumConfig& config, const std::set<int64_t>& ids) {
  size_t voters = 0, in = 0;
  for (const auto& [id, server] : config.servers) {
    if (server.role != QuorumRole::kParticipant) continue;
    ++voters;
    in += ids.count(id);
  }
  return in * 2 > voters;
}

}  // namespace

bool Peer::majorities(const std::set<int64_t>& ids, const QuorumConfig& config,
                      const QuorumConfig* next) {
  return majority_of(config, ids) && (!next || majority_of(*next, ids));
}

std::shared_ptr<const QuorumConfig> Peer::config_in(const tree::Txn& txn) const {
  return config_.reconfig_enabled ? config_of(txn) : nullptr;
}

bool Peer::learner_quorum(bool self,
                          const std::function<bool(int64_t, const LearnerState&)>& pick) const {
  std::set<int64_t> voters, all;
  if (self) voters.insert(config_.my_id), all.insert(config_.my_id);
  for (const auto& [id, l] : learners_) {
    if (!counts(l) || !pick(id, l)) continue;
    all.insert(id);
    if (!l.observer) voters.insert(id);
  }
  return majority_of(*active_, voters) && (!last_seen_ || majority_of(*last_seen_, all));
}

void Peer::see_config(std::shared_ptr<const QuorumConfig> config) {
  const int64_t newest = last_seen_ ? last_seen_->version : active_->version;
  if (config->version <= newest) return;
  last_seen_ = config;
  ready_.next_config = std::move(config);
}

void Peer::unsee_configs_after(int64_t zxid) {
  if (!last_seen_ || last_seen_->version <= zxid) return;
  // The txn that carried it is gone (the driver's truncation drops the stored copy).
  last_seen_ = nullptr;
  ready_.next_config = nullptr;
}

void Peer::activate(std::shared_ptr<const QuorumConfig> config, int64_t designated, bool from_txn) {
  active_ = config;
  if (last_seen_ && last_seen_->version <= active_->version) last_seen_ = nullptr;
  election_.set_config(active_);
  ready_.activated = Activation{std::move(config), designated, from_txn};
  const int64_t leader = designated ? designated : leader_;
  const PeerState role = leader == config_.my_id ? PeerState::kLeading
                         : active_->role_of(config_.my_id) == QuorumRole::kObserver
                             ? PeerState::kObserving
                             : PeerState::kFollowing;
  // The last activation of a step decides: move to its leader, or to this peer's new role
  // under the same one (an observer promoted, a follower demoted), and resend FOLLOWERINFO.
  if (leader != leader_ || role != state_)
    hand_off_to_ = leader;
  else
    hand_off_to_.reset();
}

int64_t Peer::designate(const QuorumConfig& next, const std::set<int64_t>& acks,
                        std::map<int64_t, Proposal>::const_iterator later) const {
  auto mine = next.servers.find(config_.my_id);
  auto was = active_->servers.find(config_.my_id);
  // The leader stays if it still votes at the same quorum address: its learners'
  // connections stay valid.
  if (mine != next.servers.end() && mine->second.role == QuorumRole::kParticipant &&
      was != active_->servers.end() && mine->second.host == was->second.host &&
      mine->second.quorum_port == was->second.quorum_port)
    return config_.my_id;
  // Otherwise the new voter that acked the reconfig and the most proposals after it: it
  // holds the most of what is outstanding. The lowest id wins ties (deterministic).
  std::set<int64_t> candidates;
  for (int64_t id : acks)
    if (next.role_of(id) == QuorumRole::kParticipant) candidates.insert(id);
  // Not kept: this leader is no candidate even if it still votes (at a new address).
  candidates.erase(config_.my_id);
  for (; later != outstanding_.end() && !candidates.empty(); ++later) {
    std::set<int64_t> narrowed;
    for (int64_t id : candidates)
      if (later->second.acks.count(id)) narrowed.insert(id);
    if (narrowed.empty()) break;
    candidates = std::move(narrowed);
  }
  return candidates.empty() ? config_.my_id : *candidates.begin();
}

int64_t Peer::designate_at_establishment(const QuorumConfig& next) const {
  std::set<int64_t> acks(newleader_acks_);
  acks.insert(config_.my_id);
  return designate(next, acks, outstanding_.cend());
}

std::string Peer::newleader_config_text() const {
  if (!config_.reconfig_enabled) return {};
  // Once established, a pending reconfig is not committed yet: its txn reaches the learner
  // in the sync stream instead, and activates when it commits.
  if (established_ || !last_seen_) return active_->text();
  return last_seen_->text();
}

void Peer::maybe_bump_config() {
  // ZOOKEEPER-1783: the initial config has no version of its own; the first leader with
  // reconfig on gives it one (its epoch's first zxid), completed like a reconfig at
  // establishment, so every member's /zookeeper/config shows the same version.
  if (!config_.reconfig_enabled || active_->version != 0 || last_seen_) return;
  auto bumped = std::make_shared<QuorumConfig>(*active_);
  bumped->version = new_epoch_ << 32;
  see_config(std::move(bumped));
}

void Peer::hand_off(int64_t leader, int64_t now_ms) {
  reset_role();
  state_ = leader == config_.my_id                                    ? PeerState::kLeading
           : active_->role_of(config_.my_id) == QuorumRole::kObserver ? PeerState::kObserving
                                                                      : PeerState::kFollowing;
  leader_ = leader;
  role_started_ms_ = now_ms;
  // Looking servers asking this one learn the new leader, as from an election.
  election_.adopt(
      Decision{state_, Vote{leader, last_appended_, current_epoch_}, election_.election_epoch()});
  if (state_ == PeerState::kLeading)
    become_leader(now_ms);
  else
    become_learner(now_ms);
}

void Peer::settle(int64_t now_ms) {
  if (auto to = std::exchange(hand_off_to_, std::nullopt)) hand_off(*to, now_ms);
}

}  // namespace corral::zab
