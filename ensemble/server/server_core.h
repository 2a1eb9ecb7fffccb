// The single-threaded core of a standalone server: it owns the data tree,
// sessions and watches, decodes client requests, runs writes through
// prep -> commit -> respond, and answers reads from the local tree.
// It never touches a socket or a clock: links and times are passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ensemble/ops/histogram.h"
#include "ensemble/server/client_link.h"
#include "ensemble/server/config.h"
#include "ensemble/server/replication.h"
#include "ensemble/server/txn_log.h"
#include "ensemble/session/session_tracker.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn_prep.h"
#include "ensemble/watch/watch_manager.h"
#include "ensemble/zab/quorum_config.h"
#include "wire/jute.h"
#include "wire/records.h"
#include "wire/sasl/digest_md5_server.h"

namespace corral::server {

/// Starts a frame: 4 bytes for the length, patched by finish_frame.
std::string start_frame();
/// Writes the length prefix of a frame built with start_frame.
std::string finish_frame(std::string frame);

/// Server-wide counters for stat/srvr/mntr (reset by srst).
struct ServerStats {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  int64_t min_latency_ms = -1;
  int64_t max_latency_ms = 0;
  int64_t total_latency_ms = 0;
  uint64_t requests_completed = 0;
  uint64_t connections_rejected = 0;
  /// Latency of reads and of writes, ms (ZooKeeper's readlatency and updatelatency).
  ops::Histogram read_latency_ms = ops::Histogram::milliseconds();
  ops::Histogram update_latency_ms = ops::Histogram::milliseconds();
  /// Size of the last, smallest and largest reply (header and body); -1 before the first.
  int64_t last_response_bytes = -1;
  int64_t min_response_bytes = -1;
  int64_t max_response_bytes = -1;
  /// Txn log group commits: txns per SQLite transaction, and its duration with the fsync.
  ops::Histogram commit_batch_txns = ops::Histogram::counts();
  ops::Histogram fsync_ms = ops::Histogram::milliseconds();
  /// Snapshot durations, ms, from the first chunk to the last row written.
  ops::Histogram snapshot_ms = ops::Histogram::milliseconds();
  /// Elections: from looking to following, leading or observing, ms (election_time).
  ops::Histogram election_ms = ops::Histogram::milliseconds();
};

/// The core of a standalone Corral server.
class ServerCore {
 public:
  /// `now_ms` is wall-clock milliseconds (ctime/mtime and session ids derive from it).
  ServerCore(ServerConfig config, int64_t now_ms);

  /// Sends every Txn through `log` before applying it; without a log (the
  /// default) Txns apply at once and nothing survives a restart.
  void set_log(TxnLog* log) { log_ = log; }
  /// Runs as a member of an ensemble: writes go through `replication` (the
  /// leader prepares and proposes them, learners forward them) and committed
  /// txns come back through apply_committed on every member.
  void set_replication(Replication* replication) { replication_ = replication; }
  /// The ensemble, or nullptr when standalone.
  const Replication* replication() const { return replication_; }

