#include "ensemble/server/client_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstring>
#include <type_traits>

#include "ensemble/server/four_letter_words.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/tls_context.h"
#include "wire/jute.h"

namespace corral::server {
namespace {

// The input buffer starts small (an idle session costs little: 10,000 sessions took 674 MiB
// with 64 KiB each) and doubles while reads fill it, up to reads of kReadChunk.
constexpr size_t kInitialBuffer = 4 * 1024;
constexpr size_t kReadChunk = 64 * 1024;
// A peer that connects to the secure port and never finishes the TLS handshake would hold
// its connection (and a maxClientCnxns slot) forever; it gets as long as Netty's SslHandler,
// which ZooKeeper's secure port runs on, gives by default.
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
// How long a connection the server closed may wait for the client to close its side.
constexpr auto kCloseLinger = std::chrono::seconds(2);

int32_t read_length(const char* p) { return wire::JuteReader(std::string_view(p, 4)).int32(); }

}  // namespace

ClientConnection::ClientConnection(asio::ip::tcp::socket socket, NetworkServer& server, uint64_t id)
    : stream_(std::move(socket)),
      deadline_(this->socket().get_executor()),
      server_(server),
      in_(kInitialBuffer) {
  this->id = id;
  describe_peer();
}

ClientConnection::ClientConnection(asio::ip::tcp::socket socket, asio::ssl::context& tls,
                                   NetworkServer& server, uint64_t id)
    : stream_(std::in_place_type<TlsStream>, std::move(socket), tls),
      deadline_(this->socket().get_executor()),
      server_(server),
      in_(kInitialBuffer) {
  this->id = id;
  describe_peer();
}

asio::ip::tcp::socket& ClientConnection::socket() {
  return with_stream([](auto& stream) -> asio::ip::tcp::socket& {
    if constexpr (std::is_same_v<std::decay_t<decltype(stream)>, TlsStream>) {
      return stream.next_layer();
    } else {
      return stream;
    }
  });
}

void ClientConnection::describe_peer() {
  asio::error_code ec;
  auto ep = socket().remote_endpoint(ec);
  address = ec ? "unknown" : ep.address().to_string();
  endpoint = address + ":" + (ec ? "0" : std::to_string(ep.port()));
  socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

void ClientConnection::start() {
  auto* tls = std::get_if<TlsStream>(&stream_);
  if (!tls) return read_more();
  handshaking_ = true;
  deadline_.expires_after(kTlsHandshakeTimeout);
  deadline_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || !self->handshaking_) return;
    spdlog::warn("closing {}: no TLS handshake within {} s", self->endpoint,
                 kTlsHandshakeTimeout.count());
    self->shutdown();
  });
  auto self = shared_from_this();
  tls->async_handshake(TlsStream::server, [self, tls](const asio::error_code& ec) {
    self->handshaking_ = false;
    self->deadline_.cancel();
    if (self->closed_) return;  // timed out, or the server is stopping
    if (ec) {
      // As ZooKeeper, a refused certificate (or none, with clientAuth=need) closes the
      // connection before any request is read.
      spdlog::warn("closing {}: TLS handshake failed: {}", self->endpoint, ec.message());
      return self->shutdown();
    }
    self->on_tls_handshake(*tls);
    self->read_more();
  });
}

// ZooKeeper's X509AuthenticationProvider: the verified certificate's subject is the id.
void ClientConnection::on_tls_handshake(TlsStream& tls) {
  std::string subject = tls_peer_subject(tls.native_handle());
  if (subject.empty()) return;
  // ZooKeeper lists these before the "ip" id (whoami shows them in this order).
  auth.insert(auth.begin(), {"x509", subject});
  if (subject == server_.core().config().x509_super_user)
    auth.insert(auth.begin(), {"super", subject});
  spdlog::info("{}: authenticated x509 id '{}'", endpoint, subject);
}

void ClientConnection::read_more() {
  // A wake() from inside consume_frames (the core answering a request at once, the budget
  // draining another connection) returns here: the loop in progress takes the next frames.
  if (reading_ || consuming_ || handshaking_ || closed_ || closing) return;
  // Taking a frame may close this connection; the core's wake() holds no reference to it.
  auto self = shared_from_this();
  // Frames a throttle left in the buffer go first: their client may wait for their replies.
  consuming_ = true;
  bool ok = consume_frames();
  consuming_ = false;
  if (!ok) return shutdown();
  // A frame still waiting means a throttle refused it (and will wake us): reading on would
  // only grow the buffer.
  if (closing || frame_waiting() || output_full() || !server_.core().accepts(*this)) return;
  if (in_.size() - in_used_ < kInitialBuffer / 2)
    in_.resize(std::min(in_.size() * 2, in_used_ + kReadChunk));
  reading_ = true;
  auto buffer = asio::buffer(in_.data() + in_used_, in_.size() - in_used_);
  with_stream([&](auto& stream) {
    stream.async_read_some(buffer, [self](const asio::error_code& ec, size_t n) {
      self->reading_ = false;
      if (self->closed_) return self->say_goodbye();  // closed while this read waited
      if (ec) return self->shutdown();
      self->on_read(n);
    });
  });
}

