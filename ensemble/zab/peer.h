// One ensemble member's ZAB protocol as a pure state machine: election,
// discovery (new epoch), synchronisation (DIFF/TRUNC/SNAP, NEWLEADER,
// UPTODATE) and broadcast (PROPOSAL/ACK/COMMIT, INFORM for observers), with
// pings and the limits that end a leadership or a following.
//
// Like etcd's raft: the driver feeds it messages, times and "logged"
// notices, then takes a Ready that says what to persist (epochs, log
// appends, truncation, a snapshot to install) BEFORE sending its messages,
// and which txns are now committed. It owns no socket, clock, thread or disk.
//
// Dynamic reconfiguration (peer_reconfig.cc): quorums are majorities of the active config
// and, while a reconfig is pending, of the last-seen one too; a reconfig txn activates as it
// commits, and the servers move to its designated leader without an election.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "ensemble/tree/txn.h"
#include "ensemble/zab/election.h"
#include "ensemble/zab/messages.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::zab {

/// Static settings of a peer.
struct PeerConfig {
  int64_t my_id = 0;
  /// The config at version 0 when PeerHistory::active is null (ZooKeeper's static mode).
  std::vector<Member> members;
  /// reconfigEnabled: notifications carry the config, NEWLEADER's config is activated, a
  /// learner ahead of the leader is refused, and the first leader re-issues a version-0
  /// config at its epoch (ZOOKEEPER-1783).
  bool reconfig_enabled = false;
  int64_t tick_ms = 2000;
  /// Ticks a learner may take to connect and sync (initLimit).
  int64_t init_limit = 10;
  /// Ticks without hearing from the other side before giving up (syncLimit).
  int64_t sync_limit = 5;
  ElectionTiming election;
  /// Committed txns kept in memory for DIFFs (ZooKeeper keeps 500, commitLogCount), and
  /// their approximate bytes at most: a DIFF from further back reads the older txns from the
  /// durable log (set_log_floor), and a learner behind the log's start gets a SNAP.
  size_t history_txns = 1000;
  size_t history_bytes = 16 << 20;
  /// The highest zxid counter a leader uses; past it, it steps down so the next
  /// leader starts a new epoch (ZooKeeper never uses counter 0xffffffff).
  int64_t max_zxid_counter = 0xfffffffell;
  /// How a proposed txn is encoded (txn::encode_txn): propose() keeps the result in the txn
  /// (Txn::record), so that its PROPOSALs and the leader's log use one encoding, where each
  /// made its own. Unset: left to them. The core itself knows no encoding.
  std::function<std::string(const tree::Txn&)> encode_txn;
};

/// What the peer recovered from its storage at start-up.
struct PeerHistory {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  /// Every logged txn is applied to the driver's tree at start-up (as ZooKeeper does);
  /// ZAB then either commits it in the next epoch or has it truncated.
  int64_t last_zxid = 0;
  /// The newest logged txns (up to history_txns), oldest first, for DIFFs.
  std::vector<tree::Txn> recent;
  /// The peer abstained when it stopped (Ready::abstaining): it still does.
  bool abstaining = false;
  /// The committed (active) config; null: PeerConfig::members at version 0.
  std::shared_ptr<const QuorumConfig> active;
  /// The last-seen (proposed, not yet active) config; null: none newer than `active`.
  std::shared_ptr<const QuorumConfig> last_seen;
};

/// A config this peer now acts under.
struct Activation {
  std::shared_ptr<const QuorumConfig> config;
  /// Who leads under it (the reconfig's designated leader; 0 when learnt by gossip).
  int64_t designated_leader = 0;
  /// False when no txn carries it (gossip, or the version-0 re-issue): the driver sets
  /// /zookeeper/config itself.
  bool from_txn = true;
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
  /// 3b. Persist as the last-seen ("next") config, not with the epochs but after 2-3 and
  /// before 5: a TRUNC (3) drops the stored one whose txn it cuts, and this one may come
  /// from txns that follow the cut in the same sync. An ACK of its txn (or of NEWLEADER)
  /// then means it is durable.
  std::shared_ptr<const QuorumConfig> next_config;
  /// 3b. Persist as the active config (which also drops an older stored last-seen one),
  /// with next_config.
  std::optional<Activation> activated;
  /// 2. Install this snapshot (SNAP): the state and log restart from its zxid.
  std::shared_ptr<const SnapshotData> install_snapshot;
  /// 3. Drop logged txns after this zxid, and snapshots that may hold any (TRUNC), and
  /// rebuild the state from storage; the log should then end at this zxid.
  std::optional<int64_t> truncate_after;
  /// 4. Append these txns durably, then call Peer::logged with the last zxid.
  std::vector<tree::SharedTxn> to_log;
  /// 5. Send these (only after 1-3 are durable).
  std::vector<Message> messages;
  std::vector<std::pair<int64_t, Notification>> notifications;
  /// 6. Apply these committed txns to the state, in order.
  std::vector<tree::SharedTxn> committed;
  /// 0. Leader only: learners it stopped counting on after their limit of silence. Close the
  /// connections with them (as ZooKeeper closes a LearnerHandler's socket): the learner
  /// learns it at once instead of waiting out its own limit for pings that no longer come.
  std::vector<int64_t> dropped_learners;
};

