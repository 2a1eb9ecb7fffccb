#include "wire/sasl/digest_md5_client.h"

#include <sstream>

#include "wire/sasl/digest_directives.h"

namespace corral::sasl {
namespace {

constexpr std::string_view kNc = "00000001";

bool offers_auth(const std::vector<std::string>& qops) {
  if (qops.empty()) return true;  // "auth" is the default
  std::istringstream list(qops.front());
  for (std::string qop; std::getline(list, qop, ',');) {
    qop.erase(0, qop.find_first_not_of(" \t"));
    qop.erase(qop.find_last_not_of(" \t") + 1);
    if (qop == "auth") return true;
  }
  return false;
}

}  // namespace

DigestMd5Client::DigestMd5Client(std::string service, std::string host, std::string username,
                                 std::string password, std::string authzid, std::string cnonce)
    : service_(std::move(service)),
      host_(std::move(host)),
      username_(std::move(username)),
      password_(std::move(password)),
      authzid_(std::move(authzid)),
      cnonce_(std::move(cnonce)) {}

SaslStep DigestMd5Client::step(std::string_view server_token) {
  SaslStep result = SaslStep::fail("DIGEST-MD5: the exchange is already over");
  if (state_ == State::kStart)
    result = respond(server_token);
  else if (state_ == State::kResponded)
    result = check_rspauth(server_token);
  if (result.status == SaslStep::Status::kFailed) state_ = State::kFailed;
  return result;
}

SaslStep DigestMd5Client::respond(std::string_view challenge) {
  std::optional<Directives> d = parse_directives(challenge);
  if (!d) return SaslStep::fail("DIGEST-MD5: malformed challenge");
  std::vector<std::string> nonces = values_of(*d, "nonce");
  if (nonces.size() != 1)
    return SaslStep::fail("DIGEST-MD5: the challenge needs exactly one nonce");
  std::vector<std::string> algorithms = values_of(*d, "algorithm");
  if (algorithms.size() != 1 || algorithms[0] != "md5-sess")
    return SaslStep::fail("DIGEST-MD5: the challenge needs algorithm=md5-sess");
  if (!offers_auth(values_of(*d, "qop")))
    return SaslStep::fail("DIGEST-MD5: the server does not offer qop auth");
  // With several realms the first is as good as any: ZooKeeper offers one.
  std::vector<std::string> realms = values_of(*d, "realm");
  realm_ = realms.empty() ? std::string() : realms.front();
  nonce_ = nonces[0];
  bool utf8 = !values_of(*d, "charset").empty();
  std::string uri = service_ + "/" + host_;
  DigestInputs in{username_, realm_, password_, nonce_, cnonce_, kNc, uri, authzid_};
  std::string out = utf8 ? "charset=utf-8," : "";
  out += "username=" + quoted(username_);
  if (!realms.empty()) out += ",realm=" + quoted(realm_);
  out += ",nonce=" + quoted(nonce_) + ",nc=" + std::string(kNc) + ",cnonce=" + quoted(cnonce_) +
         ",digest-uri=" + quoted(uri) + ",maxbuf=65536,response=" + digest_response(in, true) +
         ",qop=auth";
  if (!authzid_.empty()) out += ",authzid=" + quoted(authzid_);
  state_ = State::kResponded;
  return SaslStep::next(std::move(out));
}

SaslStep DigestMd5Client::check_rspauth(std::string_view token) {
  std::optional<Directives> d = parse_directives(token);
  std::vector<std::string> rspauth = d ? values_of(*d, "rspauth") : std::vector<std::string>{};
  if (rspauth.size() != 1) return SaslStep::fail("DIGEST-MD5: the server sent no rspauth");
  std::string uri = service_ + "/" + host_;
  DigestInputs in{username_, realm_, password_, nonce_, cnonce_, kNc, uri, authzid_};
  if (!equal_secrets(rspauth[0], digest_response(in, false)))
    return SaslStep::fail(
        "DIGEST-MD5: the server's rspauth is wrong (it does not know the password)");
  state_ = State::kComplete;
  return SaslStep::done({});
}

}  // namespace corral::sasl
