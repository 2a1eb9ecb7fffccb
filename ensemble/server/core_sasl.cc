// SASL on the client port (opcode sasl, 102), as ZooKeeper's processSasl: each request carries
// a token (GetSASLRequest) and is answered with the mechanism's next token (SetSASLResponse).
// DIGEST-MD5 with service "zookeeper" and server name/realm "zk-sasl-md5", users from the
// JAAS file. Success adds the identity ("sasl", authorization id) to the connection, plus
// ("super", "") for the configured superUser. Failure answers ZAUTHFAILED and closes the
// connection (the session lives on until it expires), as ZooKeeper 3.8 does.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ensemble/auth/kerberos_name.h"
#include "ensemble/server/server_core.h"

namespace corral::server {

using wire::ErrorCode;

void ServerCore::handle_sasl(ClientLink& link, const wire::RequestHeader& h, wire::JuteReader& r) {
  link.last_op = "SASL";
  std::string token = r.buffer();
  auto exchange = sasl_exchanges_.find(link.id);
  if (exchange == sasl_exchanges_.end()) {
    auto lookup = [this](std::string_view user) -> std::optional<std::string> {
      auto it = config_.sasl_users.find(std::string(user));
      if (it == config_.sasl_users.end()) return std::nullopt;
      return it->second;
    };
    exchange =
        sasl_exchanges_
            .emplace(link.id, sasl::DigestMd5Server(std::string(sasl::kZooKeeperService),
                                                    std::string(sasl::kZooKeeperHost), lookup))
            .first;
  }
  // Without users ZooKeeper has no SASL server for the connection and answers every token
  // with an empty one, which leaves clients asking forever; refusing says what is wrong.
  sasl::SaslStep step =
      config_.sasl_users.empty()
          ? sasl::SaslStep::fail("no SASL users (java.security.auth.login.config is not set)")
          : exchange->second.step(token);
  std::optional<std::string> id;
  if (step.status == sasl::SaslStep::Status::kComplete) {
    id = auth::sasl_authorization_id(exchange->second.username(), config_.kerberos_remove_host,
                                     config_.kerberos_remove_realm);
    if (!id) step = sasl::SaslStep::fail("malformed user name " + exchange->second.username());
  }
  if (step.status == sasl::SaslStep::Status::kFailed) {
    spdlog::warn("session 0x{:x} from {}: SASL authentication failed: {}", link.session_id,
                 link.endpoint, step.error);
    reply_error(link, h.xid, ErrorCode::kAuthFailed);
    link.closing = true;
    link.close();
    return;
  }
  if (id) {
    spdlog::info("session 0x{:x}: SASL authorization id '{}'", link.session_id, *id);
    wire::Id sasl_id{"sasl", *id};
    if (std::find(link.auth.begin(), link.auth.end(), sasl_id) == link.auth.end())
      link.auth.push_back(sasl_id);
    if (!config_.sasl_super_user.empty() && *id == config_.sasl_super_user)
      link.auth.push_back({"super", ""});
  }
  reply(link, h.xid, ErrorCode::kOk, [&](wire::JuteWriter& w) { w.buffer(step.token); });
}

}  // namespace corral::server
