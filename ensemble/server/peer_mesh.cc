#include "ensemble/server/peer_mesh.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "ensemble/server/peer_mesh_connections.h"

namespace corral::server {
namespace {

using asio::ip::tcp;
using namespace mesh_bytes;

constexpr auto kMinBackoff = std::chrono::milliseconds(10);
constexpr auto kMaxBackoff = std::chrono::milliseconds(200);
// A connect attempt to an unreachable host is abandoned (and retried) after this long.
constexpr auto kConnectTimeout = std::chrono::seconds(5);
// After a failed accept (e.g. out of descriptors) accepting resumes after this long.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr size_t kReadChunk = kMeshReadChunk;
// Frames with smaller bodies are copied together into shared chunks of about this size;
// larger bodies are written straight from their own string.
constexpr size_t kCoalesceBytes = 64 * 1024;
// Chunks handed to one async_write (one writev).
constexpr size_t kMaxGather = 64;

}  // namespace

PeerMesh::PeerMesh(asio::io_context& io, int64_t my_id, std::vector<MeshPeer> peers,
                   Handlers handlers, size_t max_frame_bytes, MeshGuests guests)
    : io_(io),
      my_id_(my_id),
      handlers_(std::move(handlers)),
      max_frame_bytes_(std::min<size_t>(max_frame_bytes, std::numeric_limits<uint32_t>::max())),
      guests_(guests),
      acceptor_(io),
      accept_timer_(io) {
  bool found = false;
  for (auto& p : peers) {
    if (p.id == my_id) {
      if (found)
        throw std::invalid_argument("PeerMesh: member id repeated: " + std::to_string(p.id));
      self_ = p;
      found = true;
      continue;
    }
    auto [it, inserted] = links_.try_emplace(p.id, io, p);
    if (!inserted)
      throw std::invalid_argument("PeerMesh: member id repeated: " + std::to_string(p.id));
    set_address(it->second, p);
  }
  if (!found)
    throw std::invalid_argument("PeerMesh: my id " + std::to_string(my_id) +
                                " is not in the member list");
}

PeerMesh::~PeerMesh() { stop(); }

void PeerMesh::start() {
  if (running_) return;
  tcp::endpoint ep;
  if (auto a = mesh_literal_address(self_.host)) {
    ep = tcp::endpoint(*a, self_.port);
  } else {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(self_.host, std::to_string(self_.port));
    if (results.empty())
      throw std::system_error(asio::error::host_not_found, "PeerMesh: resolve " + self_.host);
    ep = results.begin()->endpoint();
  }
  try {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  } catch (...) {
    asio::error_code ec;
    acceptor_.close(ec);
    throw;
  }
  running_ = std::make_shared<bool>(true);
  spdlog::debug("peer mesh {}: listening on {}:{}", my_id_, ep.address().to_string(), ep.port());
  accept_next();
  for (auto& [id, l] : links_) {
    l.backoff = kMinBackoff;
    connect(l);
  }
}

void PeerMesh::stop() {
  if (!running_) return;
  *running_ = false;
  running_.reset();
  asio::error_code ec;
  acceptor_.close(ec);
  accept_timer_.cancel();
  for (auto& [id, l] : links_) {
    l.timer_generation = l.linger_generation = 0;
    l.timer.cancel();
    l.linger.cancel();
    if (l.out) l.out->close();
    if (l.in) l.in->close();
    l.out.reset();
    l.in.reset();
  }
  // Guests were learned from connections, all closed now: they announce themselves again.
  std::erase_if(links_, [](const auto& entry) { return entry.second.guest; });
  for (const auto& c : pending_) c->close();
  pending_.clear();
  spdlog::debug("peer mesh {}: stopped", my_id_);
}

bool PeerMesh::connected(int64_t to) const {
  auto it = links_.find(to);
  return it != links_.end() && it->second.out && it->second.out->up;
}

size_t PeerMesh::queued_bytes(int64_t to) const {
  auto it = links_.find(to);
  return it != links_.end() && it->second.out ? it->second.out->queued_bytes : 0;
}

void PeerMesh::reset(int64_t peer) {
  // Frames sent to `peer` in this pass of the event loop and not written yet (write_soon) go
  // with the connection: ZAB syncs the member again.
  auto it = links_.find(peer);
  if (it == links_.end() || !running_) return;
  Link& l = it->second;
  if (l.in) l.in->close();
  l.in.reset();
  redial(l);
}

void PeerMesh::redial(Link& l) {
  if (l.out) l.out->close();
  l.out.reset();
  l.timer_generation = ++next_generation_;
  l.timer.cancel();
  l.backoff = kMinBackoff;
  if (running_) connect(l);
  update_linger(l);
}

void PeerMesh::reset_all() {
  for (auto& [id, l] : links_) reset(id);
}

void PeerMesh::set_address(Link& l, const MeshPeer& p) {
  l.peer = p;
  l.endpoint.reset();
  if (auto a = mesh_literal_address(p.host)) l.endpoint = tcp::endpoint(*a, p.port);
}

bool PeerMesh::send(int64_t to, std::string body) {
  auto it = links_.find(to);
  if (it == links_.end()) return false;
  if (!it->second.out || !it->second.out->up) {
    if (keep_last_ && body.size() <= max_frame_bytes_) it->second.unsent = std::move(body);
    return false;
  }
  if (body.size() > max_frame_bytes_) {
    spdlog::warn("peer mesh {}: not sending a {}-byte frame to member {} (limit {})", my_id_,
                 body.size(), to, max_frame_bytes_);
    return false;
  }
  const std::shared_ptr<Outbound>& c = it->second.out;
  if (c->cut) return false;
  if (c->queued_bytes > max_queue_bytes_) {
    // The bound is on bytes waiting behind a write in progress. With none in progress, those
    // queued were sent in this pass of the event loop (write_soon): they start now.
    if (c->writing) {
      cut_off(c);
      return false;
    }
    write_more(c);
  }
  c->queued_bytes += 4 + body.size();
  char header[4];
  put_be32(header, static_cast<uint32_t>(body.size()));
  // The back chunk may take more bytes unless it is being written or is already full
  // (a large body's own chunk is always "full").
  const bool can_append =
      c->chunks.size() > c->in_flight && c->chunks.back().size() < kCoalesceBytes;
  if (body.size() >= kCoalesceBytes) {
    if (can_append) {
      c->chunks.back().append(header, 4);
    } else {
      c->chunks.emplace_back(header, 4);
    }
    c->chunks.push_back(std::move(body));
  } else if (can_append) {
    c->chunks.back().append(header, 4).append(body);
  } else {
    std::string chunk;
    chunk.reserve(std::max<size_t>(4 + body.size(), 4096));
    chunk.append(header, 4).append(body);
    c->chunks.push_back(std::move(chunk));
  }
  write_soon(c);
  return true;
}

void PeerMesh::accept_next() {
  acceptor_.async_accept([this, token = running_](const asio::error_code& ec, tcp::socket socket) {
    if (!*token) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      spdlog::warn("peer mesh {}: accept failed: {}", my_id_, ec.message());
      accept_timer_.expires_after(kAcceptRetry);
      accept_timer_.async_wait([this, token](const asio::error_code& ec) {
        if (!ec && *token) accept_next();
      });
      return;
    }
    asio::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    auto c = std::make_shared<Inbound>(std::move(socket));
    pending_.insert(c);
    // A connection that does not finish its handshake in time is dropped, so idle
    // strangers cannot pile up.
    c->deadline.expires_after(kConnectTimeout);
    c->deadline.async_wait([this, c, token](const asio::error_code& ec) {
      if (ec || !*token || c->closed || c->identified) return;
      spdlog::warn("peer mesh {} ({}): closing connection from {}: no handshake within {} s",
                   my_id_, purpose_, c->remote, kConnectTimeout.count());
      inbound_lost(c);
    });
    inbound_accepted(c);
    accept_next();
  });
}

