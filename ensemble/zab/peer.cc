#include "ensemble/zab/peer.h"

#include <algorithm>
#include <cassert>
#include <iterator>

#include "ensemble/zab/peer_internal.h"

namespace corral::zab {

using detail::approx_bytes;
using detail::kMaxEpoch;
using detail::message;

Peer::Peer(PeerConfig config, PeerHistory history, int64_t now_ms)
    : config_(std::move(config)),
      election_(config_.my_id, config_.members, config_.election),
      active_(history.active),
      last_seen_(history.last_seen),
      accepted_epoch_(history.accepted_epoch),
      current_epoch_(history.current_epoch),
      last_logged_(history.last_zxid),
      last_appended_(history.last_zxid),
      last_committed_(history.last_zxid),
      abstaining_(history.abstaining) {
  for (auto& t : history.recent) push_history(tree::share(std::move(t)));
  history_base_ = history_.empty() ? last_logged_ : history_.front()->zxid - 1;
  trim_history();  // within history_bytes too
  if (active_)
    election_.set_config(active_);
  else
    active_ = election_.config();
  // With reconfig off, membership is static: no pending config survives a restart.
  if (!config_.reconfig_enabled || (last_seen_ && last_seen_->version <= active_->version))
    last_seen_ = nullptr;
  election_.set_gossip(config_.reconfig_enabled);
  last_tick_ms_ = now_ms;
  look(now_ms);
}

size_t detail::approx_bytes(const tree::Txn& t) {
  size_t n = 64 + t.session_passwd.size();
  for (const auto& op : t.ops) {
    n += 48 + op.path.size() + op.data.size();
    for (const auto& a : op.acl) n += 16 + a.id.scheme.size() + a.id.id.size();
  }
  return n;
}

// ---------------------------------------------------------------- roles

void Peer::look(int64_t now_ms) {
  reset_role();
  state_ = PeerState::kLooking;
  early_follower_info_.clear();
  election_.set_pending(last_seen_);
  // Proposals this peer appended but never saw committed stay in its log;
  // the next leader commits or truncates them. The vote counts them, as the
  // FOLLOWERINFO and ACKEPOCH do (ZooKeeper votes after flushing its log).
  election_.start(last_appended_, current_epoch_, now_ms, abstaining_);
  drain_election(now_ms);
}

void Peer::reset_role() {
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
  pending_designated_ = 0;
  newleader_config_.reset();
  hand_off_to_.reset();
}

void Peer::drain_election(int64_t now_ms) {
  if (auto adopted = election_.take_adopted()) {
    // A newer committed config from a notification (the election already counts by it).
    active_ = adopted;
    if (last_seen_ && last_seen_->version <= active_->version) last_seen_ = nullptr;
    election_.set_pending(last_seen_);
    ready_.activated = Activation{std::move(adopted), 0, false};
  }
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
      leader_tick(now_ms);
      break;
    default:
      learner_tick(now_ms);
      break;
  }
  settle(now_ms);
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
    Notification answer{config_.my_id, d.state, v, d.election_epoch, abstaining_};
    election_.stamp(answer);
    ready_.notifications.push_back({n.from, std::move(answer)});
    return;
  }
  election_.receive(n, now_ms);
  drain_election(now_ms);
}

void Peer::step(const Message& m, int64_t now_ms) {
  // A FOLLOWERINFO to a server not leading (yet) is kept: an election or a reconfig's
  // hand-off may make it lead, and the learner need not wait for its resend.
  if (state_ != PeerState::kLeading && m.type == MessageType::kFollowerInfo)
    early_follower_info_[m.from] = m;
  else if (state_ == PeerState::kLeading)
    leader_step(m, now_ms);
  else if (state_ != PeerState::kLooking && m.from == leader_)
    learner_step(m, now_ms);
  settle(now_ms);
}