/// A ZAB participant or observer.
class Peer {
 public:
  Peer(PeerConfig config, PeerHistory history, int64_t now_ms);

  /// Makes a snapshot of the committed state for a learner that needs SNAP.
  void set_snapshot_source(std::function<std::shared_ptr<const SnapshotData>()> source) {
    snapshot_source_ = std::move(source);
  }

  /// Answers where the durable log can serve a DIFF from: the highest logged zxid at or below
  /// `zxid`, or nothing when the log does not reach back to `zxid` (purged, or replaced by a
  /// snapshot). The log holds every txn after the answer up to the history in memory. Unset:
  /// DIFFs come from memory only.
  void set_log_floor(std::function<std::optional<int64_t>(int64_t zxid)> floor) {
    log_floor_ = std::move(floor);
  }

  /// Advances time: election timers, pings, limits.
  void tick(int64_t now_ms);
  /// Handles a message from another member.
  void step(const Message& m, int64_t now_ms);
  /// Handles an election notification.
  void step_election(const Notification& n, int64_t now_ms);
  /// The driver made every txn up to `zxid` from Ready::to_log durable.
  void logged(int64_t zxid, int64_t now_ms);
  /// The driver could not send `learner` the DIFF from the log it was given (the txns could
  /// not be read, or were too many): the learner's next sync is a SNAP, not the same DIFF.
  void log_diff_failed(int64_t learner) { no_log_diff_.insert(learner); }
  /// The connection to `peer` closed: forget it at once rather than after the limits.
  void disconnected(int64_t peer, int64_t now_ms);
  /// Learner: a part of the leader's SNAP image arrived (the driver relays the image outside
  /// the core's messages, in parts of up to 1 MiB). It counts as hearing from the leader, and
  /// the leader, whose pings wait behind the image, hears a ping back, at most every
  /// tickTime/2: once its epoch is established, a SNAP may take longer than initLimit as long
  /// as a part arrives within each initLimit (a ZooKeeper learner, too, times out each read of
  /// the image, not the whole). A leader still establishing its epoch gives its learners
  /// initLimit in all, as ZooKeeper's does.
  void snapshot_progress(int64_t now_ms);
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

  /// The committed config this peer acts under.
  std::shared_ptr<const QuorumConfig> active_config() const { return active_; }
  /// The newest config seen (proposed or being completed), or null if none is newer than
  /// the active one.
  std::shared_ptr<const QuorumConfig> last_seen_config() const { return last_seen_; }
  /// Whether a reconfig is proposed but not yet active (a second one gets INPROGRESS).
  bool reconfig_pending() const { return last_seen_ != nullptr; }
  /// Leader only: whether this leader (if a voter of `config`) and its synced learners
  /// that did not declare themselves observers, members or not, hold a majority of
  /// `config`'s voters (Leader.isQuorumSynced; reconfig's NEWCONFIGNOQUORUM check).
  bool quorum_synced(const QuorumConfig& config) const;
  /// Whether `ids` acknowledge for this peer now: a majority of the active config and, while
  /// a reconfig is pending, of the last-seen one.
  bool confirms(const std::set<int64_t>& ids) const { return acked(ids, last_seen_.get()); }

 private:
  struct LearnerState {
    /// What FOLLOWERINFO said: observers get INFORM; the config decides whose acks count.
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
    tree::SharedTxn txn;
    std::set<int64_t> acks;
    /// The last-seen config when it was proposed: it commits once a majority of that one
    /// acks too (Leader.propose's qvAcksetPairs).
    std::shared_ptr<const QuorumConfig> next;
    /// The active config when it was proposed, whose majority it needs even if the reconfig
    /// before it activated meanwhile.
    std::shared_ptr<const QuorumConfig> config;
  };

  /// Whether a learner's epoch, NEWLEADER and liveness acks may count toward this leader's
  /// quorums: one that does not abstain, or that acknowledged NEWLEADER after the SNAP it
  /// asked for. Which ones count is then up to the configs: a declared observer only in a
  /// pending config that makes it a voter (it never acks proposals, so it vouches for none).
  static bool counts(const LearnerState& l) { return !l.wants_snapshot || l.synced; }
  /// A majority of the active config and, unless null, of `next`.
  bool acked(const std::set<int64_t>& ids, const QuorumConfig* next) const {
    return majorities(ids, *active_, next);
  }
  /// A majority of `config` and, unless null, of `next`.
  static bool majorities(const std::set<int64_t>& ids, const QuorumConfig& config,
                         const QuorumConfig* next);
  /// Whether this leader (if `self`) and the counting learners that `pick` selects hold a
  /// majority of the active config and, while a reconfig is pending, of the last-seen one:
  /// discovery, establishment and leader liveness. A declared observer counts only toward the
  /// last-seen config (ZooKeeper counts only participant-type learners).
  bool learner_quorum(bool self,
                      const std::function<bool(int64_t, const LearnerState&)>& pick) const;
  /// The config `txn` moves to when reconfig is on; null otherwise (static membership).
  std::shared_ptr<const QuorumConfig> config_in(const tree::Txn& txn) const;
  /// Clears the role's state (learners, proposals, sync progress) before a new one.
  void reset_role();
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
  /// Commits the history up to `zxid`, activating a reconfig txn on the way; `designated`
  /// is who leads after it (0: the current leader).
  void commit_up_to(int64_t zxid, int64_t designated = 0);

