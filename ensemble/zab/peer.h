// One ensemble member's ZAB protocol as a pure state machine: election,
// discovery (new epoch), synchronisation (DIFF/TRUNC/SNAP, NEWLEADER,
// UPTODATE) and broadcast (PROPOSAL/ACK/COMMIT, INFORM for observers), with
// pings and the limits that end a leadership or a following.
//
// Like etcd's raft: the driver feeds it messages, times and "logged"
// notices, then takes a Ready that says what to persist (epochs, log
// appends, truncation, a snapshot to install) BEFORE sending its messages,
// and which txns are now committed. It owns no socket, clock, thread or disk.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "ensemble/tree/txn.h"
#include "ensemble/zab/election.h"
#include "ensemble/zab/messages.h"

namespace corral::zab {

/// Static settings of a peer.
struct PeerConfig {
  int64_t my_id = 0;
  std::vector<Member> members;
  int64_t tick_ms = 2000;
  /// Ticks a learner may take to connect and sync (initLimit).
  int64_t init_limit = 10;
  /// Ticks without hearing from the other side before giving up (syncLimit).
  int64_t sync_limit = 5;
  ElectionTiming election;
  /// Learners further behind than this many txns get a snapshot instead of a diff.
  size_t max_diff_txns = 100000;
  /// The highest zxid counter a leader uses; past it, it steps down so the next
  /// leader starts a new epoch (ZooKeeper never uses counter 0xffffffff).
  int64_t max_zxid_counter = 0xfffffffell;
};

/// What the peer recovered from its storage at start-up.
struct PeerHistory {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  /// Every logged txn is applied to the driver's tree at start-up (as ZooKeeper does);
  /// ZAB then either commits it in the next epoch or has it truncated.
  int64_t last_zxid = 0;
  /// The newest logged txns (up to max_diff_txns), oldest first, for DIFFs.
  std::vector<tree::Txn> recent;
  /// The peer abstained when it stopped (Ready::abstaining): it still does.
  bool abstaining = false;
};

/// What the driver must do after feeding the peer, in this order.
struct Ready {
  /// 1. Persist these epochs.
  std::optional<int64_t> accepted_epoch;
  std::optional<int64_t> current_epoch;
  /// Whether this peer abstains (see Peer::diverged). A true is persisted first, before
  /// the log is cut (3); a false only after the snapshot (2) is durable: a crash in
  /// between must leave a peer that still abstains, never one that votes with a short log.
  std::optional<bool> abstaining;
  /// 2. Install this snapshot (SNAP): the state and log restart from its zxid.
  std::shared_ptr<const SnapshotData> install_snapshot;
  /// 3. Drop logged txns after this zxid, and snapshots that may hold any (TRUNC), and
  /// rebuild the state from storage; the log should then end at this zxid.
  std::optional<int64_t> truncate_after;
  /// 4. Append these txns durably, then call Peer::logged with the last zxid.
  std::vector<tree::Txn> to_log;
  /// 5. Send these (only after 1-3 are durable).
  std::vector<Message> messages;
  std::vector<std::pair<int64_t, Notification>> notifications;
  /// 6. Apply these committed txns to the state, in order.
  std::vector<tree::Txn> committed;
};

/// A ZAB participant or observer.
class Peer {
 public:
  Peer(PeerConfig config, PeerHistory history, int64_t now_ms);

  /// Makes a snapshot of the committed state for a learner that needs SNAP.
  void set_snapshot_source(std::function<std::shared_ptr<const SnapshotData>()> source) {
    snapshot_source_ = std::move(source);
  }

  /// Advances time: election timers, pings, limits.
  void tick(int64_t now_ms);
  /// Handles a message from another member.
  void step(const Message& m, int64_t now_ms);
  /// Handles an election notification.
  void step_election(const Notification& n, int64_t now_ms);
  /// The driver made every txn up to `zxid` from Ready::to_log durable.
  void logged(int64_t zxid, int64_t now_ms);
  /// The connection to `peer` closed: forget it at once rather than after the limits.
  void disconnected(int64_t peer, int64_t now_ms);
  /// The driver's state disagrees with a txn committed after `good_zxid` (the last one it
  /// applied): the log after it is dropped (Ready::truncate_after), this peer leaves its
  /// role, and the next leader it syncs with is asked for a SNAP. The dropped txns may
  /// include some this peer acknowledged (a quorum counted on it holding them), so until
  /// it installs that SNAP it abstains: its election notifications count for no one, it
  /// never leads, it follows only a leader a quorum of the others already follow, and
  /// that leader counts none of its acks before the SNAP.
  void diverged(int64_t good_zxid, int64_t now_ms);
  /// Leader only, while serving: gives `txn` the next zxid and proposes it.
  /// Returns the zxid, or nullopt when this peer cannot propose.
  std::optional<int64_t> propose(tree::Txn txn, int64_t now_ms);

  /// Leader only: the zxid the next propose() gives its txn.
  int64_t next_zxid() const { return new_epoch_ << 32 | (zxid_counter_ + 1); }
  /// The newest txn handed to the driver to log (maybe not durable yet).
  int64_t last_appended_zxid() const { return last_appended_; }

