// One client TCP connection, plain or TLS (secureClientPort): reads length-prefixed frames
// (bounded by jute.maxbuffer), hands them to the core, and writes queued frames with
// gathered writes. Takes no further request while too much output is queued, for this client
// (corral.connectionOutputLimitBytes) or for all (corral.outputBudgetBytes), or while the core
// holds too many requests: a slow client, or a crowd, slows down instead of growing the
// server's memory.
#pragma once

#include <array>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ensemble/server/client_link.h"

namespace corral::server {

class NetworkServer;

/// A client connection driven by Asio on the core's thread.
class ClientConnection : public ClientLink, public std::enable_shared_from_this<ClientConnection> {
 public:
  /// A plain connection on clientPort.
  ClientConnection(asio::ip::tcp::socket socket, NetworkServer& server, uint64_t id);
  /// A TLS connection on secureClientPort; start() runs the handshake before reading.
  ClientConnection(asio::ip::tcp::socket socket, asio::ssl::context& tls, NetworkServer& server,
                   uint64_t id);
  /// Starts reading (after the TLS handshake, on the secure port).
  void start();
  void send(std::string frame) override;
  void close() override;
  /// Lets held frames through, then takes and reads frames, as far as the throttles allow.
  void wake() override;
  /// Whether its output and the server's output budget have room for another reply.
  bool may_answer() override;
  /// Milliseconds (NetworkServer::now_ms) its queued replies have not moved; 0 when none
  /// are queued.
  int64_t output_stalled_ms(int64_t now_ms) const {
    return out_bytes_ > 0 ? now_ms - output_moved_ms_ : 0;
  }
  /// Closes it for not reading its replies for `limit_ms`.
  void close_stalled(int64_t limit_ms);

 private:
  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

  /// Runs `f` with the connection's stream, whichever kind it is.
  template <typename F>
  decltype(auto) with_stream(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }
  /// The TCP socket under the stream.
  asio::ip::tcp::socket& socket();
  void describe_peer();
  /// After a successful handshake: the client certificate's subject becomes an x509 id.
  void on_tls_handshake(TlsStream& tls);
  /// Takes the frames already read (those the throttles allow), then reads more if nothing
  /// holds the connection back.
  void read_more();
  void on_read(size_t n);
  /// Handles complete frames in the input buffer while the throttles allow; false once the
  /// connection must close.
  bool consume_frames();
  /// Whether the next request may be taken: this connection's output, the core's outstanding
  /// limits and the server's output budget; each that refuses wakes the connection later.
  bool may_take_request();
  /// Whether a complete frame waits in the input buffer.
  bool frame_waiting() const;
  bool try_four_letter_word();
  void write_more();
  /// Closes at once (errors, timeouts, a client that does not read).
  void shutdown();
  /// Closes the socket with a reset, dropping unsent replies (a client that does not read).
  void reset();
  /// Closes after the last reply: says goodbye and reads until the client closes too.
  void close_gracefully();
  /// close_notify on TLS, then finish_tcp().
  void say_goodbye();
  /// FIN, then discard input until the client closes too.
  void finish_tcp();
  void discard_input(std::shared_ptr<std::array<char, 4096>> sink = nullptr);
  bool output_full() const;

  std::variant<asio::ip::tcp::socket, TlsStream> stream_;
  /// Closes a TLS connection whose handshake takes too long, or one that does not close
  /// after the server said goodbye.
  asio::steady_timer deadline_;
  NetworkServer& server_;
  std::vector<char> in_;
  size_t in_used_ = 0;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  /// When out_ last started filling or a write of it completed.
  int64_t output_moved_ms_ = 0;
  bool writing_ = false;
  bool write_posted_ = false;  ///< a write_more() is posted for the frames send() queued
  bool reading_ = false;
  bool consuming_ = false;  ///< consume_frames() is running (a wake() must not re-enter it).
  bool handshaking_ = false;
  bool first_bytes_ = true;
  bool close_after_write_ = false;
  bool closed_ = false;
};

}  // namespace corral::server
