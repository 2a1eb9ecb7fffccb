// ClientImpl's byte stream: connecting to the next server (over TLS with Options::tls),
// reading length-prefixed frames and writing queued ones.
#include <algorithm>
#include <array>
#include <asio/connect.hpp>
#include <asio/write.hpp>
#include <cstring>

#include "client_impl.h"
#include "wire/jute.h"
#include "wire/tls_peer.h"

namespace corral::client {
namespace {

// Largest frame accepted from a server (ZooKeeper's default jute.maxbuffer is 1 MiB plus
// some slack; a reply to getChildren of a huge node may be bigger).
constexpr uint32_t kMaxFrame = 64u << 20;
// A read takes up to this much: a burst of replies or events (pipelined requests, a watch
// fan-out) comes in with one system call, not two a frame.
constexpr size_t kReadChunk = 64 * 1024;
// A connection's first reads take this much; the room doubles each time a read fills it, up
// to kReadChunk. A session that connects, creates and closes (a churn) spent more time zeroing
// and freeing a 64 KiB buffer than on its three requests.
constexpr size_t kFirstReadRoom = 4 * 1024;

}  // namespace

void ClientImpl::connect_next() {
  if (closing_ || state_ == ConnectionState::kLost || state_ == ConnectionState::kClosed) return;
  if (tried_in_pass_ >= connect_.hosts.size()) {
    // Every server failed once: wait a little before the next pass.
    tried_in_pass_ = 0;
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait(on_io([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->connect_next();
    }));
    return;
  }
  const HostPort& hp = connect_.hosts[next_host_];
  next_host_ = (next_host_ + 1) % connect_.hosts.size();
  ++tried_in_pass_;
  uint64_t gen = ++gen_;
  trying_ = hp.text();
  trying_host_ = hp.host;
  connect_timer_.expires_after(connect_timeout());
  connect_timer_.async_wait(on_io([self = shared_from_this(), gen](const asio::error_code& ec) {
    if (!ec && gen == self->gen_ && !self->session_up_) self->drop_connection("connect timeout");
  }));
  // A numeric address needs no resolving: asio resolves on a thread of its own, a hop there
  // and back (and getaddrinfo) for every connect of a session churn.
  asio::error_code not_numeric;
  auto address = asio::ip::make_address(hp.host, not_numeric);
  if (!not_numeric) return connect_to(gen, std::array{asio::ip::tcp::endpoint(address, hp.port)});
  resolver_.async_resolve(
      hp.host, std::to_string(hp.port),
      on_io([self = shared_from_this(), gen](const asio::error_code& ec,
                                             asio::ip::tcp::resolver::results_type results) {
        if (gen != self->gen_) return;
        if (ec) return self->drop_connection("cannot resolve");
        self->connect_to(gen, results);
      }));
}

template <typename Endpoints>
void ClientImpl::connect_to(uint64_t gen, const Endpoints& endpoints) {
  asio::async_connect(socket_, endpoints,
                      on_io([self = shared_from_this(), gen](const asio::error_code& ec,
                                                             const asio::ip::tcp::endpoint&) {
                        if (gen != self->gen_) return;
                        if (ec) return self->drop_connection("cannot connect");
                        self->on_connected(gen);
                      }));
}

void ClientImpl::on_connected(uint64_t gen) {
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!tls_context_) return on_stream_ready(gen);
  tls_ = std::make_shared<TlsStream>(socket_, *tls_context_);
  tls::set_peer_host(tls_->native_handle(), trying_host_, options_.tls->verify_hostname);
  tls_->async_handshake(TlsStream::client, on_io([self = shared_from_this(), gen,
                                                  keep = tls_](const asio::error_code& ec) {
                          if (gen != self->gen_) return;
                          if (ec) return self->drop_connection("TLS handshake failed");
                          self->on_stream_ready(gen);
                        }));
}

void ClientImpl::on_stream_ready(uint64_t gen) {
  connected_ = true;
  last_recv_ = Clock::now();
  send_handshake();
  read_used_ = 0;  // what the last connection left is not this one's
  read_room_ = kFirstReadRoom;
  read_frames(gen);
}

template <typename Handler>
void ClientImpl::read_some(asio::mutable_buffer buffer, Handler handler) {
  if (!tls_) return socket_.async_read_some(buffer, on_io(std::move(handler)));
  tls_->async_read_some(
      buffer, on_io([keep = tls_, handler = std::move(handler)](
                        const asio::error_code& ec, size_t n) mutable { handler(ec, n); }));
}

template <typename Handler>
void ClientImpl::write_all(asio::const_buffer buffer, Handler handler) {
  if (!tls_) return asio::async_write(socket_, buffer, on_io(std::move(handler)));
  asio::async_write(*tls_, buffer,
                    on_io([keep = tls_, handler = std::move(handler)](
                              const asio::error_code& ec, size_t n) mutable { handler(ec, n); }));
}

void ClientImpl::read_frames(uint64_t gen) {
  if (read_buf_.size() - read_used_ < read_room_ / 2) read_buf_.resize(read_used_ + read_room_);
  const size_t room = read_buf_.size() - read_used_;
  read_some(asio::buffer(read_buf_.data() + read_used_, room),
            [self = shared_from_this(), gen, room](const asio::error_code& ec, size_t n) {
              if (gen != self->gen_) return;
              if (ec) return self->drop_connection("connection closed");
              if (n == room) self->read_room_ = std::min(self->read_room_ * 2, kReadChunk);
              self->last_recv_ = Clock::now();
              self->read_used_ += n;
              if (self->take_frames(gen)) self->read_frames(gen);
            });
}

bool ClientImpl::take_frames(uint64_t gen) {
  size_t pos = 0;
  size_t pending = 0;  // the size of a frame begun and not yet all read
  while (read_used_ - pos >= 4) {
    const auto len = static_cast<uint32_t>(
        wire::JuteReader(std::string_view(read_buf_.data() + pos, 4)).int32());
    if (len > kMaxFrame) {
      drop_connection("frame too large");
      return false;
    }
    if (read_used_ - pos - 4 < len) {
      pending = 4 + size_t{len};
      // The rest of a large frame is on its way: room for all of it.
      if (read_buf_.size() < pos + pending) read_buf_.resize(pos + pending);
      break;
    }
    on_frame(std::string_view(read_buf_.data() + pos + 4, len));
    // The frame may have ended this connection; a new one starts with an empty buffer.
    if (gen != gen_) return false;
    pos += 4 + len;
  }
  const size_t left = read_used_ - pos;
  read_used_ = left;
  if (read_buf_.capacity() > 4 * kReadChunk && pending <= kReadChunk) {
    // A large frame is done with: its memory goes back (a smaller resize would keep it).
    std::string fresh(kReadChunk, '\0');
    std::memcpy(fresh.data(), read_buf_.data() + pos, left);
    read_buf_.swap(fresh);
  } else {
    std::memmove(read_buf_.data(), read_buf_.data() + pos, left);
  }
  return true;
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
