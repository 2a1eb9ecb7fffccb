#include "ensemble/server/peer_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace corral::server::peer_auth {
namespace {

void put_be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be64(std::string_view p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// magic, version, id, nonce, username length (2 bytes)
constexpr size_t kHelloFixedBytes = 8 + 1 + 8 + kNonceBytes + 2;

}  // namespace

std::string encode_hello(const Hello& hello) {
  std::string out;
  const bool announce = !hello.address.host.empty();
  out.reserve(kHelloFixedBytes + hello.username.size() + mesh_hello::kMaxAddressBytes);
  put_be64(out, kHelloMagic);
  out.push_back(static_cast<char>(announce ? kVersionAnnounce : kVersion));
  put_be64(out, static_cast<uint64_t>(hello.id));
  out.append(hello.nonce);
  out.push_back(static_cast<char>((hello.username.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(hello.username.size() & 0xff));
  out.append(hello.username);
  if (announce) mesh_hello::append_address(out, hello.address);
  return out;
}

Decode decode_hello(std::string_view data, Hello& out, size_t& consumed) {
  const auto known_version = [&] {
    const auto v = static_cast<uint8_t>(data[8]);
    return v == kVersion || v == kVersionAnnounce;
  };
  if (data.size() < kHelloFixedBytes) {
    // Fail early on a wrong prefix rather than wait for bytes that will not make sense.
    if (data.size() >= 9 && (get_be64(data) != kHelloMagic || !known_version()))
      return Decode::kMalformed;
    return Decode::kNeedMore;
  }
  if (get_be64(data) != kHelloMagic || !known_version()) return Decode::kMalformed;
  const size_t name_len = (size_t{static_cast<unsigned char>(data[kHelloFixedBytes - 2])} << 8) |
                          static_cast<unsigned char>(data[kHelloFixedBytes - 1]);
  if (name_len > kMaxUsernameBytes) return Decode::kMalformed;
  if (data.size() < kHelloFixedBytes + name_len) return Decode::kNeedMore;
  size_t address_bytes = 0;
  out.address = {};
  if (static_cast<uint8_t>(data[8]) == kVersionAnnounce) {
    const Decode d = mesh_hello::read_address(data.substr(kHelloFixedBytes + name_len), out.address,
                                              address_bytes);
    if (d != Decode::kDone) return d;
  }
  out.id = static_cast<int64_t>(get_be64(data.substr(9)));
  out.nonce = std::string(data.substr(17, kNonceBytes));
  out.username = std::string(data.substr(kHelloFixedBytes, name_len));
  consumed = kHelloFixedBytes + name_len + address_bytes;
  return Decode::kDone;
}

std::string make_nonce() {
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceBytes) != 1) {
    std::fprintf(stderr, "corral-server: RAND_bytes failed: no nonce for quorum authentication\n");
    std::abort();
  }
  return nonce;
}

std::string proof(Role role, std::string_view purpose, std::string_view password,
                  int64_t connector_id, int64_t acceptor_id, std::string_view username,
                  std::string_view connector_nonce, std::string_view acceptor_nonce,
                  std::string_view announced) {
  // Every variable-length field carries its length, so no two inputs share an encoding; a
  // version-2 proof has its own label, so it never equals a version-1 one.
  const bool v2 = !announced.empty();
  std::string msg = role == Role::kConnector
                        ? (v2 ? "corral-quorum-auth/2 connector" : "corral-quorum-auth/1 connector")
                        : (v2 ? "corral-quorum-auth/2 acceptor" : "corral-quorum-auth/1 acceptor");
  for (std::string_view field : {purpose, username, connector_nonce, acceptor_nonce}) {
    put_be64(msg, field.size());
    msg.append(field);
  }
  if (v2) {
    put_be64(msg, announced.size());
    msg.append(announced);
  }
  put_be64(msg, static_cast<uint64_t>(connector_id));
  put_be64(msg, static_cast<uint64_t>(acceptor_id));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), password.data(), static_cast<int>(password.size()),
            reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &mac_len) ||
      mac_len != kProofBytes) {
    // An empty or short proof would be no proof at all: better to stop than to run a quorum
    // whose members are not authenticated.
    std::fprintf(stderr, "corral-server: HMAC-SHA256 failed: no proof for quorum authentication\n");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::optional<int64_t> bound_id(std::string_view username) {
  constexpr std::string_view kPrefix = "server.";
  if (!username.starts_with(kPrefix)) return std::nullopt;
  std::string_view digits = username.substr(kPrefix.size());
  int64_t id = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || id < 0)
    return std::nullopt;
  return id;
}

}  // namespace corral::server::peer_auth
