// The quorum port's transport: length-prefixed frames between ensemble members
// over TCP. Each member keeps one outbound connection to every other member (for
// sending, reconnected with backoff while that member is down) and accepts inbound
// connections (for receiving). Frames sent while the outbound connection is down are
// dropped, never re-sent on a later connection, so each connection is a FIFO without
// gaps and the protocol above decides what to resend. Single-threaded: everything
// runs on the io_context given to the constructor.
//
// Wire format: a connector first writes its own id as an 8-byte big-endian int64,
// then frames, each a 4-byte big-endian length followed by that many bytes. With
// authentication (authenticate()) a connector that authenticates sends a hello instead
// of its id, and frames flow only once both sides proved they know the secret
// (peer_auth.h); with TLS (use_tls()) all of it runs over mutual TLS.
//
// Each outbound connection's queue is bounded (limit_queue()): a member that does not
// read (stopped, or slower than the traffic) is cut off rather than let the queue grow
// without end; the protocol above then resyncs it when it is back.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "ensemble/server/peer_auth.h"

namespace corral::server {

/// One ensemble member's address on this mesh's port.
struct MeshPeer {
  /// The member's server id (myid).
  int64_t id = 0;
  /// Host name or literal address: connected to for other members, bound for this member.
  std::string host;
  /// The mesh's TCP port on that host.
  uint16_t port = 0;
};

/// Length-prefixed frames between ensemble members over TCP (see the file comment).
class PeerMesh {
 public:
  /// Callbacks into the protocol; both run on the io_context and may call back into the
  /// mesh (send, connected, even stop).
  struct Handlers {
    /// A whole frame from member `from`.
    std::function<void(int64_t from, std::string body)> frame;
    /// An inbound or outbound connection to `peer` closed: called once per lost connection
    /// (an outbound connection only counts once it was up; failed connect attempts to a
    /// member that is down do not call it), and for an inbound connection replaced by a
    /// newer one from the same member.
    std::function<void(int64_t peer)> disconnected;
  };

  /// `peers` lists every member, this one (`my_id`) included; throws std::invalid_argument
  /// if `my_id` is missing or an id repeats. Frames longer than `max_frame_bytes` (capped at
  /// 2^32-1) close the inbound connection that carries them and are refused by send().
  PeerMesh(asio::io_context& io, int64_t my_id, std::vector<MeshPeer> peers, Handlers handlers,
           size_t max_frame_bytes = 1u << 30);
  /// Stops the mesh (no handler runs afterwards).
  ~PeerMesh();
  /// Not copyable: completion handlers hold `this`.
  PeerMesh(const PeerMesh&) = delete;
  PeerMesh& operator=(const PeerMesh&) = delete;

  /// Binds this member's host:port and starts accepting and connecting to the others.
  /// Throws std::system_error if binding fails. No-op while running; allowed again
  /// after stop().
  void start();
  /// Closes the listener and every connection and cancels reconnects; no handler runs
  /// afterwards. Safe to call from a handler, twice, or before start().
  void stop();
  /// Queues `body` as one frame to member `to`. Returns false (and drops it) if the
  /// outbound connection to `to` is not up, `to` is not another member, or the body is
  /// longer than max_frame_bytes.
  bool send(int64_t to, std::string body);
  /// True when the outbound connection to `to` is up.
  bool connected(int64_t to) const;
  /// From now on, the newest frame sent to a member while its outbound connection is down
  /// is kept (replacing an older one) and sent first once it is up. Right for messages that
  /// each restate the sender's whole state, like election votes.
  void keep_last_unsent() { keep_last_ = true; }
  /// Before start(): authenticate members as `auth` says; `purpose` ("election",
  /// "quorum") goes into every proof so one port's handshake cannot serve on the other.
  void authenticate(PeerAuthSettings auth, std::string purpose);
  /// Before start(): every connection runs over TLS, accepted ones with `server`, dialled
  /// ones with `client` (both must outlive the mesh). When `verify_host`, a member's
  /// certificate must name the host its server.N line gives, both ways.
  void use_tls(asio::ssl::context& server, asio::ssl::context& client, bool verify_host);
  /// Bounds each outbound queue: a frame sent while more than `bytes` wait behind the write
  /// in progress cuts that member off (its connection is closed, `disconnected` called, and
  /// it is dialled again). Default: unbounded.
  void limit_queue(size_t bytes) { max_queue_bytes_ = bytes; }
  /// Members cut off by limit_queue() since start (for tests and metrics).
  uint64_t cut_offs() const { return cut_offs_; }
  /// Closes both connections with `peer` without calling `disconnected` here, so that the
  /// other side notices at once; the outbound connection is then made again.
  void reset(int64_t peer);
  /// reset() for every other member.
  void reset_all();

