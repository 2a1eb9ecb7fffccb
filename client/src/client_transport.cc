// ClientImpl's byte stream: connecting to the next server (over TLS with Options::tls),
// reading length-prefixed frames and writing queued ones.
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "client_impl.h"
#include "wire/tls_peer.h"

namespace corral::client {
namespace {

// Largest frame accepted from a server (ZooKeeper's default jute.maxbuffer is 1 MiB plus
// some slack; a reply to getChildren of a huge node may be bigger).
constexpr uint32_t kMaxFrame = 64u << 20;

}  // namespace

void ClientImpl::connect_next() {
  if (closing_ || state_ == ConnectionState::kLost || state_ == ConnectionState::kClosed) return;
  if (tried_in_pass_ >= connect_.hosts.size()) {
    // Every server failed once: wait a little before the next pass.
    tried_in_pass_ = 0;
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->connect_next();
    });
    return;
  }
  const HostPort& hp = connect_.hosts[next_host_];
  next_host_ = (next_host_ + 1) % connect_.hosts.size();
  ++tried_in_pass_;
  uint64_t gen = ++gen_;
  trying_ = hp.host + ":" + hp.port;
  trying_host_ = hp.host;
  connect_timer_.expires_after(connect_timeout());
  connect_timer_.async_wait([self = shared_from_this(), gen](const asio::error_code& ec) {
    if (!ec && gen == self->gen_ && !self->session_up_) self->drop_connection("connect timeout");
  });
  resolver_.async_resolve(
      hp.host, hp.port,
      [self = shared_from_this(), gen](const asio::error_code& ec,
                                       asio::ip::tcp::resolver::results_type results) {
        if (gen != self->gen_) return;
        if (ec) return self->drop_connection("cannot resolve");
        asio::async_connect(
            self->socket_, results,
            [self, gen](const asio::error_code& ec, const asio::ip::tcp::endpoint&) {
              if (gen != self->gen_) return;
              if (ec) return self->drop_connection("cannot connect");
              self->on_connected(gen);
            });
      });
}

void ClientImpl::on_connected(uint64_t gen) {
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!tls_context_) return on_stream_ready(gen);
  tls_ = std::make_shared<TlsStream>(socket_, *tls_context_);
  tls::set_peer_host(tls_->native_handle(), trying_host_, options_.tls->verify_hostname);
  tls_->async_handshake(TlsStream::client,
                        [self = shared_from_this(), gen, keep = tls_](const asio::error_code& ec) {
                          if (gen != self->gen_) return;
                          if (ec) return self->drop_connection("TLS handshake failed");
                          self->on_stream_ready(gen);
                        });
}

void ClientImpl::on_stream_ready(uint64_t gen) {
  connected_ = true;
  last_recv_ = Clock::now();
  send_handshake();
  read_frame(gen);
}

template <typename Handler>
void ClientImpl::read_exact(asio::mutable_buffer buffer, Handler handler) {
  if (!tls_) return asio::async_read(socket_, buffer, std::move(handler));
  asio::async_read(*tls_, buffer,
                   [keep = tls_, handler = std::move(handler)](
                       const asio::error_code& ec, size_t n) mutable { handler(ec, n); });
}

template <typename Handler>
void ClientImpl::write_all(asio::const_buffer buffer, Handler handler) {
  if (!tls_) return asio::async_write(socket_, buffer, std::move(handler));
  asio::async_write(*tls_, buffer,
                    [keep = tls_, handler = std::move(handler)](
                        const asio::error_code& ec, size_t n) mutable { handler(ec, n); });
}

void ClientImpl::read_frame(uint64_t gen) {
  read_len_.resize(4);
  read_exact(asio::buffer(read_len_), [self = shared_from_this(), gen](const asio::error_code& ec,
                                                                       size_t) {
    if (gen != self->gen_) return;
    if (ec) return self->drop_connection("connection closed");
    uint32_t len = (uint8_t(self->read_len_[0]) << 24) | (uint8_t(self->read_len_[1]) << 16) |
                   (uint8_t(self->read_len_[2]) << 8) | uint8_t(self->read_len_[3]);
    if (len > kMaxFrame) return self->drop_connection("frame too large");
    self->read_body_.resize(len);
    self->read_exact(asio::buffer(self->read_body_),
                     [self, gen](const asio::error_code& ec, size_t) {
                       if (gen != self->gen_) return;
                       if (ec) return self->drop_connection("connection closed");
                       self->last_recv_ = Clock::now();
                       std::string frame = std::move(self->read_body_);
                       self->on_frame(frame);
                       if (gen == self->gen_) self->read_frame(gen);
                     });
  });
}

void ClientImpl::send_frame(std::string frame) {
  out_ += frame;
  last_send_ = Clock::now();
  if (!writing_ && connected_) write_more(gen_);
}

void ClientImpl::write_more(uint64_t gen) {
  if (out_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto buf = std::make_shared<std::string>(std::move(out_));
  out_.clear();
  write_all(asio::buffer(*buf),
            [self = shared_from_this(), buf, gen](const asio::error_code& ec, size_t) {
              if (gen != self->gen_) return;
              if (ec) return self->drop_connection("write failed");
              self->write_more(gen);
            });
}

}  // namespace corral::client
