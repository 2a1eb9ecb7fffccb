// Authentication of ensemble members on the quorum and election ports with a shared
// secret, configured as ZooKeeper's quorum SASL is (quorum.auth.*, a JAAS file with a
// QuorumServer and a QuorumLearner section). Corral's peer protocol is its own, so instead
// of DIGEST-MD5 it runs a mutual challenge-response before the first frame:
//
//   connector -> acceptor   hello:     kHelloMagic, version, connector id, nonce_c, username
//                                      [, address (version 2, peer_mesh_hello.h)]
//   acceptor  -> connector  challenge: status, nonce_a, proof_a
//   connector -> acceptor   proof_c
//   acceptor  -> connector  verdict:   one status byte; frames follow only after kAccepted
//
// proof = HMAC-SHA256(password of `username`, role | purpose | connector id | acceptor id |
// username | nonce_c | nonce_a [| address]), with a different role label for each side so one
// side's proof can never be replayed as the other's. A version-2 hello's announced address is
// in the proof, so nobody on the path can redirect the acceptor's dial-back to a guest. Purpose
// ("election" or "quorum") keeps a proof for one port from serving on the other, and the acceptor
// id is the one the connector dialled, so a relay to another member fails.
//
// Trust model: whoever knows a learner's password is an ensemble member. With one shared
// account (ZooKeeper's usual DIGEST-MD5 setup) any holder of the secret may claim any
// member id. A username of the form "server.N" binds the account to myid N: the acceptor
// refuses it for any other claimed id, so member 2 holding only its own secret cannot pose
// as member 3. Without the secret nobody gets past the handshake, whatever id it claims,
// existing or not (unlike CVE-2023-44981, where an unknown id skipped authentication).
// The secret authenticates; it neither encrypts nor protects the bytes that follow:
// sslQuorum does that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ensemble/server/peer_mesh_hello.h"

namespace corral::server {

/// How this server authenticates ensemble members (ZooKeeper's quorum.auth.* semantics).
struct PeerAuthSettings {
  /// quorum.auth.enableSasl: off means no authentication in either direction.
  bool enabled = false;
  /// quorum.auth.learnerRequireSasl: authenticate (and require the other side to) when
  /// this server connects; off, it connects without authenticating, as ZooKeeper does.
  bool learner_require = false;
  /// quorum.auth.serverRequireSasl: refuse connectors that do not authenticate or fail to.
  bool server_require = false;
  /// This server's account from the QuorumLearner section.
  std::string username;
  /// Its password.
  std::string password;
  /// The accounts from the QuorumServer section (user_NAME="password"): name -> password.
  std::map<std::string, std::string, std::less<>> users;
};

namespace peer_auth {

/// The first 8 bytes of an authenticating connector's hello: negative as an int64, so it is
/// never a member id (which a connector without authentication sends there instead).
constexpr uint64_t kHelloMagic = 0xC022A1A0'7E5E'C0DEull;
/// Version of the handshake after the magic: 1 names only the connector, 2 (reconfigEnabled)
/// also announces its address. Both are accepted.
constexpr uint8_t kVersion = 1;
/// The version whose hello carries the connector's address.
constexpr uint8_t kVersionAnnounce = 2;
constexpr size_t kNonceBytes = 32;
constexpr size_t kProofBytes = 32;
/// Longest username accepted in a hello.
constexpr size_t kMaxUsernameBytes = 255;
/// Challenge: status, nonce_a, proof_a.
constexpr size_t kChallengeBytes = 1 + kNonceBytes + kProofBytes;

/// Status bytes from the acceptor.
enum Status : uint8_t {
  kAccepted = 0,  ///< go on (challenge) / authenticated (verdict)
  kRefused = 1,   ///< unknown user, bad proof, or an id the account may not claim
};

/// Which side a proof is from.
enum class Role { kConnector, kAcceptor };

/// An authenticating connector's first message.
struct Hello {
  int64_t id = 0;        ///< the member id the connector claims
  std::string nonce;     ///< kNonceBytes random bytes
  std::string username;  ///< its account (QuorumLearner username)
  /// Where it listens (version 2); an empty host makes a version-1 hello.
  mesh_hello::Address address;
};

/// Encodes `hello` with the magic in front (version 2 when it has an address).
std::string encode_hello(const Hello& hello);

/// Result of decoding a hello from the front of a buffer.
using Decode = mesh_hello::Decode;

/// Decodes a hello (magic included) from `data`; on kDone `consumed` is its length.
Decode decode_hello(std::string_view data, Hello& out, size_t& consumed);

/// kNonceBytes from OpenSSL's RAND_bytes; aborts if the generator fails (a quorum without
/// unpredictable nonces is not authenticated).
std::string make_nonce();

/// The HMAC-SHA256 proof `role` sends (see the file comment); `announced` is the hello's
/// address text (empty for version 1, whose proofs stay as older Corral computes them).
/// Aborts if OpenSSL cannot compute it. Compare proofs with sasl::equal_secrets (constant time).
std::string proof(Role role, std::string_view purpose, std::string_view password,
                  int64_t connector_id, int64_t acceptor_id, std::string_view username,
                  std::string_view connector_nonce, std::string_view acceptor_nonce,
                  std::string_view announced = {});

/// N when `username` is "server.N" (an account bound to myid N), else nullopt.
std::optional<int64_t> bound_id(std::string_view username);

}  // namespace peer_auth
}  // namespace corral::server