 private:
  struct Outbound;
  struct Inbound;
  // Everything this member knows about one other member.
  struct Link {
    Link(asio::io_context& io, MeshPeer p) : peer(std::move(p)), timer(io) {}
    MeshPeer peer;
    std::optional<asio::ip::tcp::endpoint> endpoint;  // set when the host is a literal address
    std::shared_ptr<Outbound> out;                    // connecting or up
    std::shared_ptr<Inbound> in;                      // identified inbound connection
    asio::steady_timer timer;                         // connect timeout, then retry backoff
    uint64_t timer_generation = 0;                    // stale timer completions are ignored
    std::chrono::milliseconds backoff{10};
    std::optional<std::string> unsent;  // see keep_last_unsent()
    bool auth_warned = false;           // a failed handshake was logged since the last success
  };

  void accept_next();
  void connect(Link& l);
  void arm_timer(Link& l, std::chrono::steady_clock::duration after, std::function<void()> f);
  // Handshakes (peer_mesh_handshake.cc): TLS, then the hello or authentication.
  void outbound_connected(const std::shared_ptr<Outbound>& c);
  void outbound_authenticate(const std::shared_ptr<Outbound>& c);
  void outbound_prove(const std::shared_ptr<Outbound>& c);
  void inbound_accepted(const std::shared_ptr<Inbound>& c);
  /// Reads the id or hello at `pos` in `c`'s buffer; returns the bytes it used, or 0 when
  /// it needs more or closed `c`.
  size_t inbound_hello(const std::shared_ptr<Inbound>& c, size_t pos);
  /// Checks the connector's proof at `pos`; returns as inbound_hello() does.
  size_t inbound_proof(const std::shared_ptr<Inbound>& c, size_t pos);
  /// Queues `bytes` (none: just continue) to be written on `c`.
  void inbound_write(const std::shared_ptr<Inbound>& c, std::string bytes);
  /// Makes `c` the connection from `id`: false if it was refused (and closed).
  bool identify(const std::shared_ptr<Inbound>& c, int64_t id, bool authenticated);
  void refuse(const std::shared_ptr<Inbound>& c, const std::string& why);
  void outbound_up(const std::shared_ptr<Outbound>& c);
  void cut_off(const std::shared_ptr<Outbound>& c);
  void outbound_lost(const std::shared_ptr<Outbound>& c);
  void write_more(const std::shared_ptr<Outbound>& c);
  void read_inbound(const std::shared_ptr<Inbound>& c);
  void on_inbound_data(const std::shared_ptr<Inbound>& c, size_t n);
  void inbound_lost(const std::shared_ptr<Inbound>& c);

  asio::io_context& io_;
  const int64_t my_id_;
  MeshPeer self_;
  Handlers handlers_;
  const size_t max_frame_bytes_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;
  std::map<int64_t, Link> links_;
  // Inbound connections that have not sent their id yet.
  std::unordered_set<std::shared_ptr<Inbound>> pending_;
  // Shared with completion handlers that capture `this`: false (or gone) once stopped.
  std::shared_ptr<bool> running_;
  bool keep_last_ = false;
  PeerAuthSettings auth_;
  std::string purpose_ = "peers";  // names the mesh in logs and proofs
  asio::ssl::context* tls_server_ = nullptr;
  asio::ssl::context* tls_client_ = nullptr;
  bool tls_verify_host_ = false;
  size_t max_queue_bytes_ = std::numeric_limits<size_t>::max();
  uint64_t cut_offs_ = 0;
};

}  // namespace corral::server
