// A seeded simulation of a ZAB ensemble: zab::Peer state machines driven by a
// simulated clock, network and storage, with an invariant checker run after
// every step.
//
// The network carries two kinds of traffic, as the real server does:
//  - election notifications travel like datagrams: delayed, reordered, lost
//    and duplicated at random (FastLeaderElection tolerates all of that);
//  - ZAB messages travel on learner-leader connections, FIFO like TCP, one per
//    (learner, leader) pair: after a hand-off where a follower becomes its old
//    leader's leader, the old connection still carries the old leader's last
//    commits while the new one opens. A learner's FOLLOWERINFO opens a new connection (the leader
//    writes to it once it got the FOLLOWERINFO; a connect to a dead process is refused at once); a
//    connection breaks (reset, partition, crash) and is then dead until the learner connects again.
//    A peer that stops following (or leading) closes its connections and the other side notices
//    (Peer::disconnected); a crashed process's connections are noticed too
//    unless the crash is "silent" (a machine that vanished).
//
// Storage keeps epochs and a log of txns per peer. Epochs, snapshot installs
// and truncations are durable before the Ready's messages leave; appends become
// durable at a later simulated fsync, and only then does the peer hear
// logged(). A crash keeps only what is durable. A restarted peer applies its
// whole log, as ZooKeeper does.
//
// The "state machine" of each peer is the sequence of txns it applied. The
// checks (zab_cluster_checks.cc) run after every step: a txn a peer commits,
// or holds when it starts to serve, matches the one every other peer has at
// that position and is durable on a quorum of voters; a new leader's log holds
// every committed txn; one established leader per epoch; epochs never go back;
// no sync drops a committed txn without logging it again; observers never
// lead or follow, nor are voted for.
//
// With reconfig_enabled the ensemble's membership changes by reconfig txns
// (reconfig()), and spare peers start outside the config. Storage then also
// keeps each peer's active and last-seen configs (Ready::activated and
// Ready::next_config, durable after the snapshot or truncation and before any
// message leaves), and a restarted peer gets them back. The checks become
// config-aware (zab_cluster_reconfig.cc): a commit is durable on a majority of
// every config its proposal was tagged with (the active one and, while a
// reconfig was pending, the next); an established leader is backed by
// majorities of its configs; activations never go back and each version has
// one text and one designated leader everywhere; roles are judged by each
// peer's own config, so a removed peer may follow but is never counted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/tree/txn.h"
#include "ensemble/zab/messages.h"
#include "ensemble/zab/peer.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::sim {

/// What the network and disks do.
struct ZabFaults {
  int64_t min_delay_ms = 1;
  int64_t max_delay_ms = 1;
  /// Election notifications only (they travel like datagrams).
  double notification_drop = 0;
  double notification_duplicate = 0;
  /// Per ZAB message sent: the connection resets instead (in-flight data lost).
  double connection_reset = 0;
  /// Of those resets, the share that neither side notices (found by the limits).
  double silent_reset_share = 0.3;
  /// Time an fsync of appended txns takes.
  int64_t min_fsync_ms = 1;
  int64_t max_fsync_ms = 1;
};

/// How the simulated ensemble is built.
struct ZabClusterOptions {
  uint64_t seed = 1;
  int voters = 3;
  /// Observers get ids after the voters.
  int observers = 0;
  int64_t tick_ms = 100;
  int64_t init_limit = 10;
  int64_t sync_limit = 5;
  zab::ElectionTiming election;
  /// Txns each peer keeps in memory (zab::PeerConfig::history_txns). More than the server's
  /// 1,000 by default, so that a test that sets neither this nor log_diffs gets DIFFs as a
  /// server does (from its log) rather than SNAPs.
  size_t history_txns = 100000;
  /// A learner further back than the leader's history_txns in memory gets a DIFF read from the
  /// leader's log (Peer::set_log_floor), as the server's do; false: a SNAP.
  bool log_diffs = false;
  /// Every DIFF from the log fails to be made (an unreadable log, say): the leader closes the
  /// learner's connection and tells its core (Peer::log_diff_failed), as the server does.
  bool log_diffs_fail = false;
  /// How often the driver calls Peer::tick.
  int64_t tick_interval_ms = 5;
  /// The highest zxid counter a leader may use before it must start a new
  /// epoch (0: the Peer's default, 0xfffffffe).
  int64_t max_zxid_counter = 0;
  ZabFaults faults;
  /// zoo.cfg reconfigEnabled: peers start from a versioned config with
  /// addresses, and reconfig() may change it.
  bool reconfig_enabled = false;
  /// Peers with ids after the observers that are in no config at first: they
  /// start as non-members (non-voting followers) until a reconfig adds them.
  /// Only with reconfig_enabled.
  int spares = 0;
  /// How long a learner's driver is busy installing a SNAP (decoding and storing a large
  /// tree): it handles nothing meanwhile, and the messages that follow the install leave
  /// only after it. 0: at once.
  int64_t snapshot_install_ms = 0;
  /// The random client (set_client_interval) proposes 1..max_client_burst txns at once, as the
  /// server does with the writes of one read: they share a Ready.
  size_t max_client_burst = 1;
};

