// The client's protocol engine: one connection at a time to one of the
// ensemble's servers, the session on top of it, pipelined requests, pings,
// reconnection, and the client's side of watches. Everything here runs on one
// strand; user callbacks are posted to a second strand (the event strand) in
// the order things happened.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/bind_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "corral/client/result.h"
#include "corral/client/types.h"
#include "host_list.h"
#include "watch_table.h"
#include "wire/jute.h"
#include "wire/records.h"
#include "wire/sasl/digest_md5_client.h"

namespace corral::client {

/// A request as the engine sends it.
struct Call {
  wire::OpCode type = wire::OpCode::kPing;
  /// The jute-encoded request body (after the header), paths already chrooted.
  std::string body;
  /// Runs on the engine's strand with the reply's error and a reader over its body.
  std::function<void(ErrorCode, wire::JuteReader&)> on_reply;
  /// A watch to register when the reply says so (see WatchTable::register_for_reply).
  PendingWatch watch;
};

/// The engine behind Client.
class ClientImpl : public std::enable_shared_from_this<ClientImpl> {
 public:
  ClientImpl(asio::any_io_executor executor, Options options);

  /// Starts connecting.
  void start();
  /// Queues a request: sent now if connected, else once a session is (re)established.
  void submit(Call call);
  /// Queues an authentication (kept and sent again after reconnecting).
  void add_auth(std::string scheme, std::string credentials, std::function<void(ErrorCode)> done);
  /// Removes local watchers of `type` on `path` (server path) and reports them removed.
  void remove_local_watches(const std::string& path, WatcherType type);
  /// Registers a persistent watch locally (after the server accepted it).
  /// Closes the session; `done` runs once the server answered (or at once when offline).
  void close(std::function<void(ErrorCode)> done);
  /// Drops the connection without closing the session (the destructor's path).
  void shutdown();

  /// Where user callbacks run, in order.
  asio::any_io_executor event_executor() const { return events_; }
  /// Posts `f` to the event strand.
  template <typename F>
  void post_event(F&& f) {
    asio::post(events_, std::forward<F>(f));
  }
  /// `handler` bound to the engine's strand. The socket, timers and resolver are built on the
  /// plain executor: built on the strand, each operation copied the type-erased strand
  /// executor to the heap twice (it is too big for asio's inline storage).
  template <typename Handler>
  auto on_io(Handler&& handler) {
    return asio::bind_executor(io_, std::forward<Handler>(handler));
  }

  ConnectionState state() const { return state_.load(); }
  /// The executor the client was made with.
  asio::any_io_executor executor() const { return executor_; }
  /// See Client::add_state_listener.
  uint64_t add_state_listener(std::function<void(ConnectionState)> listener);
  /// See Client::remove_state_listener.
  void remove_state_listener(uint64_t id);
  int64_t session_id() const { return session_id_.load(); }
  std::chrono::milliseconds session_timeout() const {
    return std::chrono::milliseconds(negotiated_timeout_ms_.load());
  }
  std::string server() const;
  const std::string& chroot() const { return connect_.chroot; }

 private:
  using Clock = std::chrono::steady_clock;
  struct InFlight {
    int32_t xid = 0;
    Call call;
  };