void ClientConnection::on_read(size_t n) {
  in_used_ += n;
  if (first_bytes_ && in_used_ >= 4) {
    first_bytes_ = false;
    if (try_four_letter_word()) return;
  }
  read_more();
}

bool ClientConnection::try_four_letter_word() {
  std::string word(in_.data(), 4);
  if (!is_four_letter_word(word)) return false;
  closing = true;
  send(run_four_letter_word(word, server_));
  close();
  return true;
}

bool ClientConnection::consume_frames() {
  const int32_t max = server_.core().config().jute_max_buffer;
  size_t pos = 0;
  while (!closing && in_used_ - pos >= 4) {
    int32_t len = read_length(in_.data() + pos);
    if (len < 0 || len > max) {
      spdlog::warn("closing {}: frame length {} outside 0..{}", endpoint, len, max);
      return false;
    }
    if (in_used_ - pos - 4 < static_cast<size_t>(len)) {
      if (in_.size() < pos + 4 + static_cast<size_t>(len)) in_.resize(pos + 4 + len);
      break;
    }
    // Checked per frame: one read can bring many pipelined requests, each with a large reply.
    if (!may_take_request()) break;
    try {
      server_.core().on_frame(*this, std::string_view(in_.data() + pos + 4, len),
                              NetworkServer::now_ms());
    } catch (const wire::DecodeError& e) {
      spdlog::warn("closing {}: {}", endpoint, e.what());
      return false;
    }
    pos += 4 + static_cast<size_t>(len);
  }
  std::memmove(in_.data(), in_.data() + pos, in_used_ - pos);
  in_used_ -= pos;
  if (in_.size() > 4 * kReadChunk && in_used_ < kReadChunk) in_.resize(kReadChunk);
  return true;
}

void ClientConnection::wake() {
  if (closed_ || closing) return;
  // Not behind read_more's guards: a read may be in flight while frames wait in the core.
  if (!held_frames.empty()) server_.core().resume_held(*this, NetworkServer::now_ms());
  read_more();
}

bool ClientConnection::may_answer() { return !output_full() && server_.output_budget().admits(id); }

bool ClientConnection::may_take_request() {
  return !output_full() && server_.core().accepts(*this) && server_.output_budget().admits(id);
}

bool ClientConnection::frame_waiting() const {
  if (in_used_ < 4) return false;
  int32_t len = read_length(in_.data());
  return len >= 0 && in_used_ - 4 >= static_cast<size_t>(len);
}

void ClientConnection::send(std::string frame) {
  if (closed_ || !socket().is_open()) return;
  // A client that does not read its replies and events must not grow the server without
  // bound: past corral.connectionOutputLimitBytes it is dropped. A lone frame always goes.
  size_t limit = server_.core().config().connection_output_limit_bytes;
  if (out_bytes_ > 0 && out_bytes_ + frame.size() > limit) {
    spdlog::warn(
        "closing {}: it does not read; {} bytes queued (corral.connectionOutputLimitBytes={})",
        endpoint, out_bytes_ + frame.size(), limit);
    closing = true;
    // With output queued a write is in flight or posted: it fails now (or when it starts, on
    // the reset socket) and its handler shuts down.
    reset();
    return;
  }
  if (out_bytes_ == 0) output_moved_ms_ = NetworkServer::now_ms();
  out_bytes_ += frame.size();
  server_.output_budget().queued(id, frame.size());
  out_.push_back(std::move(frame));
  // Started after the handler that made this frame: the replies to a read's pipelined
  // requests, or to a commit's batch, go out in one write. Started here, the first would go
  // alone (its write began before the next reply was made) and the rest in a second one.
  if (writing_ || write_posted_) return;
  write_posted_ = true;
  asio::post(socket().get_executor(), [self = shared_from_this()] {
    self->write_posted_ = false;
    self->write_more();
  });
}

