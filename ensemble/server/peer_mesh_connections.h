// PeerMesh's connection objects and byte helpers, shared by peer_mesh.cc (frames) and
// peer_mesh_handshake.cc (TLS, hello, authentication). Internal to the mesh.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "ensemble/server/mesh_stream.h"
#include "ensemble/server/peer_auth.h"
#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/peer_mesh_hello.h"

namespace corral::server {

namespace mesh_bytes {

inline void put_be32(char* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

inline void put_be64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

inline uint32_t get_be32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace mesh_bytes

/// `host` as an IP address, or nullopt when it is a name to resolve.
inline std::optional<asio::ip::address> mesh_literal_address(const std::string& host) {
  asio::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return a;
}

/// Bytes read per read_some on an inbound connection.
inline constexpr size_t kMeshReadChunk = 64 * 1024;
/// An inbound connection's buffer until it is identified: room for the longest hello and the
/// proof after it, so that strangers holding connections open cost little memory.
inline constexpr size_t kMeshHandshakeBuffer = 1024;
static_assert(kMeshHandshakeBuffer >= 8 + 1 + 8 + peer_auth::kNonceBytes + 2 +
                                          peer_auth::kMaxUsernameBytes +
                                          mesh_hello::kMaxAddressBytes + peer_auth::kProofBytes);
static_assert(kMeshHandshakeBuffer >= mesh_hello::kMaxAnnounceBytes);

// One outbound connection (or attempt). A new object per attempt, so completions of an
// older socket can never be mistaken for the current one's.
struct PeerMesh::Outbound {
  Outbound(asio::io_context& io, int64_t peer) : stream(io), resolver(io), peer(peer) {}
  void close() {
    closed = true;
    up = false;
    resolver.cancel();
    stream.close();
  }

  MeshStream stream;
  asio::ip::tcp::resolver resolver;
  const int64_t peer;
  bool up = false;
  bool closed = false;             // once set, completion handlers return without touching the mesh
  bool cut = false;                // cut off by the queue bound; closing is posted
  std::deque<std::string> chunks;  // encoded frames (the id first), several per chunk
  size_t in_flight = 0;            // chunks at the front handed to the current async_write
  size_t queued_bytes = 0;         // bytes in chunks not handed to async_write yet
  bool writing = false;
  bool write_posted = false;  // write_soon() posted a write_more() that has not run yet
  char probe = 0;             // target of the 1-byte read that notices the other side closing
  // Authentication: this side's nonce and the message being read or written.
  std::string nonce;
  std::string handshake;
};

// One accepted connection; identified once its id (or authenticated hello) has arrived.
struct PeerMesh::Inbound {
  Inbound(asio::ip::tcp::socket s)
      : stream(std::move(s)), deadline(stream.socket().get_executor()) {
    in.resize(kMeshHandshakeBuffer);
    asio::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    remote = ec ? "unknown" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  void close() {
    closed = true;
    deadline.cancel();
    stream.close();
  }

  MeshStream stream;
  asio::steady_timer deadline;  // the handshake must be over by then
  std::string remote;
  std::vector<char> in;
  size_t used = 0;
  int64_t peer = 0;
  bool identified = false;
  bool closed = false;  // once set, completion handlers return without touching the mesh
  // Authentication: the connector's hello, this side's nonce, bytes waiting to be written.
  std::optional<peer_auth::Hello> hello;
  std::string nonce;
  std::deque<std::string> out;
  bool writing = false;
};

}  // namespace corral::server
