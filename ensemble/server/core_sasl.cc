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

namespace {

/// ZooKeeper's SASL refusal: header (xid, zxid 0, ZAUTHFAILED) and a null token, i.e.
/// SetSASLResponse(null). reply() leaves the body out of error replies, but the Java client
/// reads a token from every reply during its SASL exchange, whatever the error: without one it
/// sees a truncated frame and reconnects forever instead of failing with AuthFailed.
std::string sasl_refusal_frame(int32_t xid) {
  std::string frame = start_frame();
  wire::JuteWriter w(frame);
  wire::ReplyHeader{xid, 0, static_cast<int32_t>(ErrorCode::kAuthFailed)}.write(w);
  w.null_buffer();
  return frame;
}

}  // namespace

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
    std::string frame = sasl_refusal_frame(h.xid);
    ++link.packets_sent;
    ++stats_.packets_sent;
    record_latency(link);
    record_response_size(frame.size() - 4);
    link.send(finish_frame(std::move(frame)));
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
