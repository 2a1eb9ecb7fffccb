// ClientImpl's SASL DIGEST-MD5 login (Options::sasl): on every new connection, after the
// session handshake and before any other request, as ZooKeeper's clients do.
#include "client_impl.h"

namespace corral::client {

using wire::OpCode;

void ClientImpl::start_sasl(bool read_only) {
  sasl_ = std::make_unique<sasl::DigestMd5Client>(std::string(sasl::kZooKeeperService),
                                                  std::string(sasl::kZooKeeperHost),
                                                  options_.sasl->username, options_.sasl->password);
  sasl_read_only_ = read_only;
  send_sasl(sasl_->initial_response());
}

void ClientImpl::send_sasl(std::string token) {
  Call c;
  c.type = OpCode::kSasl;
  wire::JuteWriter w(c.body);
  w.buffer(token);
  // The call lives in in_flight_, which this object owns: `this` outlives it.
  c.on_reply = [this](ErrorCode err, wire::JuteReader& r) { on_sasl_reply(err, r); };
  send_call(std::move(c));
}

void ClientImpl::on_sasl_reply(ErrorCode err, wire::JuteReader& r) {
  if (err == ErrorCode::kConnectionLoss || err == ErrorCode::kClosing ||
      err == ErrorCode::kSessionExpired) {
    sasl_.reset();  // the connection is gone; the next one logs in again
    return;
  }
  if (err != ErrorCode::kOk) return sasl_failed("the server refused the SASL login");
  sasl::SaslStep step = sasl_->step(r.buffer());
  if (step.status == sasl::SaslStep::Status::kFailed) return sasl_failed(step.error);
  if (step.status == sasl::SaslStep::Status::kContinue) return send_sasl(std::move(step.token));
  sasl_.reset();
  session_ready(sasl_read_only_);
}

void ClientImpl::sasl_failed(const std::string& why) {
  (void)why;
  sasl_.reset();
  stop_connecting();
  fail_in_flight(ErrorCode::kAuthFailed);
  fail_waiting(ErrorCode::kAuthFailed);
  set_state(ConnectionState::kAuthFailed);
}

}  // namespace corral::client