  /// Takes what to do now.
  Ready take_ready();

  PeerState state() const { return state_; }
  /// The leader this peer follows or is (0 while looking).
  int64_t leader() const { return leader_; }
  /// True when this peer may serve clients: a leader with a synced quorum, or
  /// a learner that got UPTODATE.
  bool serving() const { return serving_; }
  int64_t current_epoch() const { return current_epoch_; }
  int64_t accepted_epoch() const { return accepted_epoch_; }
  /// True from diverged() (or a restart that found it so) until a SNAP is installed.
  bool abstaining() const { return abstaining_; }
  int64_t last_logged_zxid() const { return last_logged_; }
  int64_t last_committed_zxid() const { return last_committed_; }
  /// Followers that are synced and acknowledging (leader only).
  std::vector<int64_t> synced_followers() const;
  /// Observers that are synced (leader only).
  std::vector<int64_t> synced_observers() const;
  /// Learners (followers and observers) connected to this leader, synced or not.
  size_t learner_count() const { return learners_.size(); }

 private:
  struct LearnerState {
    bool observer = false;
    bool wants_snapshot = false;
    int64_t accepted_epoch = 0;
    int64_t last_zxid = 0;
    bool acked_epoch = false;
    bool forwarding = false;  // sync sent: gets proposals and commits
    bool synced = false;      // acked NEWLEADER
    int64_t last_heard_ms = 0;
  };

  struct Proposal {
    tree::Txn txn;
    std::set<int64_t> acks;
  };

  bool is_voter(int64_t id) const;
  /// Whether a learner counts toward this leader's quorums: a voter that does not
  /// abstain, or that acknowledged NEWLEADER after the SNAP it asked for.
  static bool counts(const LearnerState& l) {
    return !l.observer && (!l.wants_snapshot || l.synced);
  }
  bool quorum(const std::set<int64_t>& ids) const;
  void look(int64_t now_ms);
  void drain_election(int64_t now_ms);
  void on_decision(int64_t now_ms);
  bool leader_has_quorum() const;
  void ack_newleader();

  // Leader side.
  void become_leader(int64_t now_ms);
  void leader_step(const Message& m, int64_t now_ms);
  void maybe_start_epoch(int64_t now_ms);
  void sync_learner(int64_t id, LearnerState& l);
  void maybe_establish(int64_t now_ms);
  void leader_ack(int64_t from, int64_t zxid);
  void maybe_commit();
  void leader_tick(int64_t now_ms);

  // Learner side.
  void become_learner(int64_t now_ms);
  void send_follower_info(int64_t now_ms);
  void learner_step(const Message& m, int64_t now_ms);
  void learner_sync(const Message& m);
  void learner_tick(int64_t now_ms);
  void commit_up_to(int64_t zxid);

  void send(Message m);
  void append_history(const tree::Txn& txn);
  std::optional<size_t> history_index(int64_t zxid) const;

  PeerConfig config_;
  Election election_;
  std::function<std::shared_ptr<const SnapshotData>()> snapshot_source_;

  PeerState state_ = PeerState::kLooking;
  int64_t leader_ = 0;
  bool serving_ = false;
  int64_t accepted_epoch_ = 0;
  int64_t current_epoch_ = 0;
  int64_t last_logged_ = 0;    // durable
  int64_t last_appended_ = 0;  // handed to the driver, maybe not durable yet
  int64_t last_committed_ = 0;
  int64_t role_started_ms_ = 0;
  int64_t last_tick_ms_ = 0;
  /// Recent txns (logged or being logged), oldest first, for DIFFs and commits.
  std::deque<tree::Txn> history_;
  /// Every txn after this zxid is in history_.
  int64_t history_base_ = 0;

  // Leader.
  int64_t new_epoch_ = 0;
  bool epoch_proposed_ = false;
  bool established_ = false;
  int64_t zxid_counter_ = 0;
  std::map<int64_t, LearnerState> learners_;
  std::map<int64_t, Proposal> outstanding_;  // by zxid
  // Per voter (this leader included), the highest zxid its acks were recorded up to: an ack
  // vouches for every proposal before it, and starting past the mark keeps recording an ack
  // from walking the whole outstanding window (quadratic with tens of thousands in flight).
  std::map<int64_t, int64_t> ack_marks_;
  std::set<int64_t> newleader_acks_;
  int64_t last_ping_ms_ = 0;

  /// FOLLOWERINFOs that arrived while this peer was still looking: a learner that
  /// decided first need not wait for its resend if this peer then leads.
  std::map<int64_t, Message> early_follower_info_;

  // Learner.
  int64_t last_heard_leader_ms_ = 0;
  bool got_leader_info_ = false;
  int64_t follower_info_sent_ms_ = 0;
  bool synced_ = false;
  int64_t sync_committed_zxid_ = 0;
  int64_t pending_newleader_epoch_ = 0;
  int64_t pending_commit_zxid_ = 0;
  /// Set by diverged() (see there), until a SNAP is installed; FOLLOWERINFO asks for one.
  bool abstaining_ = false;

  Ready ready_;
};

}  // namespace corral::zab