void PeerMesh::arm_timer(Link& l, std::chrono::steady_clock::duration after,
                         std::function<void(Link&)> f) {
  l.timer.expires_after(after);
  l.timer_generation = ++next_generation_;
  l.timer.async_wait([this, id = l.peer.id, f = std::move(f), generation = l.timer_generation,
                      token = running_](const asio::error_code& ec) {
    // The mesh, or just this link (a dropped guest), may be gone: look it up again.
    if (!*token || ec) return;
    auto it = links_.find(id);
    if (it == links_.end() || it->second.timer_generation != generation) return;
    f(it->second);
  });
}

void PeerMesh::connect(Link& l) {
  auto c = std::make_shared<Outbound>(io_, l.peer.id);
  l.out = c;
  spdlog::trace("peer mesh {}: connecting to member {} at {}:{}", my_id_, l.peer.id, l.peer.host,
                l.peer.port);
  arm_timer(l, kConnectTimeout, [this, c](Link& l) {
    if (l.out != c || c->up) return;
    spdlog::debug("peer mesh {}: connecting to member {} timed out", my_id_, c->peer);
    outbound_lost(c);
  });
  auto on_connect = [this, c](const asio::error_code& ec) {
    if (c->closed) return;
    if (ec) {
      spdlog::trace("peer mesh {}: connect to member {} failed: {}", my_id_, c->peer, ec.message());
      return outbound_lost(c);
    }
    outbound_connected(c);
  };
  if (l.endpoint) {
    c->stream.socket().async_connect(*l.endpoint, on_connect);
    return;
  }
  c->resolver.async_resolve(
      l.peer.host, std::to_string(l.peer.port),
      [this, c, on_connect](const asio::error_code& ec, tcp::resolver::results_type results) {
        if (c->closed) return;
        if (ec) {
          spdlog::debug("peer mesh {}: cannot resolve member {}: {}", my_id_, c->peer,
                        ec.message());
          return outbound_lost(c);
        }
        asio::async_connect(
            c->stream.socket(), results,
            [on_connect](const asio::error_code& ec, const tcp::endpoint&) { on_connect(ec); });
      });
}

