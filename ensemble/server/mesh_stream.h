// One connection of the peer mesh: a TCP socket, or TLS over it once use_tls() was called
// (sslQuorum). The mesh reads and writes through it without caring which.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>
#include <optional>
#include <utility>

namespace corral::server {

/// A plain or TLS connection between ensemble members.
class MeshStream {
 public:
  /// A plain stream over a new socket, to connect. (Made in place: GCC 12 warned that moving
  /// a socket never opened reads asio's reactor data, which asio leaves unset until open.)
  explicit MeshStream(asio::io_context& io) : plain_(io) {}
  /// A plain stream over an accepted `socket`.
  explicit MeshStream(asio::ip::tcp::socket socket) : plain_(std::move(socket)) {}

  /// From now on, TLS with `context` over the socket; call before handshake().
  void use_tls(asio::ssl::context& context) { tls_.emplace(std::move(plain_), context); }
  /// True after use_tls().
  bool tls() const { return tls_.has_value(); }
  /// The OpenSSL handle (for certificate checks); only after use_tls().
  SSL* ssl() { return tls_->native_handle(); }

  /// The TCP socket underneath.
  asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }

  /// The TLS handshake (`server` on accepted connections); completes at once when plain.
  template <class Handler>
  void handshake(bool server, Handler&& handler) {
    if (!tls_) return handler(asio::error_code{});
    tls_->async_handshake(server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
                          std::forward<Handler>(handler));
  }

  /// Reads what is there (at least one byte).
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    plain_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  /// Reads until `buffers` are full.
  template <class Buffers, class Handler>
  void async_read(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_read(*tls_, buffers, std::forward<Handler>(handler));
    asio::async_read(plain_, buffers, std::forward<Handler>(handler));
  }

  /// Writes all of `buffers`.
  template <class Buffers, class Handler>
  void async_write(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    asio::async_write(plain_, buffers, std::forward<Handler>(handler));
  }

  /// Closes the socket (no TLS close_notify: the peer is dropped either way).
  void close() {
    asio::error_code ec;
    socket().close(ec);
  }

 private:
  asio::ip::tcp::socket plain_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
};

}  // namespace corral::server
