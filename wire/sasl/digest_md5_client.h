// The client side of DIGEST-MD5 (qop "auth"), as ZooKeeper clients use it to log in.
#pragma once

#include <string>
#include <string_view>

#include "wire/sasl/digest_md5.h"

namespace corral::sasl {

/// One DIGEST-MD5 login: send initial_response(), then feed each server token to step() and
/// send what it returns until it reports kComplete (nothing more to send) or kFailed.
class DigestMd5Client {
 public:
  /// `service`/`host` make the digest-uri: for ZooKeeper, kZooKeeperService and kZooKeeperHost.
  /// `authzid` is sent only when not empty. `cnonce` is for tests; by default a random one.
  DigestMd5Client(std::string service, std::string host, std::string username, std::string password,
                  std::string authzid = {}, std::string cnonce = random_nonce());

  /// DIGEST-MD5 has no initial response: the first token is empty.
  std::string initial_response() const { return {}; }

  /// The challenge gets the response; the server's `rspauth` is checked and completes the
  /// login (a wrong rspauth means the server does not know the password: kFailed).
  SaslStep step(std::string_view server_token);

  /// True once the server proved it knows the password too.
  bool complete() const { return state_ == State::kComplete; }

 private:
  enum class State { kStart, kResponded, kComplete, kFailed };

  SaslStep respond(std::string_view challenge);
  SaslStep check_rspauth(std::string_view token);

  std::string service_;
  std::string host_;
  std::string username_;
  std::string password_;
  std::string authzid_;
  std::string cnonce_;
  std::string realm_;
  std::string nonce_;
  State state_ = State::kStart;
};

}  // namespace corral::sasl