void PeerMesh::outbound_up(const std::shared_ptr<Outbound>& c) {
  Link& l = links_.at(c->peer);
  c->up = true;
  l.backoff = kMinBackoff;
  l.auth_warned = false;
  l.timer_generation = ++next_generation_;
  l.timer.cancel();
  update_linger(l);
  if (c->nonce.empty()) {  // an authenticated connection named itself in its hello
    std::string hello(8, '\0');
    put_be64(hello.data(), static_cast<uint64_t>(my_id_));
    if (const mesh_hello::Address me = announced(); !me.host.empty())
      hello = mesh_hello::encode_announce(my_id_, me);
    c->queued_bytes += hello.size();
    c->chunks.push_back(std::move(hello));
  }
  if (l.unsent) {
    std::string frame = std::move(*l.unsent);
    l.unsent.reset();
    send(c->peer, std::move(frame));
  }
  // The other side never writes on this connection: any completion means it is gone.
  c->stream.async_read(asio::buffer(&c->probe, 1), [this, c](const asio::error_code& ec, size_t) {
    if (c->closed) return;
    if (!ec)
      spdlog::warn("peer mesh {}: member {} wrote on our outbound connection", my_id_, c->peer);
    outbound_lost(c);
  });
  write_more(c);
  spdlog::debug("peer mesh {} ({}): connected to {} {} at {}:{}{}{}", my_id_, purpose_,
                l.guest ? "guest" : "member", c->peer, l.peer.host, l.peer.port,
                c->stream.tls() ? " over TLS" : "", c->nonce.empty() ? "" : ", authenticated");
}

void PeerMesh::cut_off(const std::shared_ptr<Outbound>& c) {
  if (c->cut) return;
  c->cut = true;
  ++cut_offs_;
  spdlog::warn(
      "peer mesh {} ({}): cutting off member {}: {} bytes wait to be sent to it (limit {}); it "
      "is dialled again and resyncs",
      my_id_, purpose_, c->peer, c->queued_bytes, max_queue_bytes_);
  // Not closed here: send() runs inside the protocol's handlers, which must not see a
  // disconnection in the middle of sending.
  asio::post(io_, [this, c, token = running_] {
    if (*token && !c->closed) outbound_lost(c);
  });
}

void PeerMesh::outbound_lost(const std::shared_ptr<Outbound>& c) {
  const bool was_up = c->up;
  c->close();
  Link& l = links_.at(c->peer);
  if (l.out != c) return;
  l.out.reset();
  const auto delay = l.backoff;
  l.backoff = std::min(l.backoff * 2, kMaxBackoff);
  arm_timer(l, delay, [this](Link& l) { connect(l); });
  update_linger(l);
  if (!was_up) return;
  spdlog::debug("peer mesh {}: outbound connection to member {} closed", my_id_, c->peer);
  if (handlers_.disconnected) handlers_.disconnected(c->peer);
}

