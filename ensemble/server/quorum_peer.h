// One ensemble member: drives the ZAB core (zab::Peer) with the quorum and
// election ports (PeerMesh), the storage thread and the server core. It does
// what each zab::Ready asks in order (persist epochs, install a snapshot or
// truncate, log, then send, then apply), relays client writes to the leader,
// and runs the quorum round that makes sync linearizable.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ensemble/server/incoming_snapshot.h"
#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/replication.h"
#include "ensemble/server/server_core.h"
#include "ensemble/server/snapshot_stream.h"
#include "ensemble/storage/state_image.h"
#include "ensemble/storage/storage_thread.h"
#include "ensemble/zab/codec.h"
#include "ensemble/zab/peer.h"

namespace corral::server {

/// The ZAB configuration of this server from its zoo.cfg.
zab::PeerConfig peer_config(const ServerConfig& config);

/// The server's side of the ensemble.
class QuorumPeer : public Replication {
 public:
  /// `history` is what recovery found; `core` already holds the recovered state.
  /// `config_path` is the zoo.cfg the server started from: with reconfigEnabled each activated
  /// config is written next to it as ZooKeeper does (empty: no files are written).
  QuorumPeer(asio::io_context& io, ServerCore& core, storage::StorageThread& storage,
             zab::PeerHistory history, std::string config_path = {});
  QuorumPeer(const QuorumPeer&) = delete;
  QuorumPeer& operator=(const QuorumPeer&) = delete;

  /// Sets up the quorum's security (ConfigError when it cannot: a JAAS file or certificate
  /// that cannot be used), binds the quorum and election ports (std::system_error) and
  /// starts electing.
  void start();
  /// Closes every peer connection and stops the timer.
  void stop();

  bool serving() const override { return ready_to_serve(); }
  bool leads() const override {
    return ready_to_serve() && peer_.state() == zab::PeerState::kLeading;
  }
  int64_t next_zxid() const override { return peer_.next_zxid(); }
  void propose(tree::Txn txn) override;
  void forward(zab::Relay request) override;
  void sync(std::function<void(int64_t zxid)> done) override;
  bool revalidate(int64_t session_id, std::string passwd,
                  std::function<void(bool valid, int64_t zxid)> done) override;
  std::string mode() const override;
  int synced_followers() const override {
    return static_cast<int>(peer_.synced_followers().size());
  }
  int synced_observers() const override {
    return static_cast<int>(peer_.synced_observers().size());
  }
  int learners() const override { return leads() ? static_cast<int>(peer_.learner_count()) : 0; }
  int64_t leader_id() const override { return peer_.leader() > 0 ? peer_.leader() : -1; }
  int64_t serving_ms() const override { return was_serving_ ? steady_ms() - serving_since_ms_ : 0; }
  int64_t epoch() const override { return peer_.current_epoch(); }
  bool read_only() const override;
  ReconfigView reconfig_view() const override;

  /// Milliseconds of a monotonic clock: the protocol's time base.
  static int64_t steady_ms();

 private:
  /// A leader's SNAP, decoded and loaded before the ZAB core sees it (so one that cannot
  /// be installed is refused while this server's state is still intact).
  struct DecodedSnapshot {
    std::shared_ptr<const zab::SnapshotData> data;
    storage::StateImage image;
    tree::DataTree tree;
    /// The rows as stored beside the database's state while the tree is built (set on the
    /// storage thread, read there only).
    std::optional<int64_t> staged_id;
    /// Steady-clock times for the install's log line: received, decoded, tree built.
    int64_t received_ms = 0;
    int64_t decoded_ms = 0;
    int64_t built_ms = 0;
  };

  /// A sync waiting for a quorum to confirm this leader (ZOOKEEPER-1675).
  struct LeaderSync {
    int64_t round = 0;
    int64_t zxid = 0;
    std::function<void(int64_t)> done;
  };

