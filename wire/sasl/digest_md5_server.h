// The server side of DIGEST-MD5 as ZooKeeper 3.8's Java server runs it: one realm (the server
// name), qop "auth", nonce count 1, no subsequent authentication.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "wire/sasl/digest_md5.h"

namespace corral::sasl {

/// One client's DIGEST-MD5 exchange on the server: feed each token the client sends to step()
/// and send back what it returns. After kComplete, username() is the authenticated user.
class DigestMd5Server {
 public:
  /// A user's password, or nothing for an unknown user.
  using PasswordLookup = std::function<std::optional<std::string>(std::string_view user)>;

  /// Tokens longer than this fail (Java's limit for a digest response).
  static constexpr size_t kMaxTokenBytes = 4096;

  /// `service`/`host` form the digest-uri the client must name; `host` is also the realm.
  /// `nonce` is for tests; by default each exchange gets a fresh random one.
  DigestMd5Server(std::string service, std::string host, PasswordLookup passwords,
                  std::string nonce = random_nonce());

  /// The first token (ignored, as Java ignores an initial response) gets the challenge; the
  /// second is checked against the user's password and gets `rspauth=...` with kComplete.
  /// Any token after that, or after a failure, fails.
  SaslStep step(std::string_view token);

  /// True once the client proved it knows the password.
  bool complete() const { return state_ == State::kComplete; }
  /// The authenticated user (the response's `username`), once complete.
  const std::string& username() const { return username_; }
  /// The `authzid` the client asked to act as (empty when it sent none).
  const std::string& authzid() const { return authzid_; }

 private:
  enum class State { kStart, kChallenged, kComplete, kFailed };

  std::string challenge() const;
  SaslStep check_response(std::string_view token);

  std::string service_;
  std::string host_;
  PasswordLookup passwords_;
  std::string nonce_;
  State state_ = State::kStart;
  std::string username_;
  std::string authzid_;
};

}  // namespace corral::sasl