  void connect_next();
  /// Connects to the first of `endpoints` (a range) that accepts, for connection `gen`.
  template <typename Endpoints>
  void connect_to(uint64_t gen, const Endpoints& endpoints);
  void on_connected(uint64_t gen);
  /// The byte stream is up (after the TLS handshake with TlsOptions): the session starts.
  void on_stream_ready(uint64_t gen);
  /// Reads what the connection has, up to `buffer`'s size, over TLS when it is on.
  template <typename Handler>
  void read_some(asio::mutable_buffer buffer, Handler handler);
  /// Writes all of `buffer` to the connection, over TLS when it is on.
  template <typename Handler>
  void write_all(asio::const_buffer buffer, Handler handler);
  void send_handshake();
  /// Reads from the connection and hands each whole frame to on_frame.
  void read_frames(uint64_t gen);
  /// Hands the whole frames at the front of read_buf_ to on_frame; false when one of them
  /// ended the connection (gen_ moved on) or was too large.
  bool take_frames(uint64_t gen);
  void on_frame(std::string_view frame);
  void on_handshake(std::string_view frame);
  void on_reply(wire::JuteReader& r, const wire::ReplyHeader& h);
  void on_event(wire::JuteReader& r);
  void session_ready(bool read_only);
  /// Options::sasl: logs in on the new connection before session_ready(read_only).
  void start_sasl(bool read_only);
  void send_sasl(std::string token);
  void on_sasl_reply(ErrorCode err, wire::JuteReader& r);
  /// The server refused the login (or could not prove it knows the password): stop.
  void sasl_failed(const std::string& why);
  void send_call(Call call);
  void send_frame(std::string frame);
  void write_more(uint64_t gen);
  void drop_connection(const char* why);
  void lose_session(ErrorCode err);
  /// The session is closed (or given up): everything pending fails with ZCLOSING.
  void finish_close();
  /// Closes the connection and stops every timer (no reconnecting).
  void stop_connecting();
  /// The connection and timers of a closed session go; state() becomes kClosed.
  void tear_down_closed();
  /// Sends closeSession; later calls fail with ZCLOSING.
  void send_close(std::function<void(ErrorCode)> done);
  void set_server(const std::string& s);
  void schedule_ping(uint64_t gen);
  void set_state(ConnectionState s);
  void fail_in_flight(ErrorCode err);
  void fail_waiting(ErrorCode err);
  std::chrono::milliseconds connect_timeout() const;

  asio::any_io_executor executor_;
  asio::strand<asio::any_io_executor> io_;
  asio::strand<asio::any_io_executor> events_;
  Options options_;
  ConnectString connect_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket&>;
  /// From Options::tls; none for plain connections.
  std::unique_ptr<asio::ssl::context> tls_context_;
  /// TLS over socket_ for the current connection. Shared with its pending operations, which
  /// may finish after the connection was dropped and the next one made its own.
  std::shared_ptr<TlsStream> tls_;
  /// The host of the connection being made, for the certificate's name check.
  std::string trying_host_;
  asio::steady_timer connect_timer_;
  asio::steady_timer ping_timer_;
  asio::steady_timer retry_timer_;

  // Connection.
  uint64_t gen_ = 0;  // bumps with every connection: stale completions compare it
  size_t next_host_ = 0;
  size_t tried_in_pass_ = 0;
  bool connected_ = false;   // TCP up
  bool session_up_ = false;  // handshake done
  std::string out_;          // frames waiting for the current write
  bool writing_ = false;
  std::string read_buf_;  // its first read_used_ bytes: read and not yet taken (whole frames,
  size_t read_used_ = 0;  // then the start of one)
  size_t read_room_ = 0;  // what the next read may take (grows while reads fill it)
  Clock::time_point last_send_;
  Clock::time_point last_recv_;
  /// When the connection of a live session dropped: the client gives the session up if no
  /// server takes it back within 4/3 of its timeout.
  Clock::time_point suspended_since_;
  std::string server_;   // connected to (empty when not)
  std::string trying_;   // being connected to
  bool proven_ = false;  // the server answered something after the handshake
  mutable std::mutex server_mu_;

  // Session.
  std::atomic<int64_t> session_id_{0};
  std::string passwd_ = std::string(16, '\0');
  std::atomic<int32_t> negotiated_timeout_ms_{0};
  int64_t last_zxid_ = 0;
  bool seen_rw_ = false;
  bool ever_connected_ = false;
  bool closing_ = false;
  std::atomic<ConnectionState> state_{ConnectionState::kConnecting};

  // Requests.
  int32_t next_xid_ = 1;
  std::deque<Call> waiting_;
  std::deque<InFlight> in_flight_;
  std::vector<std::pair<std::string, std::string>> auth_;
  std::deque<std::function<void(ErrorCode)>> auth_waiting_;
  std::function<void(ErrorCode)> close_done_;

  // SASL login of the current connection (Options::sasl); requests wait until it is done.
  std::unique_ptr<sasl::DigestMd5Client> sasl_;
  bool sasl_read_only_ = false;

  WatchTable watches_;

  // State listeners (recipes), called on the event strand.
  mutable std::mutex listeners_mu_;
  uint64_t next_listener_ = 1;
  std::map<uint64_t, std::function<void(ConnectionState)>> listeners_;
};

}  // namespace corral::client