  /// Advances the protocol's timers (every 5 ms: election deadlines are tens of ms).
  void tick();
  void schedule_tick();
  /// Authentication (quorum.auth.*), TLS (sslQuorum) and queue bounds for both meshes.
  void secure_meshes();
  /// The ZAB core serves and every txn it committed so far is applied here (none waits
  /// behind a storage barrier): only then may this server prepare writes or answer reads.
  /// A server already serving in this role keeps serving across a barrier: in a role only a
  /// reconfig's config storage makes one, and its Ready's messages and commits still wait.
  bool ready_to_serve() const {
    bool same_role = was_serving_ && peer_.state() == last_state_ && peer_.leader() == last_leader_;
    return peer_.serving() && (barriers_ == 0 || same_role);
  }
  /// A frame from the election (`quorum` false) or quorum mesh.
  void on_frame(int64_t from, std::string_view body, bool quorum);
  /// False (and the connection to the leader dropped) when `m` is a SNAP from the leader
  /// that cannot be installed; otherwise true, with a SNAP kept in decoded_snapshot_.
  bool accept_snapshot(const zab::Message& m);
  /// A decoded SNAP that will not be installed: its staged rows are dropped.
  void forget_snapshot(std::shared_ptr<DecodedSnapshot> snapshot);
  /// Closes the quorum connections with `member` and forgets it (a learner whose leader
  /// it is goes LOOKING), logging `why`.
  void drop_member(int64_t member, const std::string& why);
  /// Applies committed txns to the core, unless one does not fit its tree (see .cc).
  void apply_committed(const std::vector<tree::SharedTxn>& committed);
  void on_relay(const zab::Relay& r);
  /// Takes the core's Ready and acts on it, until there is nothing left to do.
  void drive();
  /// drive() once the handlers ready now have run: what they make is acted on together.
  void drive_soon();
  void act(zab::Ready ready);
  /// Persists epochs and the abstention, installs a snapshot or truncates, on the storage
  /// thread.
  void persist(const zab::Ready& ready);
  /// The configs a Ready asks to persist (Ready::next_config, Ready::activated).
  struct ConfigChange {
    std::shared_ptr<const zab::QuorumConfig> next;
    std::optional<zab::Activation> activated;
  };
  static ConfigChange configs_of(const zab::Ready& ready) {
    return {ready.next_config, ready.activated};
  }
  /// Stores the configs (after a truncation in the same Ready, which may drop an older
  /// stored last-seen config), on the storage thread.
  static void store_configs(storage::Database& db, const ConfigChange& change);
  /// Once they are durable: the meshes learn the members of the active and last-seen
  /// configs, and an activated config reaches the core (`conf`, the reconfig reply,
  /// /zookeeper/config when no txn carries it) and zoo.cfg's dynamic file.
  void use_configs(const ConfigChange& change);
  /// The meshes' members: the active config's servers, and the last-seen one's not in it.
  std::vector<MeshPeer> mesh_members(bool election) const;
  /// Tells the operator this server abstains from elections, or votes again.
  void log_abstention(bool abstaining) const;
  void send_all(std::vector<zab::Message> messages,
                std::vector<std::pair<int64_t, zab::Notification>> notifications);
  /// False when the connection to `to` is down (the relay is dropped).
  bool send_relay(int64_t to, zab::Relay r);
  /// Leader: answers a learner's kRevalidate with its verdict on the session.
  void answer_revalidate(const zab::Relay& r);
  /// Closes the client connections (their sessions move elsewhere) once what storage
  /// barriers hold back (commits, replies) is done.
  void stop_serving_after_barriers();
  /// Acts on a change of role or of serving; false when nothing changed.
  bool role_changed();
  void check_leader_syncs();
  /// What snapshot_streams_ sends through: the quorum mesh.
  SnapshotStreams::Mesh snapshot_mesh();
  void start_leader_sync(std::function<void(int64_t)> done);

  asio::io_context& io_;
  ServerCore& core_;
  storage::StorageThread& storage_;
  /// Answers the core's log_floor on the event loop (a connection of its own: in WAL mode it
  /// does not wait for the storage thread's writes).
  std::unique_ptr<storage::Database> log_reader_;
  std::string config_path_;
  zab::PeerConfig config_;
  zab::Peer peer_;
  // sslQuorum: contexts for accepted and dialled member connections (before the meshes,
  // which use them, so they outlive them).
  std::optional<asio::ssl::context> tls_server_;
  std::optional<asio::ssl::context> tls_client_;
  std::unique_ptr<PeerMesh> election_mesh_;
  std::unique_ptr<PeerMesh> quorum_mesh_;
  asio::steady_timer timer_;
  /// Leader: the SNAPs being streamed to learners.
  SnapshotStreams snapshot_streams_;
  /// Learner: the SNAP arriving ahead of its SYNC.
  IncomingSnapshot incoming_snapshot_;
  bool stopped_ = false;
  bool driving_ = false;
  /// A drive() is posted (drive_soon) for the proposals and relays since the last one.
  bool drive_posted_ = false;
  /// Storage jobs (epochs, snapshot, truncation), and actions queued behind them, that
  /// have not run yet: while there are any, every new action queues behind them too.
  int barriers_ = 0;
  bool was_serving_ = false;
  zab::PeerState last_state_ = zab::PeerState::kLooking;
  int64_t last_leader_ = 0;
  /// The SNAP accepted by the frame being handled, until persist() takes it.
  std::shared_ptr<DecodedSnapshot> decoded_snapshot_;
  /// A committed txn did not fit the tree, or storage could not rebuild the state a TRUNC
  /// asked for: what earlier Readies still queue is neither sent nor applied until the
  /// state is rebuilt (from storage or a snapshot).
  bool diverged_ = false;
  /// Relays that reached this leader before it was ready to serve, handled once it is.
  std::vector<zab::Relay> early_relays_;
  int64_t last_touch_report_ms_ = 0;
  /// When this server last stopped serving (or started), for read-only mode's grace period.
  int64_t not_serving_since_ms_ = 0;
  /// When this server last started serving, and when it last started looking (the
  /// election's duration goes to ServerStats::election_ms when it stops looking).
  int64_t serving_since_ms_ = 0;
  int64_t looking_since_ms_ = 0;

  // Leader: sync rounds.
  int64_t confirm_round_ = 0;
  std::map<int64_t, int64_t> confirmed_round_;  // follower -> highest round it confirmed
  std::deque<LeaderSync> leader_syncs_;
  // Learner: syncs sent to the leader, by request number.
  int64_t next_sync_id_ = 0;
  std::map<int64_t, std::function<void(int64_t)>> learner_syncs_;
  // Learner: session revalidations sent to the leader, by request number.
  int64_t next_revalidation_id_ = 0;
  std::map<int64_t, std::function<void(bool, int64_t)>> learner_revalidations_;
};

}  // namespace corral::server