/// One txn in the simulated log and state: its zxid and payload.
struct SimTxn {
  int64_t zxid = 0;
  std::string path;
  std::string data;
  bool operator==(const SimTxn&) const = default;
};

/// A kSync message as delivered to a learner.
struct SyncEvent {
  int64_t at_ms = 0;
  int64_t leader = 0;
  int64_t learner = 0;
  zab::SyncMode mode = zab::SyncMode::kDiff;
  int64_t trunc_zxid = 0;
  size_t txns = 0;
};

/// Durable (and not yet durable) state of one peer's disk.
struct SimStorage {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  /// Everything written: a snapshot's state (the first snapshot_len entries)
  /// then logged txns.
  std::vector<SimTxn> log;
  /// log[0, durable) survives a crash.
  size_t durable = 0;
  size_t snapshot_len = 0;
  /// The persisted active config (Ready::activated); null: the bootstrap one.
  std::shared_ptr<const zab::QuorumConfig> active;
  /// The persisted last-seen config (Ready::next_config). Written after the
  /// Ready's truncation, so only a later truncation below its version removes
  /// it (as Database::truncate_after does).
  std::shared_ptr<const zab::QuorumConfig> next;
};

/// The simulated ensemble.
class ZabCluster {
 public:
  explicit ZabCluster(ZabClusterOptions options);

  // ---- set-up and faults
  /// Gives a peer an initial disk (before it first starts).
  void set_storage(int64_t id, SimStorage storage);
  /// Starts (or restarts after a crash) a peer from its durable storage.
  void start(int64_t id);
  void start_all();
  /// Crashes a peer: its Peer and every non-durable write are lost. Unless
  /// silent, the others notice its connections closing.
  void crash(int64_t id, bool silent = false);
  /// Crashes a peer at the current time, from inside a hook.
  void crash_soon(int64_t id, bool silent = false);
  /// Splits the network (a server in no group is alone); crossing connections
  /// break without notice and crossing messages are lost.
  void partition(const std::vector<std::vector<int64_t>>& groups);
  void heal();
  void set_faults(const ZabFaults& faults) { options_.faults = faults; }
  /// Called for every ZAB message a peer sends; returning false drops it
  /// (only sensible when the sender crashes right after).
  void on_send(std::function<bool(const zab::Message&)> f) { send_hook_ = std::move(f); }
  /// Called before a ZAB message is delivered; returning false drops it.
  void on_deliver(std::function<bool(const zab::Message&)> f) { deliver_hook_ = std::move(f); }

  // ---- clients
  /// Proposes a new txn at a serving leader (the given one, or any); returns its zxid.
  std::optional<int64_t> propose(std::optional<int64_t> at = std::nullopt);
  /// Proposes `n` txns at one serving leader before it acts, as the server does with the writes
  /// of one read: they share a Ready. Returns their zxids (none when no leader serves).
  /// Each txn's data is padded to `data_bytes` when that is larger.
  std::vector<int64_t> propose_burst(size_t n, std::optional<int64_t> at = std::nullopt,
                                     size_t data_bytes = 0);
  /// Lets a client propose (1..max_client_burst txns at once) at a serving leader every
  /// 1..2*mean_ms (0 stops it).
  void set_client_interval(int64_t mean_ms);
  /// Proposes `next` as a reconfig txn at a serving leader (the given one, or
  /// any), with the version set to the txn's zxid; returns that zxid. Refused
  /// (nullopt), as the server's reconfig prep would, when reconfig is off, no
  /// leader serves, a reconfig is pending (INPROGRESS), `next` has fewer than
  /// 2 voters, or its voters are not synced with the leader (NEWCONFIGNOQUORUM).
  std::optional<int64_t> reconfig(zab::QuorumConfig next, std::optional<int64_t> at = std::nullopt);

