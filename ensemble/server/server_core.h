// The single-threaded core of a standalone server: it owns the data tree,
// sessions and watches, decodes client requests, runs writes through
// prep -> commit -> respond, and answers reads from the local tree.
// It never touches a socket or a clock: links and times are passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ensemble/server/client_link.h"
#include "ensemble/server/config.h"
#include "ensemble/server/txn_log.h"
#include "ensemble/session/session_tracker.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn_prep.h"
#include "ensemble/watch/watch_manager.h"
#include "wire/jute.h"
#include "wire/records.h"

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
};

/// The core of a standalone Corral server.
class ServerCore {
 public:
  /// `now_ms` is wall-clock milliseconds (ctime/mtime and session ids derive from it).
  ServerCore(ServerConfig config, int64_t now_ms);

  /// Sends every Txn through `log` before applying it; without a log (the
  /// default) Txns apply at once and nothing survives a restart.
  void set_log(TxnLog* log) { log_ = log; }
  /// The tree, for recovery to fill before the server starts serving.
  tree::DataTree& tree_for_recovery() { return tree_; }
  /// Takes over what recovery rebuilt: the zxid counter and live sessions
  /// (whose timeouts restart at `now_ms`).
  void restore(int64_t last_zxid, const std::vector<session::Session>& live, int64_t now_ms);
  /// Txns applied since the last snapshot began.
  int64_t txns_since_snapshot() const { return txns_since_snapshot_; }
  /// A snapshot has begun: count from zero again.
  void snapshot_started() { txns_since_snapshot_ = 0; }

  /// False while a link holds too many frames behind pending writes; its
  /// connection stops reading until wake().
  bool accepts(const ClientLink& link) const;

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
  void handshake(ClientLink& link, std::string_view payload, int64_t now_ms);
  void finish_handshake(ClientLink& link, int64_t session_id, int32_t timeout_ms,
                        const std::string& passwd);
  void dispatch(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                int64_t now_ms);
  void handle_read(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  void handle_write(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r,
                    int64_t now_ms);
  void handle_auth(ClientLink& link, wire::JuteReader& r);
  void handle_set_watches(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  void handle_multi_read(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r);
  /// Closes a session; answers `reply_xid` on its link when the client asked.
  void close_session(int64_t session_id, std::optional<int32_t> reply_xid, int64_t now_ms);
  void delete_if_unused(const std::string& path, int64_t now_ms);

  /// Logs a prepared Txn, then applies it and runs `then` with the result.
  void commit(tree::Txn txn, std::function<void(const tree::ApplyResult&)> then);
  /// Applies a durable Txn to the tree and delivers the watch events it causes.
  tree::ApplyResult apply(const tree::Txn& txn);
  /// A write of `link_id` finished: answers it via `respond` if the link is
  /// still there, then lets the link's held frames through.
  void write_done(uint64_t link_id, const std::function<void(ClientLink&)>& respond);
  void process(ClientLink& link, std::string_view payload, int64_t now_ms);
  void release_held(ClientLink& link, int64_t now_ms);
  ClientLink* link_of(uint64_t id);
  tree::PrepContext context(ClientLink& link, int32_t cxid, int64_t now_ms);

  /// Sends header + body; `body` writes the record (nothing for an error reply).
  template <typename Body>
  void reply(ClientLink& link, int32_t xid, wire::ErrorCode err, Body&& body);
  void reply_error(ClientLink& link, int32_t xid, wire::ErrorCode err);
  /// Accounts the time since the oldest unanswered request of `link` arrived.
  void record_latency(ClientLink& link);
  void notify(uint64_t link_id, wire::EventType type, const std::string& path);

  ServerConfig config_;
  TxnLog* log_ = nullptr;
  int64_t txns_since_snapshot_ = 0;
  tree::DataTree tree_;
  tree::TxnPrep prep_;
  watch::WatchManager watches_;
  session::SessionTracker sessions_;
  std::unordered_map<uint64_t, ClientLink*> links_;
  std::unordered_map<int64_t, ClientLink*> session_links_;
  ServerStats stats_;
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
  link.send(finish_frame(std::move(frame)));
}

}  // namespace corral::server
