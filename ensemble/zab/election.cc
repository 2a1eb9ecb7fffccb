#include "ensemble/zab/election.h"

#include <algorithm>
#include <limits>

namespace corral::zab {
namespace {

/// Election rounds from here on are refused (see Election::receive).
constexpr int64_t kMaxElectionEpoch = int64_t{1} << 62;

/// A static member list as a config at version 0 (ZooKeeper's static mode).
std::shared_ptr<const QuorumConfig> config_of_members(const std::vector<Member>& members) {
  auto config = std::make_shared<QuorumConfig>();
  for (const auto& m : members) {
    QuorumServer& s = config->servers[m.id];
    s.id = m.id;
    s.role = m.voter ? QuorumRole::kParticipant : QuorumRole::kObserver;
  }
  return config;
}

}  // namespace

bool vote_beats(const Vote& a, const Vote& b) {
  if (a.peer_epoch != b.peer_epoch) return a.peer_epoch > b.peer_epoch;
  if (a.zxid != b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

Election::Election(int64_t my_id, std::vector<Member> members, ElectionTiming timing)
    : my_id_(my_id), config_(config_of_members(members)), timing_(timing) {}

void Election::set_config(std::shared_ptr<const QuorumConfig> config) {
  config_ = std::move(config);
}

bool Election::is_voter(int64_t id) const {
  return config_->role_of(id) == QuorumRole::kParticipant;
}

void Election::adopt(const Decision& d) {
  looking_ = false;
  finalize_at_ms_.reset();
  decision_ = d;
  proposal_ = d.vote;
}

void Election::stamp(Notification& n) const {
  if (!gossip_) return;
  n.config_version = config_->version;
  n.config = config_->text();
}

void Election::maybe_adopt(const Notification& n, int64_t now_ms) {
  if (!gossip_ || n.config_version <= config_->version) return;
  // Only a member of the active or the pending config may move this one on
  // (ZooKeeper's FastLeaderElection takes a config only from a known server).
  if (!config_->servers.count(n.from) && !(pending_ && pending_->servers.count(n.from))) return;
  auto parsed = parse_dynamic(n.config);
  auto* config = std::get_if<QuorumConfig>(&parsed);
  // A text that does not parse, or names another version, is a corrupt peer's.
  if (!config || config->version != n.config_version || config->voters().empty()) return;
  config_ = std::make_shared<const QuorumConfig>(std::move(*config));
  adopted_ = config_;
  // Votes counted under the old member list mean nothing under the new one.
  start(last_zxid_, current_epoch_, now_ms, abstaining_);
}

void Election::start(int64_t last_zxid, int64_t current_epoch, int64_t now_ms, bool abstaining) {
  decision_.reset();
  looking_ = true;
  abstaining_ = abstaining;
  last_zxid_ = last_zxid;
  current_epoch_ = current_epoch;
  ++logical_clock_;
  recvset_.clear();
  out_of_election_.clear();
  finalize_at_ms_.reset();
  // An observer (or an abstainer) never proposes itself: its own vote loses to every voter's.
  own_ = votes() ? Vote{my_id_, last_zxid, current_epoch}
                 : Vote{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::min()};
  proposal_ = own_;
  resend_interval_ms_ = timing_.min_resend_ms;
  last_activity_ms_ = now_ms;
  if (votes()) recvset_[my_id_] = {proposal_, logical_clock_, PeerState::kLooking};
  broadcast();
}

void Election::reset() {
  decision_.reset();
  looking_ = false;
}

void Election::receive(const Notification& n, int64_t now_ms) {
  if (n.from == my_id_) return;
  // A round no ensemble reaches (one per election) or a negative one is a corrupt peer's:
  // taking it as the logical clock would overflow the next start().
  if (n.election_epoch < 0 || n.election_epoch >= kMaxElectionEpoch) return;
  // The round restarts under a newer config, then counts this notification in it.
  if (looking_) maybe_adopt(n, now_ms);
  if (!looking_) {
    // Decided (or idle): tell a looking peer who leads, so it can join.
    if (decision_ && n.state == PeerState::kLooking)
      send(n.from, decision_->state, decision_->vote);
    return;
  }
  if (!is_voter(n.from)) {
    // Observers do not vote, but they learn the current proposal from voters.
    // Only voters answer: an observer's proposal is of no use to anyone, and
    // two looking observers answering each other would never stop.
    if (n.state == PeerState::kLooking && votes()) send(n.from, PeerState::kLooking, proposal_);
    return;
  }
  if (n.abstaining) {
    // Its log may lack txns it acknowledged: its vote, or the role it announces, must not
    // help elect a leader that lacks them. What it said before it abstained goes too.
    recvset_.erase(n.from);
    out_of_election_.erase(n.from);
    if (!has_quorum(recvset_, proposal_, logical_clock_, PeerState::kLooking))
      finalize_at_ms_.reset();
    return;
  }
  // Only a counted voter's word defers the resend (ZooKeeper answers the others in
  // WorkerReceiver, never waking lookForLeader): an observer or a stranger that keeps
  // asking would otherwise keep the voters from ever telling each other again.
  last_activity_ms_ = now_ms;
  // Only what a quorum of the others already decided tells an abstainer whom to follow:
  // a looking vote would have it take part in the election.
  if (abstaining_ && n.state == PeerState::kLooking) return;
  // Only a voter can lead: a vote for an observer or a stranger (a corrupt or malicious
  // peer's) would have this server follow nobody until initLimit, again and again. As
  // ZooKeeper's FastLeaderElection (validVoter(n.leader)), ignore it.
  if (!is_voter(n.vote.leader)) return;
  if (n.state == PeerState::kLooking)
    on_looking(n, now_ms);
  else if (n.state != PeerState::kObserving)
    on_decided_peer(n);
}

void Election::on_looking(const Notification& n, int64_t now_ms) {
  if (n.election_epoch > logical_clock_) {
    logical_clock_ = n.election_epoch;
    recvset_.clear();
    update_proposal(vote_beats(n.vote, own_) ? n.vote : own_);
    if (votes()) recvset_[my_id_] = {proposal_, logical_clock_, PeerState::kLooking};
    broadcast();
  } else if (n.election_epoch < logical_clock_) {
    // A peer in an older round: bring it up to date. Not from an observer:
    // the voter ignores an observer's round and would just answer again.
    if (is_voter(my_id_)) send(n.from, PeerState::kLooking, proposal_);
    return;
  } else if (vote_beats(n.vote, proposal_)) {
    update_proposal(n.vote);
    if (votes()) recvset_[my_id_] = {proposal_, logical_clock_, PeerState::kLooking};
    broadcast();
  }
  recvset_[n.from] = {n.vote, n.election_epoch, n.state};
  if (!has_quorum(recvset_, proposal_, logical_clock_, PeerState::kLooking)) {
    finalize_at_ms_.reset();
    return;
  }
  if (all_voters_agree()) return decide(proposal_, logical_clock_);
  // A quorum agrees; give a better vote a moment to arrive before deciding.
  if (!finalize_at_ms_) finalize_at_ms_ = now_ms + timing_.finalize_wait_ms;
}

void Election::on_decided_peer(const Notification& n) {
  Received r{n.vote, n.election_epoch, n.state};
  if (n.election_epoch == logical_clock_) {
    recvset_[n.from] = r;
    if (has_quorum(recvset_, n.vote, n.election_epoch, n.state) &&
        leader_confirmed(recvset_, n.vote.leader, n.election_epoch))
      return decide(n.vote, n.election_epoch);
    // The peer's vote may have replaced one that a pending finalize counts on.
    if (!has_quorum(recvset_, proposal_, logical_clock_, PeerState::kLooking))
      finalize_at_ms_.reset();
  }
  // The ensemble may have decided in a round we missed: join it once a quorum
  // of servers that left the election agree and the leader says it leads.
  out_of_election_[n.from] = r;
  if (has_quorum(out_of_election_, n.vote, n.election_epoch, n.state) &&
      leader_confirmed(out_of_election_, n.vote.leader, n.election_epoch)) {
    logical_clock_ = n.election_epoch;
    decide(n.vote, n.election_epoch);
  }
}

bool Election::has_quorum(const std::map<int64_t, Received>& votes, const Vote& v,
                          int64_t election_epoch, PeerState state) const {
  size_t voters = 0, agreeing = 0;
  for (int64_t id : config_->voters()) {
    ++voters;
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    const Received& r = it->second;
    // As ZooKeeper's Vote.equals: decided servers agree on the leader and its
    // epoch whatever round each decided in (a server that joined later took
    // the round of whoever told it; ZOOKEEPER-1805).
    const bool decided = state != PeerState::kLooking && r.state != PeerState::kLooking;
    if (decided ? r.vote.leader == v.leader && r.vote.peer_epoch == v.peer_epoch
                : r.vote == v && r.election_epoch == election_epoch)
      ++agreeing;
  }
  return agreeing * 2 > voters;
}

bool Election::all_voters_agree() const {
  for (int64_t id : config_->voters()) {
    auto it = recvset_.find(id);
    if (it == recvset_.end() || !(it->second.vote == proposal_)) return false;
  }
  return true;
}

bool Election::leader_confirmed(const std::map<int64_t, Received>& votes, int64_t leader,
                                int64_t election_epoch) const {
  if (leader == my_id_) return !abstaining_ && logical_clock_ == election_epoch;
  auto it = votes.find(leader);
  return it != votes.end() && it->second.state == PeerState::kLeading;
}

void Election::tick(int64_t now_ms) {
  if (!looking_) return;
  if (finalize_at_ms_ && now_ms >= *finalize_at_ms_) return decide(proposal_, logical_clock_);
  if (now_ms - last_activity_ms_ >= resend_interval_ms_) {
    // Nothing heard for a while: tell everyone again, backing off.
    broadcast();
    last_activity_ms_ = now_ms;
    resend_interval_ms_ = std::min(resend_interval_ms_ * 2, timing_.max_resend_ms);
  }
}

void Election::decide(const Vote& v, int64_t election_epoch) {
  looking_ = false;
  finalize_at_ms_.reset();
  // Only a listed observer observes: a server outside the config follows without a vote
  // (ZooKeeper's non-voting participant), so a joiner gets proposals and acks them.
  PeerState state = config_->role_of(my_id_) == QuorumRole::kObserver ? PeerState::kObserving
                    : v.leader == my_id_                              ? PeerState::kLeading
                                                                      : PeerState::kFollowing;
  decision_ = Decision{state, v, election_epoch};
  proposal_ = v;
}

void Election::update_proposal(const Vote& v) {
  proposal_ = v;
  finalize_at_ms_.reset();
}

void Election::broadcast() {
  for (const auto& [id, server] : config_->servers)
    if (id != my_id_) send(id, PeerState::kLooking, proposal_);
}

void Election::send(int64_t to, PeerState state, const Vote& v) {
  outbox_.push_back({to, current_message(state, v)});
}

Notification Election::current_message(PeerState state, const Vote& v) const {
  Notification n{my_id_, state, v, decision_ ? decision_->election_epoch : logical_clock_,
                 abstaining_};
  stamp(n);
  return n;
}

std::vector<std::pair<int64_t, Notification>> Election::take_outbox() {
  std::vector<std::pair<int64_t, Notification>> out;
  out.swap(outbox_);
  return out;
}

}  // namespace corral::zab
