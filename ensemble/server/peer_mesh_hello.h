// The mesh's version-2 hello (reconfigEnabled): a connector announces where it listens, so
// that a server outside the acceptor's member list (a joiner, or a member a reconfig
// removed) can be accepted as a guest and dialled back, as ZooKeeper's InitialMessage lets
// QuorumCnxManager do. Without authentication it is
//
//   kAnnounceMagic (8 bytes), id (8), host length (2), host, port (2)     all big-endian
//
// and the authenticating hello (peer_auth.h, version 2) carries the same address after the
// username. The version-1 hello (the bare 8-byte id) stays accepted from members, so a
// rolling upgrade from an older Corral works; only guests need the address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::server::mesh_hello {

/// The first 8 bytes of a plain version-2 hello: negative as an int64, so never a member id,
/// and distinct from peer_auth::kHelloMagic.
constexpr uint64_t kAnnounceMagic = 0xC022A1A0'7E5E'0002ull;
/// Longest announced host name (a DNS name has at most 253 characters).
constexpr size_t kMaxHostBytes = 255;
/// Longest announced address on the wire: length, host, port.
constexpr size_t kMaxAddressBytes = 2 + kMaxHostBytes + 2;
/// Longest plain version-2 hello.
constexpr size_t kMaxAnnounceBytes = 8 + 8 + kMaxAddressBytes;

/// Where a connector listens on this mesh's port.
struct Address {
  std::string host;   ///< empty: not announced (a version-1 hello)
  uint16_t port = 0;  ///< the mesh's port on that host

  /// "host:port", as logs and proofs show it.
  std::string text() const { return host + ":" + std::to_string(port); }
  /// Field-wise equality.
  bool operator==(const Address&) const = default;
};

/// Result of decoding from the front of a buffer.
enum class Decode { kNeedMore, kDone, kMalformed };

/// Appends `a` as host length, host, port.
inline void append_address(std::string& out, const Address& a) {
  out.push_back(static_cast<char>((a.host.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(a.host.size() & 0xff));
  out.append(a.host);
  out.push_back(static_cast<char>((a.port >> 8) & 0xff));
  out.push_back(static_cast<char>(a.port & 0xff));
}

/// Reads an address written by append_address(); an empty host, one longer than
/// kMaxHostBytes, or port 0 is malformed (nobody can be dialled there).
inline Decode read_address(std::string_view data, Address& out, size_t& consumed) {
  if (data.size() < 2) return Decode::kNeedMore;
  const size_t len =
      (size_t{static_cast<unsigned char>(data[0])} << 8) | static_cast<unsigned char>(data[1]);
  if (len == 0 || len > kMaxHostBytes) return Decode::kMalformed;
  if (data.size() < 2 + len + 2) return Decode::kNeedMore;
  out.host.assign(data.substr(2, len));
  out.port = static_cast<uint16_t>((static_cast<unsigned char>(data[2 + len]) << 8) |
                                   static_cast<unsigned char>(data[3 + len]));
  if (out.port == 0 || out.host.find('\0') != std::string::npos) return Decode::kMalformed;
  consumed = 2 + len + 2;
  return Decode::kDone;
}

/// The plain version-2 hello of member `id` listening at `a`.
inline std::string encode_announce(int64_t id, const Address& a) {
  std::string out;
  out.reserve(16 + 4 + a.host.size());
  for (uint64_t v : {kAnnounceMagic, static_cast<uint64_t>(id)})
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  append_address(out, a);
  return out;
}

/// Decodes a plain version-2 hello (magic included); on kDone `consumed` is its length.
inline Decode decode_announce(std::string_view data, int64_t& id, Address& a, size_t& consumed) {
  if (data.size() < 16) return Decode::kNeedMore;
  uint64_t magic = 0, raw_id = 0;
  for (int i = 0; i < 8; ++i) {
    magic = (magic << 8) | static_cast<unsigned char>(data[i]);
    raw_id = (raw_id << 8) | static_cast<unsigned char>(data[8 + i]);
  }
  if (magic != kAnnounceMagic) return Decode::kMalformed;
  size_t used = 0;
  const Decode d = read_address(data.substr(16), a, used);
  if (d != Decode::kDone) return d;
  id = static_cast<int64_t>(raw_id);
  consumed = 16 + used;
  return Decode::kDone;
}

}  // namespace corral::server::mesh_hello