  /// Ensemble: applies a committed txn, answers the request it came from when that
  /// request arrived here, and closes the connection of a session it closed.
  void apply_committed(const tree::Txn& txn);
  /// Ensemble leader: prepares and proposes a write a learner forwarded.
  void on_forwarded(const zab::Relay& request, int64_t now_ms);
  /// Ensemble leader: these sessions were active on a learner.
  void touch_sessions(const std::vector<int64_t>& ids, int64_t now_ms);
  /// Counts `link`'s session as heard from now, as any packet from it would (for a
  /// connection the output budget keeps from being read: its pings wait unread).
  void keep_alive(const ClientLink& link, int64_t now_ms);
  /// Ensemble learner: sessions active here since the last call, for the leader.
  std::vector<int64_t> take_touched_sessions();
  /// Ensemble leader: a learner asks whether session `id` is live and `passwd` is its
  /// password, for a client reattaching there; touches the session if so.
  bool revalidate_session(int64_t id, const std::string& passwd, int64_t now_ms);
  /// Ensemble: this server starts leading; every session's timeout restarts now
  /// (only the leader expires sessions).
  void restart_session_timeouts(int64_t now_ms);
  /// Ensemble: this server stopped serving. Every client connection closes (clients
  /// move to another server with their sessions) and requests in flight are dropped.
  void stop_serving();
  /// Ensemble: this server serves again; handshakes that arrived meanwhile proceed.
  void resume_parked_handshakes(int64_t now_ms);
  /// Ensemble: replaces the tree and sessions (after the log was truncated or a
  /// snapshot installed); bumps state_generation().
  void replace_state(tree::DataTree tree, const std::vector<session::Session>& live,
                     int64_t now_ms);
  /// Ensemble: `config` is the active membership; /zookeeper/config shows its text (set
  /// outside the log, again after every replace_state) and `conf` prints it. `set_node`
  /// false: a reconfig txn about to be applied writes the node itself.
  void install_config(zab::QuorumConfig config, int64_t now_ms, bool set_node = true);
  /// The active membership; nullopt when standalone.
  const std::optional<zab::QuorumConfig>& quorum_config() const { return quorum_config_; }
  /// Changes whenever replace_state() swapped the tree (a snapshot walk must not span it).
  uint64_t state_generation() const { return state_generation_; }
  /// Tells `listener` every path the tree changes (DataTree::set_change_listener), on this
  /// tree and every one replace_state() installs.
  void set_tree_change_listener(tree::DataTree::ChangeListener listener) {
    tree_listener_ = std::move(listener);
    tree_.set_change_listener(tree_listener_);
  }

  /// The tree, for recovery to fill before the server starts serving.
  tree::DataTree& tree_for_recovery() { return tree_; }
  /// Takes over what recovery rebuilt: the zxid counter and live sessions
  /// (whose timeouts restart at `now_ms`).
  void restore(int64_t last_zxid, const std::vector<session::Session>& live, int64_t now_ms);
  /// Txns applied since the last snapshot began.
  int64_t txns_since_snapshot() const { return txns_since_snapshot_; }
  /// A snapshot has begun: count from zero again.
  void snapshot_started() { txns_since_snapshot_ = 0; }

  /// False while `link` must not be read: it has corral.connectionOutstandingLimit requests
  /// held or in flight, or it has any while the server has globalOutstandingLimit (ZooKeeper's
  /// shouldThrottle: a connection with nothing outstanding is still read, so a new client is
  /// served). Its connection stops reading; the core calls wake() once it may read again.
  bool accepts(const ClientLink& link);
  /// Requests held or in flight server-wide, as globalOutstandingLimit counts them: frames held
  /// behind writes, txns in the log and not applied, writes proposed or forwarded for a client
  /// of this server and not committed.
  uint64_t global_outstanding() const { return held_total_ + log_in_flight_ + pending_.size(); }

  /// Lets `link`'s held frames through as far as its writes are done and it may answer
  /// (ClientLink::may_answer); the link calls it when it may answer again.
  void resume_held(ClientLink& link, int64_t now_ms);

  /// A new connection; its "ip" identity is set from its address.
  void attach(ClientLink& link, int64_t now_ms);
  /// The connection is gone: its watches go, its session lives until expiry.
  void detach(ClientLink& link);
  /// One frame's payload (length prefix removed). Throws wire::DecodeError on
  /// input that does not decode; the caller then closes the connection.
  void on_frame(ClientLink& link, std::string_view payload, int64_t now_ms);
  /// Expires sessions and removes empty containers and expired TTL nodes.
  void tick(int64_t now_ms);

  const ServerConfig& config() const { return config_; }
  const tree::DataTree& tree() const { return tree_; }
  const watch::WatchManager& watches() const { return watches_; }
  const session::SessionTracker& sessions() const { return sessions_; }
  const std::unordered_map<uint64_t, ClientLink*>& links() const { return links_; }
  ServerStats& stats() { return stats_; }
  /// The last zxid applied to the tree.
  int64_t last_zxid() const { return tree_.last_zxid(); }
  int64_t started_ms() const { return started_ms_; }
  /// Requests received and not yet answered: held behind writes, or written and
  /// not yet durable (srvr's "Outstanding").
  uint64_t outstanding_requests() const;