  // ---- running
  /// Runs until pred() holds (checked after every event) or max_ms pass.
  bool run_until(const std::function<bool()>& pred, int64_t max_ms);
  void run_for(int64_t ms);

  // ---- observing
  int64_t now_ms() const { return now_ms_; }
  uint64_t seed() const { return options_.seed; }
  const ZabClusterOptions& options() const { return options_; }
  /// Every peer: members of the initial config, then the spares.
  std::vector<int64_t> ids() const;
  /// Whether `id` is a voter of current_config().
  bool is_voter(int64_t id) const;
  /// The newest config any peer activated (the initial one before any).
  const zab::QuorumConfig& current_config() const { return *current_config_; }
  /// The config the ensemble was built with (version 0).
  const zab::QuorumConfig& initial_config() const { return *initial_config_; }
  bool up(int64_t id) const;
  /// The live Peer (nullptr when down).
  const zab::Peer* peer(int64_t id) const;
  const SimStorage& storage(int64_t id) const { return nodes_.at(id).storage; }
  /// The txns the peer applied, in order.
  const std::vector<SimTxn>& applied(int64_t id) const { return nodes_.at(id).applied; }
  /// Every txn known committed, in order (the longest committed sequence seen).
  const std::vector<SimTxn>& committed() const { return committed_; }
  /// Txns a leader committed for a client (acknowledged writes), by zxid.
  const std::map<int64_t, SimTxn>& acknowledged() const { return acknowledged_; }
  /// Every proposal a client made, by zxid (the last one for a reused zxid).
  const std::vector<SimTxn>& proposed() const { return proposed_; }
  /// The serving leader, if exactly one is up.
  std::optional<int64_t> serving_leader() const;
  /// One serving leader with no reconfig pending, all other up peers serving
  /// under it on a live connection (observers of its config observing, every
  /// other peer, members or not, following), every up peer has the leader's
  /// active config and has applied exactly the committed sequence.
  bool settled() const;
  /// Every sync message delivered.
  const std::vector<SyncEvent>& syncs() const { return syncs_; }
  /// How often each peer has changed role (state or leader).
  int role_changes(int64_t id) const { return nodes_.at(id).role_changes; }
  /// Violated invariants, with the time; empty when all hold.
  const std::vector<std::string>& violations() const { return violations_; }
  /// Recent trace lines and every peer's state, for failure messages.
  std::string describe() const;

 private:
  /// propose() without letting the leader act; `at` is a serving leader or nullopt for any.
  std::optional<int64_t> propose_unprocessed(std::optional<int64_t>& at, size_t data_bytes = 0);

  struct Node {
    std::unique_ptr<zab::Peer> peer;
    int incarnation = 0;
    SimStorage storage;
    std::vector<SimTxn> applied;
    /// applied[0, vouched) is known committed by this peer.
    size_t vouched = 0;
    bool fsync_scheduled = false;
    /// Installing a SNAP (ZabClusterOptions::snapshot_install_ms): events wait in
    /// deferred_events_, messages it sends in deferred_sends.
    bool busy = false;
    std::vector<zab::Message> deferred_sends;
    zab::PeerState state = zab::PeerState::kLooking;
    int64_t leader = 0;
    int role_changes = 0;
    bool serving = false;
    int64_t max_accepted_epoch = 0;
    int64_t max_current_epoch = 0;
    /// With reconfig on: the config its zoo.cfg gives it (the initial one, or
    /// for a spare the ensemble's config when it first started).
    std::shared_ptr<const zab::QuorumConfig> bootstrap;
    /// The highest active config version it ever had: activations never go back.
    int64_t max_active_version = 0;
    /// Its active config after its previous step: what it sent during a step
    /// may follow either.
    std::shared_ptr<const zab::QuorumConfig> config_before;
    /// Proposals made here that a client waits for: zxid -> txn.
    std::map<int64_t, SimTxn> client_waiting;
  };

