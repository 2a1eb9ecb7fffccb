// The quorum port's transport: length-prefixed frames between ensemble members
// over TCP. Each member keeps one outbound connection to every other member (for
// sending, reconnected with backoff while that member is down) and accepts inbound
// connections (for receiving). Frames sent while the outbound connection is down are
// dropped, never re-sent on a later connection, so each connection is a FIFO without
// gaps and the protocol above decides what to resend. Single-threaded: everything
// runs on the io_context given to the constructor.
//
// Wire format: a connector first writes its own id as an 8-byte big-endian int64 (with
// MeshGuests::enabled, the version-2 hello of peer_mesh_hello.h instead), then frames,
// each a 4-byte big-endian length followed by that many bytes. With authentication (authenticate())
// a connector that authenticates sends a hello instead of its id, and frames flow only once both
// sides proved they know the secret (peer_auth.h); with TLS (use_tls()) all of it runs over mutual
// TLS.
//
// Each outbound connection's queue is bounded (limit_queue()): a member that does not
// read (stopped, or slower than the traffic) is cut off rather than let the queue grow
// without end; the protocol above then resyncs it when it is back.
//
// Dynamic reconfiguration (MeshGuests::enabled): the hello also announces where the
// connector listens (peer_mesh_hello.h), set_members() changes the member list while
// running, and a server outside the list that announces its address is a guest: accepted,
// dialled back and sent to like a member, so a joiner can be led and a removed server keeps
// following, until it has been unreachable both ways for MeshGuests::linger.
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
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ensemble/server/peer_auth.h"
#include "ensemble/server/peer_mesh_hello.h"

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

/// How a mesh treats servers outside its member list (see the file comment).
struct MeshGuests {
  /// reconfigEnabled: hellos announce this member's address (version 2) and unlisted servers
  /// that announce theirs are accepted as guests. Off: members only, with the version-1 hello,
  /// exactly as without dynamic reconfiguration.
  bool enabled = false;
  /// At most this many guests at a time; an unlisted server beyond them is refused.
  size_t max = 16;
  /// A guest with both connections down this long is forgotten: initLimit ticks (the
  /// default is Corral's default initLimit=10 times tickTime=3000).
  std::chrono::milliseconds linger{std::chrono::seconds(30)};
};

/// Length-prefixed frames between ensemble members over TCP (see the file comment).
class PeerMesh {
 public:
  /// Callbacks into the protocol; both run on the io_context and may call back into the
  /// mesh (send, connected, even stop).
  struct Handlers {
    /// A whole frame from member `from`, viewed in the connection's buffer: valid during the
    /// call only (a copy per frame was 0.5% of a member's time under multi).
    std::function<void(int64_t from, std::string_view body)> frame;
    /// An inbound or outbound connection to `peer` closed: called once per lost connection
    /// (an outbound connection only counts once it was up; failed connect attempts to a
    /// member that is down do not call it), and for an inbound connection replaced by a
    /// newer one from the same member.
    std::function<void(int64_t peer)> disconnected;
  };

  /// `peers` lists every member, this one (`my_id`) included; throws std::invalid_argument
  /// if `my_id` is missing or an id repeats. Frames longer than `max_frame_bytes` (capped at
  /// 2^32-1) close the inbound connection that carries them and are refused by send().
  /// `guests` says whether and how servers outside `peers` are let in.
  PeerMesh(asio::io_context& io, int64_t my_id, std::vector<MeshPeer> peers, Handlers handlers,
           size_t max_frame_bytes = 1u << 30, MeshGuests guests = {});
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
  /// True when the outbound connection to `to` (a member or a guest) is up.
  bool connected(int64_t to) const;
  /// Bytes queued to `to` and not yet handed to the socket (0 without a connection).
  size_t queued_bytes(int64_t to) const;
  /// Replaces the member list (a reconfiguration's active config with its last-seen one):
  /// new ids are dialled, members whose host or port changed are reset() to the new address,
  /// and dropped ids become guests, their live connections kept. This member's own entry may
  /// be missing (it was removed) but its listener stays where it is. Throws
  /// std::invalid_argument, changing nothing, if an id repeats.
  void set_members(const std::vector<MeshPeer>& peers);
  /// True when `id` is connected, or being dialled, as a guest.
  bool is_guest(int64_t id) const;
  /// The guests' ids, ascending.
  std::vector<int64_t> guests() const;
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
  /// Inbound connections refused since construction: unknown ids, failed authentication or
  /// certificate checks, guests beyond the limit (for tests and metrics).
  uint64_t refusals() const { return refusals_; }
  /// Closes both connections with `peer` without calling `disconnected` here, so that the
  /// other side notices at once; the outbound connection is then made again.
  void reset(int64_t peer);
  /// reset() for every other member.
  void reset_all();