 private:
  /// tree::acl_allows, or always true with skipACL=yes (ZooKeeperServer.checkACL).
  bool acl_allows(const wire::AclList& acl, int32_t perm, const tree::AuthIds& ids) const {
    return config_.skip_acl || tree::acl_allows(acl, perm, ids);
  }
  void handshake(ClientLink& link, std::string_view payload, int64_t now_ms);
  void finish_handshake(ClientLink& link, int64_t session_id, int32_t timeout_ms,
                        const std::string& passwd, bool read_only = false);
  /// A client reattaches to session `req.session_id`: resumed if it is live here and the
  /// password matches, asked of the leader when a learner does not know it, else expired.
  void reattach(ClientLink& link, const wire::ConnectRequest& req, int32_t timeout, int64_t now_ms);
  /// Ensemble learner: the leader decides on a session this server has not applied (it may
  /// have been created or reattached through another server moments ago).
  void revalidate(ClientLink& link, const wire::ConnectRequest& req, int32_t timeout);
  /// Moves live session `s` to `link` (closing its previous connection) and answers.
  void resume_session(ClientLink& link, session::Session& s, int32_t timeout, int64_t now_ms);
  /// Session `id` if it is live (not closing) and `passwd` is its password; else null.
  session::Session* session_with_password(int64_t id, std::string_view passwd);
  /// Answers a reattach to an unknown session (or a wrong password) as expired, and closes.
  void refuse_session(ClientLink& link);
  /// A server outside a quorum in read-only mode: a known session is reattached, a new
  /// one is local to this server (it is never replicated).
  void read_only_handshake(ClientLink& link, const wire::ConnectRequest& req, int32_t timeout,
                           int64_t now_ms);
  /// True when a read-only link may not run `type` (ZooKeeper's ReadOnlyRequestProcessor).
  static bool refused_when_read_only(wire::OpCode type);
  void dispatch(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                int64_t now_ms);
  void handle_read(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  void handle_write(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                    int64_t now_ms);
  void handle_auth(ClientLink& link, wire::JuteReader& r);
  /// One SASL token of a DIGEST-MD5 login (see core_sasl.cc).
  void handle_sasl(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  void handle_set_watches(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  void handle_multi_read(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  /// reconfig (see core_reconfig.cc): refused here when reconfig is off or standalone,
  /// forwarded by a learner, prepared and proposed by the leader.
  void handle_reconfig(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                       int64_t now_ms);
  /// The leader's reconfig txn for a request `body`: the new config, or an error txn.
  tree::Txn prepare_reconfig(const tree::PrepContext& ctx, std::string_view body);
  /// What plan_reconfig needs: the ensemble's view, or a standalone server's.
  ReconfigView reconfig_view() const;
  /// Closes a session; answers `reply_xid` on its link when the client asked.
  void close_session(int64_t session_id, std::optional<int32_t> reply_xid, int64_t now_ms);
  void delete_if_unused(const std::string& path, int64_t now_ms);
  /// Ensemble learner: sends a write to the leader; `then` answers it once it commits.
  void forward(int64_t session_id, int32_t cxid, wire::OpCode type, std::string body,
               const tree::AuthIds& auth, std::function<void(const tree::ApplyResult&)> then);
  /// True when this server forwards writes instead of preparing them.
  bool forwards() const { return replication_ && !replication_->leads(); }
  /// The zxid the next prepared txn gets.
  int64_t take_zxid();
  /// Answers a sync once the tree holds every txn up to the zxid the ensemble names.
  void handle_sync(ClientLink& link, int32_t xid, std::string path);
  /// Runs `f` once the tree has applied `zxid`.
  void when_applied(int64_t zxid, std::function<void()> f);
  void close_session_link(int64_t session_id);
  /// Closes parked handshakes older than kParkMs: the client tries another server.
  void close_stale_parked(int64_t now_ms);

  /// Logs a prepared Txn, then applies it and runs `then` with the result.
  void commit(tree::Txn txn, std::function<void(const tree::ApplyResult&)> then);
  /// Applies a durable Txn to the tree and delivers the watch events it causes.
  tree::ApplyResult apply(const tree::Txn& txn);
  /// A write of `link_id` finished: answers it via `respond` if the link is
  /// still there, then lets the link's held frames through.
  void write_done(uint64_t link_id, const std::function<void(ClientLink&)>& respond);
  void process(ClientLink& link, std::string_view payload, int64_t now_ms);
  void release_held(ClientLink& link, int64_t now_ms);
  /// Requests of `link` held or written and not yet answered.
  static uint64_t outstanding_of(const ClientLink& link);
  /// Wakes the links accepts() throttled for the global limit once the server is under it.
  void wake_throttled();
  ClientLink* link_of(uint64_t id);
  tree::PrepContext context(ClientLink& link, int32_t cxid, int64_t now_ms);

  /// Sends header + body; `body` writes the record (nothing for an error reply).
  template <typename Body>
  void reply(ClientLink& link, int32_t xid, wire::ErrorCode err, Body&& body);
  void reply_error(ClientLink& link, int32_t xid, wire::ErrorCode err);
  /// Accounts the time since the oldest unanswered request of `link` arrived.
  void record_latency(ClientLink& link);
  /// Accounts a reply of `bytes` (ZooKeeper's client response size figures).
  void record_response_size(size_t bytes);
  /// Sends a watch event to a link, unless `acl` is given and the link may not READ under it.
  /// setWatches replays missed events with no ACL, unchecked, as ZooKeeper does.
  void notify(uint64_t link_id, wire::EventType type, const std::string& path,
              const wire::AclList* acl = nullptr);

  ServerConfig config_;
  TxnLog* log_ = nullptr;
  Replication* replication_ = nullptr;
  /// Ensemble: what to do when the txn of (session id, cxid) commits. Hashed: it is only
  /// added to, found and erased from, once each per write (an ordered map's nodes and compares
  /// were 0.4-0.9% of multi's member samples in two profiles).
  absl::flat_hash_map<std::pair<int64_t, int32_t>, std::function<void(const tree::ApplyResult&)>>
      pending_;
  /// Ensemble: actions waiting for the tree to reach a zxid (sync).
  std::multimap<int64_t, std::function<void()>> applied_waiters_;
  /// Ensemble learner: sessions active since the leader was last told.
  std::unordered_set<int64_t> touched_;
  /// Sessions created by this server in read-only mode (dropped when it rejoins a quorum).
  std::unordered_set<int64_t> local_sessions_;
  /// Ensemble: handshakes that arrived while this server was outside a quorum (by link id),
  /// held briefly: an election usually ends sooner than the client would find another server.
  struct ParkedHandshake {
    std::string payload;
    int64_t since_ms = 0;
  };
  std::unordered_map<uint64_t, ParkedHandshake> parked_;
  uint64_t state_generation_ = 0;
  int64_t txns_since_snapshot_ = 0;
  tree::DataTree tree_;
  tree::DataTree::ChangeListener tree_listener_;
  std::optional<zab::QuorumConfig> quorum_config_;
  tree::TxnPrep prep_;
  watch::WatchManager watches_;
  session::SessionTracker sessions_;
  std::unordered_map<uint64_t, ClientLink*> links_;
  std::unordered_map<int64_t, ClientLink*> session_links_;
  /// SASL logins by link id, from the first token until the link goes (a finished one
  /// refuses further tokens).
  std::unordered_map<uint64_t, sasl::DigestMd5Server> sasl_exchanges_;
  ServerStats stats_;
  /// True while write_done answers a write: its latency counts as an update's.
  bool answering_write_ = false;
  /// Frames in every link's held_frames.
  uint64_t held_total_ = 0;
  /// Standalone with a log: txns appended and not yet applied.
  uint64_t log_in_flight_ = 0;
  /// Links accepts() refused for the global limit alone, to wake when under it.
  std::unordered_set<uint64_t> throttled_;
  int64_t zxid_ = 0;
  int64_t last_now_ms_ = 0;
  int64_t started_ms_;
  int64_t next_container_check_ms_;
};

template <typename Body>
void ServerCore::reply(ClientLink& link, int32_t xid, wire::ErrorCode err, Body&& body) {
  std::string frame = start_frame();
  wire::JuteWriter w(frame);
  // Like ZooKeeper, every reply carries the last zxid applied to the tree.
  wire::ReplyHeader{xid, tree_.last_zxid(), static_cast<int32_t>(err)}.write(w);
  if (err == wire::ErrorCode::kOk) body(w);
  ++link.packets_sent;
  ++stats_.packets_sent;
  link.last_zxid = tree_.last_zxid();
  record_latency(link);
  record_response_size(frame.size() - 4);
  link.send(finish_frame(std::move(frame)));
}

}  // namespace corral::server
