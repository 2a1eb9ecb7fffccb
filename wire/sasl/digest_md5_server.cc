#include "wire/sasl/digest_md5_server.h"

#include <strings.h>

#include "wire/sasl/digest_directives.h"

namespace corral::sasl {
namespace {

constexpr std::string_view kFormat = "DIGEST-MD5: digest response format violation: ";

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// The response's directives, each present at most once (RFC 2831 2.1.2).
struct Response {
  std::optional<std::string> username, realm, nonce, cnonce, nc, qop, digest_uri, response, charset,
      authzid;
};

// Fills `out` from `directives`; an error message for a repeated directive.
std::optional<std::string> read_response(const Directives& directives, Response& out) {
  const std::pair<std::string_view, std::optional<std::string>*> fields[] = {
      {"username", &out.username},
      {"realm", &out.realm},
      {"nonce", &out.nonce},
      {"cnonce", &out.cnonce},
      {"nc", &out.nc},
      {"qop", &out.qop},
      {"digest-uri", &out.digest_uri},
      {"response", &out.response},
      {"charset", &out.charset},
      {"authzid", &out.authzid}};
  for (const auto& [name, field] : fields) {
    std::vector<std::string> values = values_of(directives, name);
    if (values.size() > 1) return std::string(kFormat) + "more than one " + std::string(name);
    if (!values.empty()) *field = std::move(values[0]);
  }
  return std::nullopt;
}

}  // namespace

DigestMd5Server::DigestMd5Server(std::string service, std::string host, PasswordLookup passwords,
                                 std::string nonce)
    : service_(std::move(service)),
      host_(std::move(host)),
      passwords_(std::move(passwords)),
      nonce_(std::move(nonce)) {}

std::string DigestMd5Server::challenge() const {
  // The layout of Java's server (no qop directive: "auth" is the default).
  return "realm=" + quoted(host_) + ",nonce=" + quoted(nonce_) +
         ",charset=utf-8,algorithm=md5-sess";
}

SaslStep DigestMd5Server::step(std::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    state_ = State::kFailed;
    return SaslStep::fail("DIGEST-MD5: token of " + std::to_string(token.size()) +
                          " bytes is too long");
  }
  switch (state_) {
    case State::kStart:
      state_ = State::kChallenged;
      return SaslStep::next(challenge());
    case State::kChallenged: {
      SaslStep result = check_response(token);
      state_ = result.status == SaslStep::Status::kComplete ? State::kComplete : State::kFailed;
      return result;
    }
    default:
      state_ = State::kFailed;
      return SaslStep::fail("DIGEST-MD5: the exchange is already over");
  }
}

SaslStep DigestMd5Server::check_response(std::string_view token) {
  std::optional<Directives> directives = parse_directives(token);
  if (!directives) return SaslStep::fail(std::string(kFormat) + "malformed directives");
  Response r;
  if (auto error = read_response(*directives, r)) return SaslStep::fail(*error);
  auto fail = [](std::string_view what) {
    return SaslStep::fail(std::string(kFormat) + std::string(what));
  };
  if (r.charset && *r.charset != "utf-8") return fail("incompatible charset " + *r.charset);
  if (!r.username) return fail("missing username");
  if (r.realm.value_or("") != host_)
    return fail("nonexistent realm '" + r.realm.value_or("") + "'");
  if (!r.nonce) return fail("missing nonce");
  // A response to another exchange's challenge (a replay) names that exchange's nonce.
  if (!equal_secrets(*r.nonce, nonce_)) return fail("mismatched nonce");
  if (!r.cnonce) return fail("missing cnonce");
  if (r.nc && *r.nc != "00000001") return fail("nonce count " + *r.nc + " is not 00000001");
  if (r.qop.value_or("auth") != "auth") return fail("unsupported qop " + *r.qop);
  std::string expected_uri = service_ + "/" + host_;
  if (!r.digest_uri || !equal_ignoring_case(*r.digest_uri, expected_uri))
    return fail("mismatched digest-uri '" + r.digest_uri.value_or("") + "', expecting '" +
                expected_uri + "'");
  if (!r.response) return fail("missing response");
  std::optional<std::string> password = passwords_(*r.username);
  if (!password) return SaslStep::fail("DIGEST-MD5: unknown user '" + *r.username + "'");
  std::string authzid = r.authzid.value_or("");
  DigestInputs in{*r.username, host_,      *password,     nonce_,
                  *r.cnonce,   "00000001", *r.digest_uri, authzid};
  if (!equal_secrets(*r.response, digest_response(in, true)))
    return fail("mismatched response (wrong password?)");
  username_ = *r.username;
  authzid_ = authzid;
  return SaslStep::done("rspauth=" + digest_response(in, false));
}

}  // namespace corral::sasl