  /// A connection: (learner, leader).
  using Link = std::pair<int64_t, int64_t>;
  enum class EventKind {
    kMessage,
    kNotification,
    kDisconnect,
    kFsync,
    kTick,
    kClient,
    kCrash,
    kWake
  };
  struct Event {
    int64_t at_ms = 0;
    uint64_t seq = 0;
    EventKind kind = EventKind::kTick;
    int64_t to = 0;
    int incarnation = 0;
    int64_t about = 0;      // kDisconnect: the other side; kCrash: silent flag
    uint64_t conn_gen = 0;  // kMessage / kDisconnect
    Link link;              // kMessage / kDisconnect: the connection
    std::shared_ptr<zab::Message> message;
    std::shared_ptr<zab::Notification> notification;
    bool operator>(const Event& o) const {
      return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq;
    }
  };
  struct Connection {
    uint64_t gen = 0;
    bool open = false;
    /// The leader writes to this connection only once it has accepted it (got
    /// the FOLLOWERINFO): until then its messages went to the connection
    /// before, which is gone.
    bool accepted = false;
    std::map<int64_t, int64_t> last_delivery_ms;  // by sender
  };

  // Driving peers.
  void process(int64_t id);
  void persist(int64_t id, zab::Ready& r);
  void apply_committed(int64_t id, const std::vector<tree::SharedTxn>& txns);
  void note_role(int64_t id);
  void check_peer(int64_t id);
  void check_established(int64_t id);
  void on_commit_extended(int64_t id, size_t from, const char* how);
  /// The peer vouches that applied[0, upto) is committed (it committed or serves it).
  void vouch(int64_t id, size_t upto, const char* how);

  // Network.
  void send_message(const zab::Message& m);
  /// The highest zxid at or below `zxid` in peer id's log (after its snapshot), if any.
  std::optional<int64_t> log_floor(int64_t id, int64_t zxid) const;
  /// Puts the txns a SYNC of peer id names in its durable log (Message::log_from, log_to)
  /// before its txns, as the server's SnapshotStreams does; false when that fails
  /// (log_diffs_fail): the learner's connection is closed.
  bool read_logged_txns(int64_t id, zab::Message& m);
  void send_notification(int64_t from, int64_t to, const zab::Notification& n);
  void close_connection(int64_t learner, int64_t leader, bool reset, bool notify_learner,
                        bool notify_leader);
  /// The peer starts installing a SNAP: busy for snapshot_install_ms.
  void start_busy(int64_t id);
  /// The install is done: what it sent leaves, then what it was sent is handled, in order.
  void wake(int64_t id, int incarnation);
  Connection& connection(const Link& link) { return connections_[link]; }
  /// The connection a message travels on, by its direction (a PING by the sender's role).
  Link link_of(const zab::Message& m) const;
  /// Whether a close of `link` still concerns peer `id`'s current role.
  bool concerns(int64_t id, const Link& link) const;
  bool reachable(int64_t a, int64_t b) const;
  int64_t delay();
  void push(Event e);
  void handle(const Event& e);
  void deliver_message(const Event& e);
  void fsync(int64_t id);
  void client_write();
  void do_crash(int64_t id, bool silent);

  // Configs (zab_cluster_reconfig.cc).
  /// Records the configs whose majorities the leader's proposal `zxid` needs.
  void note_proposal(int64_t leader, int64_t zxid);
  /// A new leader commits its history under its own configs (NEWLEADER), as
  /// ZooKeeper's does: what it has not seen committed needs majorities of
  /// those, and of the config each reconfig txn up to it carries.
  void retag_history(int64_t leader);
  /// Step 1 of a Ready: the last-seen and active configs, with the epochs.
  void persist_configs(int64_t id, const zab::Ready& r);
  /// After the Ready's commits are applied: an activation from a txn is of a
  /// txn this peer applied, and vouches for it being committed.
  void check_activation(int64_t id, const zab::Activation& a);
  /// One text per config version, everywhere.
  void note_config_text(int64_t id, const char* what, const zab::QuorumConfig& config);
  /// The configs whose majorities `t` needed when it was proposed.
  std::vector<std::shared_ptr<const zab::QuorumConfig>> configs_of(const SimTxn& t) const;
  /// Why `t` is not durable on a majority of each of its configs; empty if it is.
  std::string missing_majorities(const SimTxn& t) const;
  /// Config-aware role checks of one peer after a step.
  void check_roles(int64_t id);
  /// Whether what a notification says fits the sender's config (before or after its step).
  void check_notification(int64_t from, const zab::Notification& n);
  /// The role of `id` in the peer's own active config.
  zab::QuorumRole own_role(int64_t id) const;

