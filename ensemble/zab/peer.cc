#include "ensemble/zab/peer.h"

#include <algorithm>
#include <cassert>

namespace corral::zab {
namespace {

/// Epochs are the high 32 bits of a zxid, which stays positive: a FOLLOWERINFO or
/// LEADERINFO with an epoch from here on is malformed.
constexpr int64_t kMaxEpoch = int64_t{1} << 31;

/// True when `m` could come from a leader of `epoch`: its txns and snapshot are of that
/// epoch or older, a SNAP carries its state and a TRUNC names a zxid. A leader that breaks this
/// could have the learner log a zxid twice (once leading that epoch itself: the txn log's insert
/// fails and the server stops) or install nothing.
bool lawful(const Message& m, int64_t epoch) {
  auto of_epoch = [&](int64_t zxid) { return zxid >= 0 && (zxid >> 32) <= epoch; };
  for (const auto& t : m.txns)
    if (!of_epoch(t.zxid)) return false;
  if (m.type == MessageType::kSync && m.sync_mode == SyncMode::kTrunc) return m.trunc_zxid >= 0;
  if (m.type != MessageType::kSync || m.sync_mode != SyncMode::kSnap) return true;
  return m.snapshot && of_epoch(m.snapshot->zxid);
}

Message message(MessageType type, int64_t to, int64_t epoch = 0, int64_t zxid = 0) {
  Message m;
  m.type = type;
  m.to = to;
  m.epoch = epoch;
  m.zxid = zxid;
  return m;
}

}  // namespace

Peer::Peer(PeerConfig config, PeerHistory history, int64_t now_ms)
    : config_(std::move(config)),
      election_(config_.my_id, config_.members, config_.election),
      accepted_epoch_(history.accepted_epoch),
      current_epoch_(history.current_epoch),
      last_logged_(history.last_zxid),
      last_appended_(history.last_zxid),
      last_committed_(history.last_zxid),
      history_(history.recent.begin(), history.recent.end()),
      abstaining_(history.abstaining) {
  history_base_ = history_.empty() ? last_logged_ : history_.front().zxid - 1;
  last_tick_ms_ = now_ms;
  look(now_ms);
}

bool Peer::is_voter(int64_t id) const {
  for (const auto& m : config_.members)
    if (m.id == id) return m.voter;
  return false;
}

bool Peer::quorum(const std::set<int64_t>& ids) const {
  size_t voters = 0, in = 0;
  for (const auto& m : config_.members) {
    if (!m.voter) continue;
    ++voters;
    if (ids.count(m.id)) ++in;
  }
  return in * 2 > voters;
}

// ---------------------------------------------------------------- roles

void Peer::look(int64_t now_ms) {
  state_ = PeerState::kLooking;
  leader_ = 0;
  serving_ = false;
  established_ = false;
  epoch_proposed_ = false;
  learners_.clear();
  outstanding_.clear();
  ack_marks_.clear();
  newleader_acks_.clear();
  synced_ = false;
  got_leader_info_ = false;
  pending_newleader_epoch_ = 0;
  pending_commit_zxid_ = 0;
  early_follower_info_.clear();
  // Proposals this peer appended but never saw committed stay in its log;
  // the next leader commits or truncates them. The vote counts them, as the
  // FOLLOWERINFO and ACKEPOCH do (ZooKeeper votes after flushing its log).
  election_.start(last_appended_, current_epoch_, now_ms, abstaining_);
  drain_election(now_ms);
}

void Peer::drain_election(int64_t now_ms) {
  for (auto& n : election_.take_outbox()) ready_.notifications.push_back(std::move(n));
  if (state_ == PeerState::kLooking && election_.decision()) on_decision(now_ms);
}

void Peer::on_decision(int64_t now_ms) {
  const Decision& d = *election_.decision();
  assert(!(abstaining_ && d.state == PeerState::kLeading) && "an abstaining peer never leads");
  state_ = d.state;
  leader_ = d.vote.leader;
  role_started_ms_ = now_ms;
  if (state_ == PeerState::kLeading)
    become_leader(now_ms);
  else
    become_learner(now_ms);
}

void Peer::tick(int64_t now_ms) {
  last_tick_ms_ = now_ms;
  switch (state_) {
    case PeerState::kLooking:
      election_.tick(now_ms);
      drain_election(now_ms);
      return;
    case PeerState::kLeading:
      return leader_tick(now_ms);
    default:
      return learner_tick(now_ms);
  }
}

void Peer::step_election(const Notification& n, int64_t now_ms) {
  if (state_ != PeerState::kLooking && n.state == PeerState::kLooking && n.from != config_.my_id &&
      election_.decision()) {
    // Tell a looking server who leads, with the epoch this peer synced to
    // (ZooKeeper's updateElectionVote, ZOOKEEPER-1732): members that decided
    // at different times then agree, and a newcomer sees a quorum for the leader.
    const Decision& d = *election_.decision();
    Vote v = d.vote;
    if (established_ || synced_) v.peer_epoch = current_epoch_;
    ready_.notifications.push_back(
        {n.from, Notification{config_.my_id, d.state, v, d.election_epoch, abstaining_}});
    return;
  }
  election_.receive(n, now_ms);
  drain_election(now_ms);
}

void Peer::step(const Message& m, int64_t now_ms) {
  if (state_ == PeerState::kLooking && m.type == MessageType::kFollowerInfo)
    early_follower_info_[m.from] = m;
  else if (state_ == PeerState::kLeading)
    leader_step(m, now_ms);
  else if (state_ != PeerState::kLooking && m.from == leader_)
    learner_step(m, now_ms);
}

void Peer::logged(int64_t zxid, int64_t now_ms) {
  // A batch written before a TRUNC may report a zxid that is no longer in the log.
  zxid = std::min(zxid, last_appended_);
  if (zxid <= last_logged_) return;
  last_logged_ = zxid;
  if (state_ == PeerState::kLeading) {
    leader_ack(config_.my_id, zxid);
    maybe_establish(now_ms);
    return;
  }
  if (state_ == PeerState::kLooking) return;
  if (pending_newleader_epoch_ && last_logged_ >= last_appended_) ack_newleader();
  if (synced_ && state_ == PeerState::kFollowing)
    send(message(MessageType::kAck, leader_, 0, zxid));
}

void Peer::disconnected(int64_t peer, int64_t now_ms) {
  if (state_ == PeerState::kLeading) {
    // Before the epoch is established, initLimit bounds the wait instead.
    bool was_learner = learners_.erase(peer) > 0;
    newleader_acks_.erase(peer);
    if (was_learner && established_ && !leader_has_quorum()) look(now_ms);
  } else if (state_ != PeerState::kLooking && peer == leader_) {
    look(now_ms);
  }
}

void Peer::diverged(int64_t good_zxid, int64_t now_ms) {
  // Like a TRUNC to the last txn the state reflects: the log stays a history the state
  // can be rebuilt from at the next start (recovery refuses a txn that does not fit).
  // Keeping the txns instead would not make this peer's vote honest either: its state
  // cannot take them, so it could not lead with them. Abstaining until a SNAP is what
  // keeps an acknowledged txn from being lost: every quorum that elects a leader without
  // this peer shares a voter with the quorum that acknowledged the txn, and that voter
  // still holds it.
  good_zxid = std::min(good_zxid, last_appended_);
  ready_.truncate_after = good_zxid;
  while (!history_.empty() && history_.back().zxid > good_zxid) history_.pop_back();
  history_base_ = std::min(history_base_, good_zxid);
  last_appended_ = last_logged_ = last_committed_ = good_zxid;
  abstaining_ = true;
  ready_.abstaining = true;
  look(now_ms);
}

Ready Peer::take_ready() {
  Ready out;
  std::swap(out, ready_);
  return out;
}

void Peer::send(Message m) {
  m.from = config_.my_id;
  ready_.messages.push_back(std::move(m));
}

void Peer::append_history(const tree::Txn& txn) {
  history_.push_back(txn);
  last_appended_ = txn.zxid;
  // Only committed txns may leave: the rest are still to be applied (or synced).
  while (history_.size() > config_.max_diff_txns && history_.front().zxid <= last_committed_) {
    history_base_ = history_.front().zxid;
    history_.pop_front();
  }
}

std::optional<size_t> Peer::history_index(int64_t zxid) const {
  auto it = std::lower_bound(history_.begin(), history_.end(), zxid,
                             [](const tree::Txn& t, int64_t z) { return t.zxid < z; });
  if (it == history_.end() || it->zxid != zxid) return std::nullopt;
  return static_cast<size_t>(it - history_.begin());
}

void Peer::commit_up_to(int64_t zxid) {
  auto it = std::upper_bound(history_.begin(), history_.end(), last_committed_,
                             [](int64_t z, const tree::Txn& t) { return z < t.zxid; });
  for (; it != history_.end() && it->zxid <= zxid; ++it) {
    ready_.committed.push_back(*it);
    last_committed_ = it->zxid;
  }
}

// ---------------------------------------------------------------- leader

void Peer::become_leader(int64_t now_ms) {
  learners_.clear();
  outstanding_.clear();
  ack_marks_.clear();
  newleader_acks_.clear();
  established_ = false;
  epoch_proposed_ = false;
  last_ping_ms_ = now_ms;
  maybe_start_epoch(now_ms);
  auto early = std::move(early_follower_info_);
  early_follower_info_.clear();
  for (const auto& [id, m] : early) leader_step(m, now_ms);
}

std::vector<int64_t> Peer::synced_followers() const {
  std::vector<int64_t> out;
  for (const auto& [id, l] : learners_)
    if (l.synced && !l.observer) out.push_back(id);
  return out;
}

std::vector<int64_t> Peer::synced_observers() const {
  std::vector<int64_t> out;
  for (const auto& [id, l] : learners_)
    if (l.synced && l.observer) out.push_back(id);
  return out;
}

bool Peer::leader_has_quorum() const {
  std::set<int64_t> alive{config_.my_id};
  for (const auto& [id, l] : learners_)
    if (counts(l) && (established_ ? l.synced : true)) alive.insert(id);
  return quorum(alive);
}

void Peer::leader_step(const Message& m, int64_t now_ms) {
  auto it = learners_.find(m.from);
  if (m.type == MessageType::kFollowerInfo) {
    // A learner that syncs again may have its log replaced (TRUNC, SNAP): its
    // earlier acks no longer vouch for anything until it acks again.
    for (auto& [zxid, p] : outstanding_) p.acks.erase(m.from);
    ack_marks_.erase(m.from);
    newleader_acks_.erase(m.from);
    // An epoch past the zxid's 32 bits cannot be followed by a new one (nor overflow).
    if (m.epoch < 0 || m.epoch >= kMaxEpoch) return;
    LearnerState& l = learners_[m.from];
    l = LearnerState{};
    l.observer = m.observer || !is_voter(m.from);
    l.wants_snapshot = m.wants_snapshot;
    l.accepted_epoch = m.epoch;
    l.last_zxid = m.zxid;
    l.last_heard_ms = now_ms;
    if (epoch_proposed_)
      send(message(MessageType::kLeaderInfo, m.from, new_epoch_));
    else
      maybe_start_epoch(now_ms);
    return;
  }
  if (it == learners_.end()) return;
  LearnerState& l = it->second;
  l.last_heard_ms = now_ms;
  switch (m.type) {
    case MessageType::kAckEpoch:
      if (!epoch_proposed_ || l.acked_epoch) return;
      // A learner that asks for a SNAP (it abstains) vouches for no history: it may be
      // "ahead" with an epoch from a sync that never completed, and electing again for it
      // would loop without it ever getting its SNAP.
      if (!established_ && !l.wants_snapshot &&
          (m.epoch > current_epoch_ || (m.epoch == current_epoch_ && m.zxid > last_appended_))) {
        // A learner more recent than this leader: the election went wrong (e.g.
        // followers of this server's previous life voted for it). Syncing would
        // truncate the learner's txns, committed ones included; ZooKeeper's
        // Leader.waitForEpochAck refuses such a follower. Elect again.
        return look(now_ms);
      }
      l.acked_epoch = true;
      l.last_zxid = m.zxid;
      if (established_) return sync_learner(m.from, l);
      {
        // Discovery ends with a quorum of epoch acks, none ahead of this
        // leader: only then is its history the one to sync to (ZooKeeper's
        // Leader.waitForEpochAck). A quorum holds every committed txn, so a
        // leader missing one has met a more recent learner by then.
        std::set<int64_t> acked{config_.my_id};
        // An abstaining learner's epoch ack does not count: its log may lack txns it
        // acknowledged, so it cannot vouch that this leader is not behind.
        for (const auto& [id, other] : learners_)
          if (other.acked_epoch && counts(other)) acked.insert(id);
        if (!quorum(acked)) return;
        for (auto& [id, other] : learners_)
          if (other.acked_epoch && !other.forwarding) sync_learner(id, other);
      }
      return;
    case MessageType::kAckNewLeader:
      if (l.synced || !l.forwarding) return;
      l.synced = true;
      newleader_acks_.insert(m.from);
      if (established_) {
        send(message(MessageType::kUpToDate, m.from, new_epoch_));
        if (!l.observer) leader_ack(m.from, m.zxid);
      } else {
        maybe_establish(now_ms);
      }
      return;
    case MessageType::kAck:
      if (l.synced && !l.observer) leader_ack(m.from, m.zxid);
      return;
    default:
      return;  // pings only refresh last_heard_ms
  }
}

void Peer::maybe_start_epoch(int64_t now_ms) {
  if (epoch_proposed_) return;
  std::set<int64_t> connected{config_.my_id};
  int64_t max_epoch = accepted_epoch_;
  for (const auto& [id, l] : learners_) {
    if (l.observer) continue;
    if (counts(l)) connected.insert(id);
    max_epoch = std::max(max_epoch, l.accepted_epoch);
  }
  if (!quorum(connected)) return;
  new_epoch_ = max_epoch + 1;
  accepted_epoch_ = new_epoch_;
  ready_.accepted_epoch = new_epoch_;
  epoch_proposed_ = true;
  for (const auto& [id, l] : learners_) send(message(MessageType::kLeaderInfo, id, new_epoch_));
  maybe_establish(now_ms);
}

void Peer::sync_learner(int64_t id, LearnerState& l) {
  Message m = message(MessageType::kSync, id);
  m.committed_zxid = established_ ? last_committed_ : last_appended_;
  int64_t from = l.last_zxid;
  if (established_ && from > last_committed_) {
    m.sync_mode = SyncMode::kTrunc;
    m.trunc_zxid = last_committed_;
    from = last_committed_;
  }
  bool diffable = from == last_appended_ || from == history_base_ || history_index(from);
  if (!diffable) {
    // The learner has txns we do not: keep its prefix that we share, drop the rest.
    auto below = std::lower_bound(history_.begin(), history_.end(), from,
                                  [](const tree::Txn& t, int64_t z) { return t.zxid < z; });
    int64_t trunc = below == history_.begin() ? history_base_ : std::prev(below)->zxid;
    if (trunc >= history_base_ && (trunc != history_base_ || from > history_base_)) {
      m.sync_mode = SyncMode::kTrunc;
      m.trunc_zxid = trunc;
      from = trunc;
      diffable = true;
    }
  }
  // A learner whose zxid is in the history gets a DIFF however long: a SNAP
  // would replace txns it holds durably with ones it has yet to log. One that found its
  // state wrong asks for a SNAP: a DIFF would build on that state.
  if (!diffable || from < history_base_ || l.wants_snapshot) {
    assert(snapshot_source_ && "a learner needs SNAP but no snapshot source is set");
    m.sync_mode = SyncMode::kSnap;
    m.snapshot = snapshot_source_();
    from = m.snapshot->zxid;
  }
  for (const auto& t : history_)
    if (t.zxid > from) m.txns.push_back(t);
  l.forwarding = true;  // from now on it gets every proposal and commit
  send(std::move(m));
  send(message(MessageType::kNewLeader, id, new_epoch_));
}

void Peer::maybe_establish(int64_t now_ms) {
  if (established_ || !epoch_proposed_) return;
  std::set<int64_t> acked;
  if (last_logged_ >= last_appended_) acked.insert(config_.my_id);
  for (int64_t id : newleader_acks_)
    if (!learners_[id].observer) acked.insert(id);
  if (!quorum(acked)) return;
  // A quorum holds the leader's whole history durably: it is committed.
  established_ = true;
  serving_ = true;
  current_epoch_ = new_epoch_;
  ready_.current_epoch = new_epoch_;
  zxid_counter_ = 0;
  // Txns this process appended in an earlier role and never saw committed are
  // part of that history: the state machine gets them now.
  commit_up_to(last_appended_);
  for (const auto& [id, l] : learners_)
    if (l.synced) send(message(MessageType::kUpToDate, id, new_epoch_));
}

std::optional<int64_t> Peer::propose(tree::Txn txn, int64_t now_ms) {
  if (state_ != PeerState::kLeading || !serving_) return std::nullopt;
  if (zxid_counter_ >= config_.max_zxid_counter) {
    // The counter would wrap into the epoch bits: a new epoch is needed.
    look(now_ms);
    return std::nullopt;
  }
  txn.zxid = new_epoch_ << 32 | ++zxid_counter_;
  append_history(txn);
  ready_.to_log.push_back(txn);
  outstanding_[txn.zxid] = Proposal{txn, {}};
  for (const auto& [id, l] : learners_) {
    if (!l.forwarding || l.observer) continue;
    Message m = message(MessageType::kProposal, id);
    m.txns.push_back(txn);
    send(std::move(m));
  }
  return txn.zxid;
}

void Peer::leader_ack(int64_t from, int64_t zxid) {
  auto mark = ack_marks_.find(from);
  auto it =
      mark == ack_marks_.end() ? outstanding_.begin() : outstanding_.upper_bound(mark->second);
  for (; it != outstanding_.end() && it->first <= zxid; ++it) it->second.acks.insert(from);
  if (mark == ack_marks_.end())
    ack_marks_[from] = zxid;
  else
    mark->second = std::max(mark->second, zxid);
  maybe_commit();
}

void Peer::maybe_commit() {
  while (!outstanding_.empty() && quorum(outstanding_.begin()->second.acks)) {
    const tree::Txn& txn = outstanding_.begin()->second.txn;
    last_committed_ = txn.zxid;
    ready_.committed.push_back(txn);
    for (const auto& [id, l] : learners_) {
      if (!l.forwarding) continue;
      if (l.observer) {
        Message m = message(MessageType::kInform, id);
        m.txns.push_back(txn);
        send(std::move(m));
      } else {
        send(message(MessageType::kCommit, id, 0, txn.zxid));
      }
    }
    outstanding_.erase(outstanding_.begin());
  }
}

void Peer::leader_tick(int64_t now_ms) {
  int64_t limit_ms = (established_ ? config_.sync_limit : config_.init_limit) * config_.tick_ms;
  for (auto it = learners_.begin(); it != learners_.end();) {
    if (now_ms - it->second.last_heard_ms > limit_ms) {
      newleader_acks_.erase(it->first);
      it = learners_.erase(it);
    } else {
      ++it;
    }
  }
  if (!established_ && now_ms - role_started_ms_ > config_.init_limit * config_.tick_ms)
    return look(now_ms);
  if (established_ && !leader_has_quorum()) return look(now_ms);
  if (now_ms - last_ping_ms_ >= config_.tick_ms / 2) {
    last_ping_ms_ = now_ms;
    for (const auto& [id, l] : learners_) send(message(MessageType::kPing, id));
  }
}

// ---------------------------------------------------------------- learner

void Peer::become_learner(int64_t now_ms) {
  serving_ = false;
  synced_ = false;
  got_leader_info_ = false;
  last_heard_leader_ms_ = now_ms;
  send_follower_info(now_ms);
}

void Peer::send_follower_info(int64_t now_ms) {
  Message m = message(MessageType::kFollowerInfo, leader_, accepted_epoch_, last_appended_);
  m.observer = state_ == PeerState::kObserving;
  m.wants_snapshot = abstaining_;
  send(std::move(m));
  follower_info_sent_ms_ = now_ms;
}

void Peer::learner_step(const Message& m, int64_t now_ms) {
  // Only what a leader sends shows it leads (two learners may each think the
  // other leads and keep sending FOLLOWERINFO).
  if (m.type == MessageType::kFollowerInfo || m.type == MessageType::kAckEpoch ||
      m.type == MessageType::kAckNewLeader || m.type == MessageType::kAck)
    return;
  last_heard_leader_ms_ = now_ms;
  if (!lawful(m, accepted_epoch_)) return look(now_ms);
  switch (m.type) {
    case MessageType::kLeaderInfo:
      got_leader_info_ = true;
      if (m.epoch < accepted_epoch_ || m.epoch >= kMaxEpoch) return look(now_ms);
      if (m.epoch > accepted_epoch_) {
        accepted_epoch_ = m.epoch;
        ready_.accepted_epoch = m.epoch;
      }
      send(message(MessageType::kAckEpoch, leader_, current_epoch_, last_appended_));
      return;
    case MessageType::kSync:
      // An abstainer holds a state it found wrong: a DIFF or TRUNC would build on it, and
      // its ACKNEWLEADER would then vouch for a history it does not hold.
      if (abstaining_ && m.sync_mode != SyncMode::kSnap) return look(now_ms);
      return learner_sync(m);
    case MessageType::kNewLeader:
      // The new epoch becomes current only once the sync stream is durable (see
      // ack_newleader): with the epoch but not the txns, this peer could win
      // the next election with a short log and truncate committed txns away.
      // It is the epoch this peer accepted from LEADERINFO: a leader that names another
      // (or none) breaks the protocol, and taking it would move currentEpoch past
      // acceptedEpoch, or back. ZooKeeper's Learner also uses the LEADERINFO epoch.
      if (!got_leader_info_ || m.epoch != accepted_epoch_) return look(now_ms);
      pending_newleader_epoch_ = m.epoch;
      if (last_logged_ >= last_appended_) ack_newleader();
      return;
    case MessageType::kUpToDate:
      synced_ = true;
      serving_ = true;
      commit_up_to(std::max(sync_committed_zxid_, pending_commit_zxid_));
      // Proposals logged while waiting for UPTODATE were not acknowledged yet.
      if (state_ == PeerState::kFollowing)
        send(message(MessageType::kAck, leader_, 0, last_logged_));
      return;
    case MessageType::kProposal:
      for (const auto& t : m.txns) {
        // The log only grows in zxid order: a repeated or older zxid (a confused or
        // malicious leader) would fail the txn log's insert and stop this server.
        if (t.zxid <= last_appended_) continue;
        append_history(t);
        ready_.to_log.push_back(t);
      }
      return;
    case MessageType::kCommit:
      if (serving_)
        commit_up_to(m.zxid);
      else
        pending_commit_zxid_ = std::max(pending_commit_zxid_, m.zxid);
      return;
    case MessageType::kInform:
      for (const auto& t : m.txns) {
        // A txn already sent in this observer's sync comes again when it commits.
        if (t.zxid > last_appended_) {
          append_history(t);
          ready_.to_log.push_back(t);
        }
        if (serving_)
          commit_up_to(t.zxid);
        else
          pending_commit_zxid_ = std::max(pending_commit_zxid_, t.zxid);
      }
      return;
    case MessageType::kPing:
      send(message(MessageType::kPing, leader_));
      return;
    default:
      return;
  }
}

void Peer::learner_sync(const Message& m) {
  if (m.sync_mode == SyncMode::kSnap) {
    ready_.install_snapshot = m.snapshot;
    if (abstaining_) ready_.abstaining = false;  // the leader's state replaces the wrong one
    abstaining_ = false;
    history_.clear();
    history_base_ = m.snapshot->zxid;
    last_logged_ = last_appended_ = last_committed_ = m.snapshot->zxid;
  } else if (m.sync_mode == SyncMode::kTrunc) {
    // Where the log ends once truncated: the driver checks its storage gets there.
    ready_.truncate_after = std::min(m.trunc_zxid, last_appended_);
    history_base_ = std::min(history_base_, m.trunc_zxid);
    while (!history_.empty() && history_.back().zxid > m.trunc_zxid) history_.pop_back();
    last_appended_ = std::min(last_appended_, m.trunc_zxid);
    last_logged_ = std::min(last_logged_, m.trunc_zxid);
    // The driver rebuilds its state from the truncated log: all of it counts as applied.
    last_committed_ = last_appended_;
  }
  for (const auto& t : m.txns) {
    // A txn still being logged from before may come again in a DIFF: append once.
    if (t.zxid <= last_appended_) continue;
    append_history(t);
    ready_.to_log.push_back(t);
  }
  sync_committed_zxid_ = m.committed_zxid;
}

void Peer::ack_newleader() {
  current_epoch_ = pending_newleader_epoch_;
  ready_.current_epoch = current_epoch_;
  send(message(MessageType::kAckNewLeader, leader_, pending_newleader_epoch_, last_logged_));
  pending_newleader_epoch_ = 0;
}

void Peer::learner_tick(int64_t now_ms) {
  int64_t limit = (synced_ ? config_.sync_limit : config_.init_limit) * config_.tick_ms;
  if (now_ms - last_heard_leader_ms_ > limit) return look(now_ms);
  // The leader may have decided after us and missed our first FOLLOWERINFO.
  if (!got_leader_info_ && now_ms - follower_info_sent_ms_ >= config_.election.min_resend_ms)
    send_follower_info(now_ms);
}

}  // namespace corral::zab
