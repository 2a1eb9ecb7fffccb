// What the two sides of DIGEST-MD5 (RFC 2831) share: the outcome of one step and the
// response-value computation. Only qop "auth" (authentication without a security layer), the
// one ZooKeeper uses. Hashes come from OpenSSL. No I/O.
#pragma once

#include <string>
#include <string_view>

namespace corral::sasl {

/// The mechanism's name as clients and servers announce it.
inline constexpr std::string_view kDigestMd5 = "DIGEST-MD5";

/// ZooKeeper's fixed DIGEST-MD5 service and server name: its server is created with protocol
/// "zookeeper" and server name "zk-sasl-md5" (which is also the realm), whatever the host.
inline constexpr std::string_view kZooKeeperService = "zookeeper";
/// See kZooKeeperService.
inline constexpr std::string_view kZooKeeperHost = "zk-sasl-md5";

/// The outcome of feeding one token to a mechanism.
struct SaslStep {
  enum class Status {
    kContinue,  ///< send `token`; more steps follow
    kComplete,  ///< authenticated; send `token` if the peer expects one
    kFailed,    ///< refused; `error` says why
  };
  Status status = Status::kFailed;
  std::string token;
  std::string error;

  static SaslStep next(std::string token) { return {Status::kContinue, std::move(token), {}}; }
  static SaslStep done(std::string token) { return {Status::kComplete, std::move(token), {}}; }
  static SaslStep fail(std::string error) { return {Status::kFailed, {}, std::move(error)}; }
};

/// The inputs of RFC 2831's response-value (section 2.1.2.1), qop "auth".
struct DigestInputs {
  std::string_view username;
  std::string_view realm;
  std::string_view password;
  std::string_view nonce;
  std::string_view cnonce;
  std::string_view nc;  ///< 8 hex digits, "00000001"
  std::string_view digest_uri;
  std::string_view authzid;  ///< empty when none
};

/// The client's `response` (`authenticate` true) or the server's `rspauth` (false), as 32
/// lower-case hex digits. User, realm and password are hashed as ISO 8859-1 when every
/// character fits, as the RFC says for charset=utf-8.
std::string digest_response(const DigestInputs& in, bool authenticate);

/// A fresh nonce: 30 random bytes in base64 (40 characters, as Java's server makes them).
std::string random_nonce();

/// True when `a` equals `b`, compared in time independent of where they differ.
bool equal_secrets(std::string_view a, std::string_view b);

}  // namespace corral::sasl
