// The bytes of a refused SASL login, as ZooKeeper's Java client (zkCli.sh, Kafka) needs them:
// header (the request's xid, zxid 0, ZAUTHFAILED) and a SetSASLResponse with a null token. That
// client reads a token from every reply of its SASL exchange whatever the error; a reply with
// no body made it reconnect forever instead of raising AuthFailed (sasl_zkcli_test.sh shows
// the client side).
#include <gtest/gtest.h>

#include <string>

#include "ensemble/server/server_core.h"
#include "tests/ensemble/fake_link.h"
#include "wire/sasl/digest_md5_client.h"

namespace corral::server {
namespace {

using namespace test;
using wire::ErrorCode;
using wire::OpCode;

constexpr int64_t kNow = 1'700'000'000'000;

ServerConfig config_with_bob() {
  ServerConfig c;
  c.tick_ms = 2000;
  c.sasl_users = {{"bob", "bobsecret"}};
  return c;
}

// Sends one SASL token on `l`; the reply frame it caused.
std::string send_token(ServerCore& core, FakeLink& l, const std::string& token) {
  size_t before = l.frames.size();
  core.on_frame(
      l, encode_request(++l.next_xid, OpCode::kSasl, [&](wire::JuteWriter& w) { w.buffer(token); }),
      kNow);
  EXPECT_EQ(l.frames.size(), before + 1);
  return l.frames.back();
}

// Connects `l` to `core`, opening a session.
void connect(ServerCore& core, FakeLink& l) {
  core.attach(l, kNow);
  core.on_frame(l, connect_request(30000), kNow);
  ASSERT_NE(parse_connect_response(l.frames.back()).session_id, 0);
}

// Asserts that `frame` is ZooKeeper's refusal of the request with `xid`.
void expect_refusal(const std::string& frame, int32_t xid) {
  Reply r = parse_reply(frame);
  EXPECT_EQ(r.xid(), xid);
  EXPECT_EQ(r.header.zxid, 0);
  EXPECT_EQ(r.err(), ErrorCode::kAuthFailed);
  // SetSASLResponse(null): the token's length is -1 and nothing follows.
  EXPECT_EQ(r.body, std::string(4, '\xff'));
}

TEST(SaslRefusal, WrongPasswordIsAnsweredWithANullTokenThenClosed) {
  ServerCore core(config_with_bob(), kNow);
  FakeLink l(1, "127.0.0.1");
  connect(core, l);
  sasl::DigestMd5Client client(std::string(sasl::kZooKeeperService),
                               std::string(sasl::kZooKeeperHost), "bob", "wrongsecret");
  Reply challenge = parse_reply(send_token(core, l, client.initial_response()));
  ASSERT_EQ(challenge.err(), ErrorCode::kOk);
  wire::JuteReader body(challenge.body);
  sasl::SaslStep step = client.step(body.buffer());
  ASSERT_EQ(step.status, sasl::SaslStep::Status::kContinue) << step.error;
  std::string refusal = send_token(core, l, step.token);
  expect_refusal(refusal, l.next_xid);
  EXPECT_EQ(l.close_calls, 1);
}

TEST(SaslRefusal, ServerWithoutUsersRefusesTheSameWay) {
  ServerConfig c = config_with_bob();
  c.sasl_users.clear();
  ServerCore core(c, kNow);
  FakeLink l(1, "127.0.0.1");
  connect(core, l);
  std::string refusal = send_token(core, l, "");
  expect_refusal(refusal, l.next_xid);
  EXPECT_EQ(l.close_calls, 1);
}

}  // namespace
}  // namespace corral::server