 private:
  struct Outbound;
  struct Inbound;
  // Everything this member knows about one other member (or guest).
  struct Link {
    Link(asio::io_context& io, MeshPeer p) : peer(std::move(p)), timer(io), linger(io) {}
    MeshPeer peer;
    std::optional<asio::ip::tcp::endpoint> endpoint;  // set when the host is a literal address
    std::shared_ptr<Outbound> out;                    // connecting or up
    std::shared_ptr<Inbound> in;                      // identified inbound connection
    asio::steady_timer timer;                         // connect timeout, then retry backoff
    uint64_t timer_generation = 0;                    // stale timer completions are ignored
    bool guest = false;                               // not in the member list
    asio::steady_timer linger;                        // a guest down both ways is dropped then
    uint64_t linger_generation = 0;
    std::chrono::milliseconds backoff{10};
    std::optional<std::string> unsent;  // see keep_last_unsent()
    bool auth_warned = false;           // a failed handshake was logged since the last success
  };

  void accept_next();
  void connect(Link& l);
  // Runs `f` on `l` after `after`, unless `l` is gone or the timer was re-armed first.
  void arm_timer(Link& l, std::chrono::steady_clock::duration after, std::function<void(Link&)> f);
  // Adds a link (a guest's, or a member's from set_members()) and dials it when running.
  Link& add_link(const MeshPeer& p, bool guest);
  // Points `l` at `p`'s host and port (the connections are left alone).
  void set_address(Link& l, const MeshPeer& p);
  // Closes the outbound connection to `l` without calling `disconnected` and dials again.
  void redial(Link& l);
  // A guest down both ways starts its linger; one up again stops it.
  void update_linger(Link& l);
  // Forgets a guest: closes its connections without calling `disconnected`.
  void drop_guest(int64_t id);
  // Why a hello from the unlisted `id` announcing `address` is refused (nullopt: it may be a
  // guest).
  std::optional<std::string> guest_refusal(int64_t id, const mesh_hello::Address& address) const;
  // The address this mesh announces in its hellos (empty host: hellos are version 1).
  mesh_hello::Address announced() const;
  // Handshakes (peer_mesh_handshake.cc): TLS, then the hello or authentication.
  void outbound_connected(const std::shared_ptr<Outbound>& c);
  void outbound_authenticate(const std::shared_ptr<Outbound>& c);
  void outbound_prove(const std::shared_ptr<Outbound>& c);
  void inbound_accepted(const std::shared_ptr<Inbound>& c);
  /// Reads the id or hello at `pos` in `c`'s buffer; returns the bytes it used, or 0 when
  /// it needs more or closed `c`.
  size_t inbound_hello(const std::shared_ptr<Inbound>& c, size_t pos);
  /// Reads an unauthenticated version-2 hello; returns as inbound_hello() does.
  size_t inbound_announce(const std::shared_ptr<Inbound>& c, std::string_view data);
  /// Checks the connector's proof at `pos`; returns as inbound_hello() does.
  size_t inbound_proof(const std::shared_ptr<Inbound>& c, size_t pos);
  /// Queues `bytes` (none: just continue) to be written on `c`.
  void inbound_write(const std::shared_ptr<Inbound>& c, std::string bytes);
  /// Makes `c` the connection from `id` (listening at `address`, if announced; an unlisted
  /// id becomes a guest): false if it was refused (and closed).
  bool identify(const std::shared_ptr<Inbound>& c, int64_t id, bool authenticated,
                mesh_hello::Address address);
  void refuse(const std::shared_ptr<Inbound>& c, const std::string& why);
  void outbound_up(const std::shared_ptr<Outbound>& c);
  void cut_off(const std::shared_ptr<Outbound>& c);
  void outbound_lost(const std::shared_ptr<Outbound>& c);
  void write_more(const std::shared_ptr<Outbound>& c);
  /// write_more(c) once the event loop is done with what it is running now.
  void write_soon(const std::shared_ptr<Outbound>& c);
  void read_inbound(const std::shared_ptr<Inbound>& c);
  void on_inbound_data(const std::shared_ptr<Inbound>& c, size_t n);
  void inbound_lost(const std::shared_ptr<Inbound>& c);

  asio::io_context& io_;
  const int64_t my_id_;
  MeshPeer self_;
  Handlers handlers_;
  const size_t max_frame_bytes_;
  const MeshGuests guests_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;
  std::map<int64_t, Link> links_;
  // Every timer arming takes a new number, so a completion of a dropped link's timer never
  // matches a later link with the same id.
  uint64_t next_generation_ = 0;
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
  uint64_t refusals_ = 0;
};

}  // namespace corral::server