void Peer::logged(int64_t zxid, int64_t now_ms) {
  // A batch written before a TRUNC may report a zxid that is no longer in the log.
  zxid = std::min(zxid, last_appended_);
  if (zxid <= last_logged_) return;
  last_logged_ = zxid;
  trim_history();
  if (state_ == PeerState::kLeading) {
    leader_ack(config_.my_id, zxid);
    maybe_establish(now_ms);
    return settle(now_ms);
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
  drop_history_after(good_zxid);
  history_base_ = std::min(history_base_, good_zxid);
  last_appended_ = last_logged_ = last_committed_ = good_zxid;
  unsee_configs_after(good_zxid);
  abstaining_ = true;
  ready_.abstaining = true;
  look(now_ms);
}

Ready Peer::take_ready() {
  Ready out;
  std::swap(out, ready_);
  fold_bytes_.clear();
  return out;
}

namespace {

// The txns' size as encoded, roughly (a little over: the record's field tags and varints).
size_t approx_bytes(const std::vector<tree::SharedTxn>& txns) {
  size_t n = 0;
  for (const auto& t : txns) n += detail::approx_bytes(*t);
  return n;
}

// Folds `m` into `last`, the message before it in the same Ready to the same peer, where one
// message says what both did: a PROPOSAL (and an observer's INFORM) carries its txns in order,
// and a COMMIT commits every txn up to its zxid. A message naming the leader a reconfig
// designates stays on its own. `last_bytes` is approx_bytes(last.txns), kept as txns join.
bool fold_into(Message& last, size_t& last_bytes, Message& m) {
  if (last.type != m.type || last.designated_leader || m.designated_leader) return false;
  switch (m.type) {
    case MessageType::kProposal:
    case MessageType::kInform:
      // A frame must stay within the quorum's frame limit (2 MiB at least): txns fold only
      // while they stay small together; a bigger one travels alone, as every txn did.
      if (size_t more = approx_bytes(m.txns); last_bytes + more <= kFoldBytes) {
        last_bytes += more;
      } else {
        return false;
      }
      last.txns.insert(last.txns.end(), std::make_move_iterator(m.txns.begin()),
                       std::make_move_iterator(m.txns.end()));
      return true;
    case MessageType::kCommit:
      last.zxid = std::max(last.zxid, m.zxid);
      return true;
    default:
      return false;
  }
}

}  // namespace

void Peer::send(Message m) {
  m.from = config_.my_id;
  // A burst of writes would otherwise be a frame per txn and learner, twice (PROPOSAL and
  // COMMIT): each frame is encoded, sent, decoded and stepped through on its own.
  for (auto it = ready_.messages.rbegin(); it != ready_.messages.rend(); ++it) {
    if (it->to != m.to) continue;
    if (fold_into(*it, fold_bytes_[m.to], m)) return;
    break;
  }
  fold_bytes_[m.to] = approx_bytes(m.txns);
  ready_.messages.push_back(std::move(m));
}

void Peer::append_history(tree::SharedTxn txn) {
  const int64_t zxid = txn->zxid;
  push_history(std::move(txn));  // a failed push leaves last_appended_ as it was
  last_appended_ = zxid;
  trim_history();
}

void Peer::push_history(tree::SharedTxn txn) {
  // The txn's encoding, kept with it (Txn::record), is memory the history holds too.
  const size_t bytes = approx_bytes(*txn) + txn->record.size();
  history_sizes_.push_back(bytes);
  history_bytes_ += bytes;
  try {
    history_.push_back(std::move(txn));
  } catch (...) {
    history_bytes_ -= bytes;
    history_sizes_.pop_back();
    throw;
  }
}

void Peer::clear_history() {
  history_.clear();
  history_sizes_.clear();
  history_bytes_ = 0;
}

void Peer::drop_history_after(int64_t zxid) {
  while (!history_.empty() && history_.back()->zxid > zxid) {
    history_bytes_ -= history_sizes_.back();
    history_sizes_.pop_back();
    history_.pop_back();
  }
}

void Peer::trim_history() {
  // Only txns both committed and logged may leave: the rest are still to be applied (or
  // synced), and a DIFF reads those that left from the durable log.
  while (!history_.empty() &&
         (history_.size() > config_.history_txns || history_bytes_ > config_.history_bytes) &&
         history_.front()->zxid <= std::min(last_committed_, last_logged_)) {
    history_base_ = history_.front()->zxid;
    history_bytes_ -= history_sizes_.front();
    history_sizes_.pop_front();
    history_.pop_front();
  }
}

std::optional<size_t> Peer::history_index(int64_t zxid) const {
  auto it = std::lower_bound(history_.begin(), history_.end(), zxid,
                             [](const tree::SharedTxn& t, int64_t z) { return t->zxid < z; });
  if (it == history_.end() || (*it)->zxid != zxid) return std::nullopt;
  return static_cast<size_t>(it - history_.begin());
}

void Peer::commit_up_to(int64_t zxid, int64_t designated) {
  auto it = std::upper_bound(history_.begin(), history_.end(), last_committed_,
                             [](int64_t z, const tree::SharedTxn& t) { return z < t->zxid; });
  for (; it != history_.end() && (*it)->zxid <= zxid; ++it) {
    ready_.committed.push_back(*it);
    last_committed_ = (*it)->zxid;
    // Activation in commit order, whatever delivered the commit (COMMIT, INFORM, a SYNC's
    // committed zxid, UPTODATE, or a new leader committing its history).
    if (auto config = config_in(**it)) {
      int64_t to = designated                      ? designated
                   : state_ == PeerState::kLeading ? designate_at_establishment(*config)
                                                   : leader_;
      activate(std::move(config), to, true);
    }
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

bool Peer::quorum_synced(const QuorumConfig& config) const {
  std::vector<int64_t> ids{config_.my_id};  // majority() counts it only if a voter
  for (const auto& [id, l] : learners_)
    if (l.synced && !l.observer && counts(l)) ids.push_back(id);
  return config.majority(ids);
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
  return learner_quorum(true,
                        [&](int64_t, const LearnerState& l) { return !established_ || l.synced; });
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
    // A learner with a newer committed config than this leader's is refused
    // (LearnerHandler): syncing it would undo that config. Gossip fixes the leader later.
    if (config_.reconfig_enabled && m.config_version > active_->version) {
      learners_.erase(m.from);
      return;
    }
    LearnerState& l = learners_[m.from];
    l = LearnerState{};
    // Only a declared observer gets INFORM: every other learner, member or not, gets
    // PROPOSALs and acks them, and the configs decide whose acks count.
    l.observer = m.observer;
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
        // An abstaining learner's epoch ack does not count (see counts): its log may lack
        // txns it acknowledged, so it cannot vouch that this leader is not behind.
        if (!learner_quorum(true, [](int64_t, const LearnerState& o) { return o.acked_epoch; }))
          return;
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
  int64_t max_epoch = accepted_epoch_;
  for (const auto& [id, l] : learners_)
    if (!l.observer) max_epoch = std::max(max_epoch, l.accepted_epoch);
  if (!learner_quorum(true, [](int64_t, const LearnerState&) { return true; })) return;
  new_epoch_ = max_epoch + 1;
  accepted_epoch_ = new_epoch_;
  ready_.accepted_epoch = new_epoch_;
  epoch_proposed_ = true;
  maybe_bump_config();
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
                                  [](const tree::SharedTxn& t, int64_t z) { return t->zxid < z; });
    int64_t trunc = below == history_.begin() ? history_base_ : (*std::prev(below))->zxid;
    if (trunc >= history_base_ && (trunc != history_base_ || from > history_base_)) {
      m.sync_mode = SyncMode::kTrunc;
      m.trunc_zxid = trunc;
      from = trunc;
      diffable = true;
    }
  }
  const bool log_diff_ok = no_log_diff_.erase(id) == 0;
  if (from < history_base_ && log_floor_ && log_diff_ok) {
    // Older than the history in memory: the durable log serves the txns up to its start.
    if (std::optional<int64_t> floor = log_floor_(from)) {
      if (*floor != from) {
        m.sync_mode = SyncMode::kTrunc;
        m.trunc_zxid = *floor;
        from = *floor;
      }
      m.log_from = from;
      m.log_to = history_base_;
      diffable = true;
    }
  }
  // A learner whose zxid is in the history or the log gets a DIFF however long: a SNAP
  // would replace txns it holds durably with ones it has yet to log. One that found its
  // state wrong asks for a SNAP: a DIFF would build on that state.
  if (!diffable || (from < history_base_ && !m.log_to) || l.wants_snapshot) {
    m.log_from = m.log_to = 0;
    assert(snapshot_source_ && "a learner needs SNAP but no snapshot source is set");
    m.sync_mode = SyncMode::kSnap;
    m.snapshot = snapshot_source_();
    from = m.snapshot->zxid;
  }
  for (const auto& t : history_)
    if (t->zxid > from) m.txns.push_back(t);
  l.forwarding = true;  // from now on it gets every proposal and commit
  send(std::move(m));
  Message newleader = message(MessageType::kNewLeader, id, new_epoch_);
  newleader.config = newleader_config_text();
  send(std::move(newleader));
}

void Peer::maybe_establish(int64_t now_ms) {
  if (established_ || !epoch_proposed_) return;
  if (!learner_quorum(last_logged_ >= last_appended_, [&](int64_t id, const LearnerState&) {
        return newleader_acks_.count(id) > 0;
      }))
    return;
  // A quorum holds the leader's whole history durably: it is committed.
  established_ = true;
  serving_ = true;
  current_epoch_ = new_epoch_;
  ready_.current_epoch = new_epoch_;
  zxid_counter_ = 0;
  // Txns this process appended in an earlier role and never saw committed are
  // part of that history: the state machine gets them now, a reconfig among them activated.
  commit_up_to(last_appended_);
  // A last-seen config no txn carries (the version-0 re-issue) is complete now too.
  if (last_seen_) {
    int64_t designated = designate_at_establishment(*last_seen_);
    activate(last_seen_, designated, false);
  }
  for (const auto& [id, l] : learners_) {
    if (!l.synced) continue;
    Message up = message(MessageType::kUpToDate, id, new_epoch_);
    up.designated_leader = hand_off_to_.value_or(0);
    send(std::move(up));
  }
}

std::optional<int64_t> Peer::propose(tree::Txn txn, int64_t now_ms) {
  if (state_ != PeerState::kLeading || !serving_) return std::nullopt;
  if (zxid_counter_ >= config_.max_zxid_counter) {
    // The counter would wrap into the epoch bits: a new epoch is needed.
    look(now_ms);
    return std::nullopt;
  }
  txn.zxid = new_epoch_ << 32 | (zxid_counter_ + 1);
  // Encoded before the peer changes: an encoder that throws leaves it as it was.
  if (config_.encode_txn) txn.record = config_.encode_txn(txn);
  ++zxid_counter_;
  if (auto config = config_in(txn)) {
    assert(!last_seen_ && "one reconfig at a time: the prep answers INPROGRESS");
    assert(config->version == txn.zxid && "a reconfig's config is versioned by its zxid");
    see_config(std::move(config));
  }
  const int64_t zxid = txn.zxid;
  // From here on the txn is shared, never copied: a copy costs a few allocations and its data.
  tree::SharedTxn shared = tree::share(std::move(txn));
  append_history(shared);
  ready_.to_log.push_back(shared);
  for (const auto& [id, l] : learners_) {
    if (!l.forwarding || l.observer) continue;
    Message m = message(MessageType::kProposal, id);
    m.txns.push_back(shared);
    send(std::move(m));
  }
  // While a reconfig is pending, this proposal (the reconfig included) needs a majority of
  // the last-seen config too.
  outstanding_[zxid] = Proposal{std::move(shared), {}, last_seen_, active_};
  return zxid;
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
  while (!outstanding_.empty()) {
    auto first = outstanding_.begin();
    const Proposal& p = first->second;
    if (!majorities(p.acks, *p.config, p.next.get())) return;
    const tree::Txn& txn = *first->second.txn;
    auto config = config_in(txn);
    const int64_t designated = config ? designate(*config, p.acks, std::next(first)) : 0;
    last_committed_ = txn.zxid;
    for (const auto& [id, l] : learners_) {
      if (!l.forwarding) continue;
      Message m = message(l.observer ? MessageType::kInform : MessageType::kCommit, id, 0,
                          l.observer ? 0 : txn.zxid);
      if (l.observer) m.txns.push_back(first->second.txn);
      m.designated_leader = designated;
      send(std::move(m));
    }
    ready_.committed.push_back(std::move(first->second.txn));
    outstanding_.erase(first);
    if (config) {
      activate(std::move(config), designated, true);
      // A leader that does not lead the new config commits nothing more: its successor
      // (which acked the most) commits or truncates the rest.
      if (designated != config_.my_id) return;
    }
  }
}

void Peer::leader_tick(int64_t now_ms) {
  for (auto it = learners_.begin(); it != learners_.end();) {
    // A learner still syncing gets initLimit, as in ZooKeeper's LearnerHandler: loading a
    // large SNAP keeps it from answering for longer than syncLimit.
    bool syncing = !established_ || !it->second.synced;
    int64_t limit_ms = (syncing ? config_.init_limit : config_.sync_limit) * config_.tick_ms;
    if (now_ms - it->second.last_heard_ms > limit_ms) {
      newleader_acks_.erase(it->first);
      ready_.dropped_learners.push_back(it->first);
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

}  // namespace corral::zab