void PeerMesh::write_soon(const std::shared_ptr<Outbound>& c) {
  // The frames sent in one pass of the event loop (a PROPOSAL and a COMMIT, the requests
  // forwarded from one client read) go out in one system call: writing the first at once
  // sent them in two.
  if (c->writing || c->write_posted) return;
  c->write_posted = true;
  asio::post(io_, [this, c, token = running_] {
    c->write_posted = false;
    if (*token) write_more(c);
  });
}

void PeerMesh::write_more(const std::shared_ptr<Outbound>& c) {
  if (c->writing || c->closed || c->chunks.empty()) return;
  const size_t n = std::min(c->chunks.size(), kMaxGather);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    buffers.push_back(asio::buffer(c->chunks[i]));
    c->queued_bytes -= c->chunks[i].size();
  }
  c->in_flight = n;
  c->writing = true;
  c->stream.async_write(buffers, [this, c](const asio::error_code& ec, size_t) {
    c->writing = false;
    if (c->closed) return;
    if (ec) {
      spdlog::debug("peer mesh {}: writing to member {} failed: {}", my_id_, c->peer, ec.message());
      return outbound_lost(c);
    }
    c->chunks.erase(c->chunks.begin(), c->chunks.begin() + static_cast<ptrdiff_t>(c->in_flight));
    c->in_flight = 0;
    write_more(c);
  });
}

void PeerMesh::read_inbound(const std::shared_ptr<Inbound>& c) {
  // Keep at least half a chunk free; a partial frame bigger than that doubles the buffer.
  // Before the connection is identified its small handshake buffer is enough.
  if (c->identified && c->in.size() - c->used < kReadChunk / 2)
    c->in.resize(std::max(c->in.size() * 2, c->used + kReadChunk));
  c->stream.async_read_some(asio::buffer(c->in.data() + c->used, c->in.size() - c->used),
                            [this, c](const asio::error_code& ec, size_t n) {
                              if (c->closed) return;
                              if (ec) return inbound_lost(c);
                              on_inbound_data(c, n);
                            });
}

void PeerMesh::on_inbound_data(const std::shared_ptr<Inbound>& c, size_t n) {
  c->used += n;
  size_t pos = 0;
  // The id, or the hello and proof of an authenticating connector, come first.
  while (!c->identified) {
    const size_t took = c->hello ? inbound_proof(c, pos) : inbound_hello(c, pos);
    if (c->closed) return;
    if (took == 0) break;
    pos += took;
  }
  while (c->identified && c->used - pos >= 4) {
    const uint32_t len = get_be32(c->in.data() + pos);
    if (len > max_frame_bytes_) {
      spdlog::warn(
          "peer mesh {}: closing connection from member {} ({}): frame of {} bytes "
          "exceeds {}",
          my_id_, c->peer, c->remote, len, max_frame_bytes_);
      return inbound_lost(c);
    }
    if (c->used - pos - 4 < len) break;
    const std::string_view body(c->in.data() + pos + 4, len);
    pos += 4 + static_cast<size_t>(len);
    if (handlers_.frame) handlers_.frame(c->peer, body);
    if (c->closed) return;  // the handler stopped the mesh
  }
  std::memmove(c->in.data(), c->in.data() + pos, c->used - pos);
  c->used -= pos;
  if (c->in.size() > 4 * kReadChunk && c->used < kReadChunk) {
    c->in.resize(kReadChunk);
    c->in.shrink_to_fit();
  }
  read_inbound(c);
}

void PeerMesh::inbound_lost(const std::shared_ptr<Inbound>& c) {
  c->close();
  if (!c->identified) {
    if (c->hello && pending_.contains(c))
      spdlog::warn(
          "peer mesh {} ({}): '{}' claiming member id {} from {} left during authentication",
          my_id_, purpose_, c->hello->username, c->hello->id, c->remote);
    pending_.erase(c);
    return;
  }
  Link& l = links_.at(c->peer);
  if (l.in != c) return;
  l.in.reset();
  update_linger(l);
  spdlog::debug("peer mesh {}: inbound connection from member {} closed", my_id_, c->peer);
  if (handlers_.disconnected) handlers_.disconnected(c->peer);
}

}  // namespace corral::server
