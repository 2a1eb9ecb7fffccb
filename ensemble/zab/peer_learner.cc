// Peer's learner side (follower and observer): FOLLOWERINFO, the sync stream, NEWLEADER and
// UPTODATE, then proposals, commits and informs from the leader.
#include <algorithm>

#include "ensemble/zab/peer.h"
#include "ensemble/zab/peer_internal.h"

namespace corral::zab {

using detail::kMaxEpoch;
using detail::message;

namespace {

/// True when `m` could come from a leader of `epoch`: its txns and snapshot are of that
/// epoch or older, a SNAP carries its state and a TRUNC names a zxid. A leader that breaks this
/// could have the learner log a zxid twice (once leading that epoch itself: the txn log's insert
/// fails and the server stops) or install nothing.
bool lawful(const Message& m, int64_t epoch) {
  auto of_epoch = [&](int64_t zxid) { return zxid >= 0 && (zxid >> 32) <= epoch; };
  for (const auto& t : m.txns)
    if (!of_epoch(t->zxid)) return false;
  if (m.type == MessageType::kSync && m.sync_mode == SyncMode::kTrunc) return m.trunc_zxid >= 0;
  if (m.type != MessageType::kSync || m.sync_mode != SyncMode::kSnap) return true;
  return m.snapshot && of_epoch(m.snapshot->zxid);
}

}  // namespace

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
  if (config_.reconfig_enabled) m.config_version = active_->version;
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
      if (config_.reconfig_enabled && !m.config.empty()) {
        auto parsed = parse_dynamic(m.config);
        if (auto* config = std::get_if<QuorumConfig>(&parsed);
            config && config->version > active_->version) {
          newleader_config_ = std::make_shared<const QuorumConfig>(std::move(*config));
          see_config(newleader_config_);
        }
      }
      pending_newleader_epoch_ = m.epoch;
      if (last_logged_ >= last_appended_) ack_newleader();
      return;
    case MessageType::kUpToDate:
      synced_ = true;
      serving_ = true;
      commit_up_to(std::max(sync_committed_zxid_, pending_commit_zxid_),
                   m.designated_leader ? m.designated_leader : pending_designated_);
      // The leader committed the config NEWLEADER carried; no txn may have brought it here
      // (a SNAP past it, or the version-0 re-issue).
      if (newleader_config_ && newleader_config_->version > active_->version)
        activate(newleader_config_, m.designated_leader, false);
      // Proposals logged while waiting for UPTODATE were not acknowledged yet.
      if (state_ == PeerState::kFollowing)
        send(message(MessageType::kAck, leader_, 0, last_logged_));
      return;
    case MessageType::kProposal:
      for (const auto& t : m.txns) {
        // The log only grows in zxid order: a repeated or older zxid (a confused or
        // malicious leader) would fail the txn log's insert and stop this server.
        if (t->zxid <= last_appended_) continue;
        append_history(t);
        ready_.to_log.push_back(t);
        if (auto config = config_in(*t)) see_config(std::move(config));
      }
      return;
    case MessageType::kCommit:
      if (serving_) {
        commit_up_to(m.zxid, m.designated_leader);
      } else {
        pending_commit_zxid_ = std::max(pending_commit_zxid_, m.zxid);
        if (m.designated_leader) pending_designated_ = m.designated_leader;
      }
      return;
    case MessageType::kInform:
      for (const auto& t : m.txns) {
        // A txn already sent in this observer's sync comes again when it commits.
        if (t->zxid > last_appended_) {
          append_history(t);
          ready_.to_log.push_back(t);
        }
        if (serving_) {
          commit_up_to(t->zxid, m.designated_leader);
        } else {
          pending_commit_zxid_ = std::max(pending_commit_zxid_, t->zxid);
          if (m.designated_leader) pending_designated_ = m.designated_leader;
        }
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
    clear_history();
    history_base_ = m.snapshot->zxid;
    last_logged_ = last_appended_ = last_committed_ = m.snapshot->zxid;
    // The leader's state replaces this peer's, pending reconfig included: a logged reconfig
    // the leader moved on without is gone even if its version is below the snapshot. A
    // genuinely pending one comes back in this sync's txns or NEWLEADER's config.
    last_seen_ = nullptr;
    ready_.next_config = nullptr;
  } else if (m.sync_mode == SyncMode::kTrunc) {
    // Where the log ends once truncated: the driver checks its storage gets there.
    ready_.truncate_after = std::min(m.trunc_zxid, last_appended_);
    history_base_ = std::min(history_base_, m.trunc_zxid);
    drop_history_after(m.trunc_zxid);
    last_appended_ = std::min(last_appended_, m.trunc_zxid);
    last_logged_ = std::min(last_logged_, m.trunc_zxid);
    // The driver rebuilds its state from the truncated log: all of it counts as applied.
    last_committed_ = last_appended_;
    unsee_configs_after(last_appended_);
  }
  for (const auto& t : m.txns) {
    // A txn still being logged from before may come again in a DIFF: append once.
    if (t->zxid <= last_appended_) continue;
    append_history(t);
    ready_.to_log.push_back(t);
    // A reconfig the leader has not committed yet is pending here too
    // (ReconfigDuringLeaderSyncTest); a committed one activates as it commits.
    if (t->zxid > m.committed_zxid)
      if (auto config = config_in(*t)) see_config(std::move(config));
  }
  sync_committed_zxid_ = m.committed_zxid;
}

void Peer::ack_newleader() {
  current_epoch_ = pending_newleader_epoch_;
  ready_.current_epoch = current_epoch_;
  send(message(MessageType::kAckNewLeader, leader_, pending_newleader_epoch_, last_logged_));
  pending_newleader_epoch_ = 0;
}

void Peer::snapshot_progress(int64_t now_ms) {
  if (state_ != PeerState::kFollowing && state_ != PeerState::kObserving) return;
  last_heard_leader_ms_ = now_ms;
  if (now_ms - progress_ping_ms_ < config_.tick_ms / 2) return;
  progress_ping_ms_ = now_ms;
  send(message(MessageType::kPing, leader_));
}

void Peer::learner_tick(int64_t now_ms) {
  int64_t limit = (synced_ ? config_.sync_limit : config_.init_limit) * config_.tick_ms;
  if (now_ms - last_heard_leader_ms_ > limit) return look(now_ms);
  // The leader may have decided after us and missed our first FOLLOWERINFO.
  if (!got_leader_info_ && now_ms - follower_info_sent_ms_ >= config_.election.min_resend_ms)
    send_follower_info(now_ms);
}

}  // namespace corral::zab