  // Reconfig (peer_reconfig.cc).
  /// Sets the last-seen config (a reconfig proposed or synced, or NEWLEADER's) if newer.
  void see_config(std::shared_ptr<const QuorumConfig> config);
  /// Forgets a last-seen config whose txn is gone (TRUNC to `zxid`, SNAP, divergence).
  void unsee_configs_after(int64_t zxid);
  /// Makes `config` active; then, once the current step is done, moves to `designated` or to
  /// this peer's new role (see settle).
  void activate(std::shared_ptr<const QuorumConfig> config, int64_t designated, bool from_txn);
  /// Who leads after a reconfig to `next` that `acks` acknowledged, with `later` the
  /// outstanding proposals after it (Leader.getDesignatedLeader).
  int64_t designate(const QuorumConfig& next, const std::set<int64_t>& acks,
                    std::map<int64_t, Proposal>::const_iterator later) const;
  /// The config text NEWLEADER carries (reconfig on only): the newest one this leader will
  /// have committed once established.
  std::string newleader_config_text() const;
  /// Whom a reconfig committed at establishment designates (its NEWLEADER ackers).
  int64_t designate_at_establishment(const QuorumConfig& next) const;
  /// Takes the leader a reconfig designated, without an election: LEADING if itself,
  /// OBSERVING if a listed observer, FOLLOWING otherwise.
  void hand_off(int64_t leader, int64_t now_ms);
  /// Carries out a hand-off that activate() deferred to the end of a step.
  void settle(int64_t now_ms);
  /// The first leader with reconfig on re-issues a version-0 config at its epoch.
  void maybe_bump_config();

  /// Queues `m` in the Ready; a PROPOSAL, INFORM or COMMIT right after one of its kind to the
  /// same peer joins it (PROPOSAL and INFORM while their txns stay within kFoldBytes).
  void send(Message m);
  void append_history(tree::SharedTxn txn);
  /// Drops the oldest txns past history_txns or history_bytes that are committed and logged
  /// (the durable log serves them from then on).
  void trim_history();
  /// Drops the txns after `zxid` (a TRUNC).
  void drop_history_after(int64_t zxid);
  /// Appends `txn` to history_, counting its size.
  void push_history(tree::SharedTxn txn);
  /// Empties history_.
  void clear_history();
  std::optional<size_t> history_index(int64_t zxid) const;

  PeerConfig config_;
  Election election_;
  std::shared_ptr<const QuorumConfig> active_;
  std::shared_ptr<const QuorumConfig> last_seen_;
  /// A hand-off decided inside a step (activation), done once the step is over.
  std::optional<int64_t> hand_off_to_;
  std::function<std::shared_ptr<const SnapshotData>()> snapshot_source_;
  std::function<std::optional<int64_t>(int64_t)> log_floor_;
  /// Learners whose DIFF from the log failed: their next sync is a SNAP (log_diff_failed).
  std::set<int64_t> no_log_diff_;

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
  std::deque<tree::SharedTxn> history_;
  /// approx_bytes of each txn of history_ with its record, apart: the oldest is cold in memory when
  /// it leaves (counting it again was 1.7% of create's CPU in the members).
  std::deque<size_t> history_sizes_;
  /// Their sum.
  size_t history_bytes_ = 0;
  /// Per peer, the approximate txn bytes of its last message in ready_ (send() folds a
  /// PROPOSAL or INFORM into it while they stay within kFoldBytes): kept, not recounted.
  std::unordered_map<int64_t, size_t> fold_bytes_;
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

  /// FOLLOWERINFOs that arrived while this peer was not leading: a learner that decided
  /// (or was handed off) first need not wait for its resend if this peer then leads.
  std::map<int64_t, Message> early_follower_info_;

  // Learner.
  int64_t last_heard_leader_ms_ = 0;
  /// When snapshot_progress() last pinged the leader.
  int64_t progress_ping_ms_ = 0;
  bool got_leader_info_ = false;
  int64_t follower_info_sent_ms_ = 0;
  bool synced_ = false;
  int64_t sync_committed_zxid_ = 0;
  int64_t pending_newleader_epoch_ = 0;
  int64_t pending_commit_zxid_ = 0;
  /// The designated leader of a commit that came before UPTODATE.
  int64_t pending_designated_ = 0;
  /// The config NEWLEADER carried, activated at UPTODATE if newer (Learner's newLeaderQV).
  std::shared_ptr<const QuorumConfig> newleader_config_;
  /// Set by diverged() (see there), until a SNAP is installed; FOLLOWERINFO asks for one.
  bool abstaining_ = false;

  Ready ready_;
};

}  // namespace corral::zab