// Reading stops at half the limit, so that a client that pipelines reads and reads the
// replies slows down instead of reaching the limit.
bool ClientConnection::output_full() const {
  return out_bytes_ >
         static_cast<size_t>(server_.core().config().connection_output_limit_bytes) / 2;
}

void ClientConnection::write_more() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (close_after_write_) close_gracefully();
    return;
  }
  std::vector<asio::const_buffer> buffers;
  for (size_t i = 0; i < out_.size() && i < 64; ++i) buffers.push_back(asio::buffer(out_[i]));
  writing_ = true;
  auto self = shared_from_this();
  with_stream([&](auto& stream) {
    asio::async_write(stream, buffers,
                      [self, count = buffers.size()](const asio::error_code& ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->shutdown();
                        size_t written = 0;
                        for (size_t i = 0; i < count; ++i) {
                          written += self->out_.front().size();
                          self->out_.pop_front();
                        }
                        self->out_bytes_ -= written;
                        self->output_moved_ms_ = NetworkServer::now_ms();
                        self->write_more();
                        // Room in the budget may let other connections take requests.
                        self->server_.output_budget().written(self->id, written);
                        self->wake();
                      });
  });
}

void ClientConnection::close_stalled(int64_t limit_ms) {
  if (closed_) return;
  spdlog::warn("closing {}: it has not read its replies ({} bytes queued) for {} ms", endpoint,
               out_bytes_, limit_ms);
  closing = true;
  // A write is in flight or posted (output is queued): it fails on the reset socket and its
  // handler shuts down.
  reset();
}

void ClientConnection::reset() {
  // A plain close would leave the unread replies in the kernel with a FIN queued behind them,
  // neither ever sent to a client that does not read: the kernel would hold them for minutes
  // and the client would never learn it was cut off. Lingering 0 s sends a reset instead.
  asio::error_code ec;
  socket().set_option(asio::socket_base::linger(true, 0), ec);
  socket().close(ec);
}

void ClientConnection::close() {
  closing = true;
  close_after_write_ = true;
  write_more();
}

void ClientConnection::shutdown() {
  if (closed_) return;
  auto self = shared_from_this();  // as in close_gracefully: the server may hold the last one
  closed_ = true;
  closing = true;
  deadline_.cancel();
  asio::error_code ec;
  socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket().close(ec);
  server_.connection_closed(*this);
}

// Closing a socket whose client is still sending (its next request, a ping) makes the kernel
// answer with a reset, and a reset makes the client's kernel drop the replies it has not
// read yet: kazoo then saw a lost connection instead of AUTH_FAILED. So the server sends
// close_notify (TLS, as Netty does for ZooKeeper) and FIN, and reads until the client closes
// too, for at most kCloseLinger. The session is detached at once.
void ClientConnection::close_gracefully() {
  if (closed_) return;
  if (handshaking_) return shutdown();  // nothing was said yet; the handshake is cut
  // connection_closed drops the server's reference: called from the core (not from one of
  // this connection's handlers) it may have been the last one.
  auto self = shared_from_this();
  closed_ = true;
  closing = true;
  server_.connection_closed(*this);
  deadline_.expires_after(kCloseLinger);
  deadline_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec) return;
    asio::error_code ignored;
    self->socket().close(ignored);
  });
  // One read at a time: a read in flight is cancelled, and its handler says goodbye.
  if (reading_) {
    asio::error_code ignored;
    socket().cancel(ignored);
    return;
  }
  say_goodbye();
}

void ClientConnection::say_goodbye() {
  if (!socket().is_open()) return;
  auto* tls = std::get_if<TlsStream>(&stream_);
  if (!tls) return finish_tcp();
  tls->async_shutdown([self = shared_from_this()](const asio::error_code&) {
    // Whether the client answered close_notify or not, TCP closes the same way.
    self->finish_tcp();
  });
}

void ClientConnection::finish_tcp() {
  asio::error_code ignored;
  socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  discard_input();
}

void ClientConnection::discard_input(std::shared_ptr<std::array<char, 4096>> sink) {
  if (!socket().is_open()) return;
  // Its own buffer: in_ may still be in use by the frames loop that decided to close.
  if (!sink) sink = std::make_shared<std::array<char, 4096>>();
  socket().async_read_some(asio::buffer(*sink),
                           [self = shared_from_this(), sink](const asio::error_code& ec, size_t) {
                             if (!ec) return self->discard_input(sink);
                             asio::error_code ignored;
                             self->deadline_.cancel();
                             self->socket().close(ignored);
                           });
}

}  // namespace corral::server