  zab::PeerConfig config_for(int64_t id) const;
  zab::PeerHistory history_of(int64_t id) const;
  tree::Txn make_txn(size_t data_bytes = 0);
  void violation(const std::string& what);
  void trace(const std::string& line);
  uint64_t random_below(uint64_t n);
  double random_unit();

  ZabClusterOptions options_;
  std::mt19937_64 rng_;
  std::vector<zab::Member> members_;
  std::shared_ptr<const zab::QuorumConfig> initial_config_;
  std::shared_ptr<const zab::QuorumConfig> current_config_;
  /// Config text by version, from reconfig txns and every next/active config seen.
  std::map<int64_t, std::string> config_texts_;
  /// The designated leader each activated version named, by (version, epoch).
  std::map<std::pair<int64_t, int64_t>, int64_t> designated_;
  /// By zxid: the configs (active, and last-seen while pending) at proposal.
  std::map<int64_t, std::vector<std::shared_ptr<const zab::QuorumConfig>>> proposal_configs_;
  std::map<int64_t, Node> nodes_;
  std::map<Link, Connection> connections_;
  /// Events for a busy peer, in the order they came.
  std::map<int64_t, std::vector<Event>> deferred_events_;
  std::map<int64_t, int> group_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  int64_t now_ms_ = 0;
  uint64_t next_seq_ = 0;
  bool tick_scheduled_ = false;
  int64_t client_interval_ms_ = 0;
  bool client_scheduled_ = false;
  uint64_t next_txn_ = 0;

  std::vector<SimTxn> committed_;
  std::map<int64_t, SimTxn> acknowledged_;
  std::vector<SimTxn> proposed_;
  std::map<int64_t, int64_t> epoch_leaders_;  // epoch -> established leader
  std::vector<SyncEvent> syncs_;
  std::vector<std::string> violations_;

  std::function<bool(const zab::Message&)> send_hook_;
  std::function<bool(const zab::Message&)> deliver_hook_;
  bool trace_all_ = false;
  std::deque<std::string> recent_trace_;
};

/// The simulation's form of a txn it made (one create op, or a reconfig's
/// setData of /zookeeper/config), and back.
SimTxn to_sim(const tree::Txn& t);
tree::Txn to_txn(const SimTxn& s);
/// A peer's applied state as snapshot bytes (one "zxid path data" line per
/// txn), and back.
std::string encode_state(const std::vector<SimTxn>& txns);
std::vector<SimTxn> decode_state(const std::string& bytes);
/// Whether log[0, len) holds `t` (logs are sorted by zxid).
bool log_holds(const std::vector<SimTxn>& log, size_t len, const SimTxn& t);

/// The reconfig txn that installs `config` (the contract's form).
tree::Txn reconfig_txn(const zab::QuorumConfig& config);
/// The address the simulation gives server `id` in its configs.
zab::QuorumServer sim_server(int64_t id, zab::QuorumRole role);
/// `config` with server `id` added (or its role replaced), and without it.
zab::QuorumConfig with_server(zab::QuorumConfig config, int64_t id, zab::QuorumRole role);
zab::QuorumConfig without_server(zab::QuorumConfig config, int64_t id);

/// Printable names for logs.
const char* peer_state_name(zab::PeerState s);
const char* message_type_name(zab::MessageType t);
const char* sync_mode_name(zab::SyncMode m);
std::string zxid_text(int64_t zxid);
std::string ids_text(const std::set<int64_t>& ids);
const char* role_name(zab::QuorumRole r);

}  // namespace corral::sim
