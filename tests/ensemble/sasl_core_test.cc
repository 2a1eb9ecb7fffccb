// SASL logins through ServerCore on in-memory links: the opcode-102 exchange, the identity it
// adds (and what the sasl ACL scheme then allows), the super user, and ZooKeeper's answer to a
// failed login (ZAUTHFAILED, connection closed).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ensemble/server/server_core.h"
#include "ensemble/tree/acl.h"
#include "tests/ensemble/fake_link.h"
#include "wire/sasl/digest_md5_client.h"

namespace corral::server {
namespace {

using namespace test;
using wire::ErrorCode;
using wire::OpCode;
namespace perms = wire::perms;

constexpr int64_t kNow = 1'700'000'000'000;

class SaslCoreTest : public ::testing::Test {
 protected:
  static ServerConfig make_config() {
    ServerConfig c;
    c.tick_ms = 2000;
    c.sasl_users = {{"bob", "bobsecret"}, {"super", "adminsecret"}, {"eve@EXAMPLE.COM", "x"}};
    c.sasl_super_user = "super";
    return c;
  }

  FakeLink& connect() {
    links_.push_back(std::make_unique<FakeLink>(links_.size() + 1, "127.0.0.1"));
    FakeLink& l = *links_.back();
    core_.attach(l, kNow);
    core_.on_frame(l, connect_request(30000), kNow);
    EXPECT_NE(parse_connect_response(l.frames.back()).session_id, 0);
    l.read = l.frames.size();
    return l;
  }

  // Sends one request; returns the replies it caused.
  std::vector<Reply> send(FakeLink& l, OpCode type, const BodyFn& body) {
    core_.on_frame(l, encode_request(++l.next_xid, type, body), kNow);
    std::vector<Reply> out;
    for (; l.read < l.frames.size(); ++l.read) out.push_back(parse_reply(l.frames[l.read]));
    return out;
  }

  Reply sasl_token(FakeLink& l, const std::string& token) {
    std::vector<Reply> replies =
        send(l, OpCode::kSasl, [&](wire::JuteWriter& w) { w.buffer(token); });
    EXPECT_EQ(replies.size(), 1u);
    return replies.empty() ? Reply{} : replies[0];
  }

  // A whole DIGEST-MD5 login; the error of the reply that ended it.
  ErrorCode login(FakeLink& l, const std::string& user, const std::string& password) {
    sasl::DigestMd5Client client(std::string(sasl::kZooKeeperService),
                                 std::string(sasl::kZooKeeperHost), user, password);
    std::string token = client.initial_response();
    for (int round = 0; round < 3; ++round) {
      Reply r = sasl_token(l, token);
      if (r.err() != ErrorCode::kOk) return r.err();
      wire::JuteReader body(r.body);
      sasl::SaslStep step = client.step(body.buffer());
      EXPECT_NE(step.status, sasl::SaslStep::Status::kFailed) << step.error;
      if (step.status != sasl::SaslStep::Status::kContinue) return ErrorCode::kOk;
      token = step.token;
    }
    ADD_FAILURE() << "the login did not end";
    return ErrorCode::kSystemError;
  }

  ErrorCode create(FakeLink& l, const std::string& path, wire::AclList acl) {
    wire::CreateRequest req;
    req.path = path;
    req.acl = std::move(acl);
    auto replies = send(l, OpCode::kCreate, [&](wire::JuteWriter& w) { req.write(w, false); });
    return replies.empty() ? ErrorCode::kSystemError : replies[0].err();
  }

  ErrorCode get(FakeLink& l, const std::string& path) {
    auto replies = send(l, OpCode::kGetData, [&](wire::JuteWriter& w) {
      wire::PathWatchRequest{path, false}.write(w);
    });
    return replies.empty() ? ErrorCode::kSystemError : replies[0].err();
  }

  bool has_id(const FakeLink& l, const std::string& scheme, const std::string& id) {
    for (const auto& a : l.auth)
      if (a.scheme == scheme && a.id == id) return true;
    return false;
  }

  ServerCore core_{make_config(), kNow};
  std::vector<std::unique_ptr<FakeLink>> links_;
};

TEST_F(SaslCoreTest, LoginAddsTheSaslIdentityThatSaslAclsName) {
  FakeLink& bob = connect();
  ASSERT_EQ(login(bob, "bob", "bobsecret"), ErrorCode::kOk);
  EXPECT_TRUE(has_id(bob, "sasl", "bob"));
  EXPECT_FALSE(has_id(bob, "super", ""));
  EXPECT_EQ(bob.close_calls, 0);
  const wire::AclList bob_only{{perms::kAll, {"sasl", "bob"}}};
  EXPECT_EQ(create(bob, "/bob", bob_only), ErrorCode::kOk);
  EXPECT_EQ(get(bob, "/bob"), ErrorCode::kOk);
  FakeLink& anonymous = connect();
  EXPECT_EQ(get(anonymous, "/bob"), ErrorCode::kNoAuth);
  // "auth" expands to the session's sasl id.
  EXPECT_EQ(create(bob, "/auth", {{perms::kAll, {"auth", ""}}}), ErrorCode::kOk);
  EXPECT_EQ(get(anonymous, "/auth"), ErrorCode::kNoAuth);
  EXPECT_EQ(get(bob, "/auth"), ErrorCode::kOk);
}

TEST_F(SaslCoreTest, SuperUserReadsEverything) {
  FakeLink& bob = connect();
  ASSERT_EQ(login(bob, "bob", "bobsecret"), ErrorCode::kOk);
  ASSERT_EQ(create(bob, "/bob", {{perms::kAll, {"sasl", "bob"}}}), ErrorCode::kOk);
  FakeLink& admin = connect();
  ASSERT_EQ(login(admin, "super", "adminsecret"), ErrorCode::kOk);
  EXPECT_TRUE(has_id(admin, "super", ""));
  EXPECT_EQ(get(admin, "/bob"), ErrorCode::kOk);
}

TEST_F(SaslCoreTest, WrongPasswordGetsAuthFailedAndTheConnectionCloses) {
  FakeLink& l = connect();
  EXPECT_EQ(login(l, "bob", "guess"), ErrorCode::kAuthFailed);
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_FALSE(has_id(l, "sasl", "bob"));
  // The link is closing: nothing it sends afterwards is answered.
  EXPECT_TRUE(send(l, OpCode::kGetData, [](wire::JuteWriter& w) {
                wire::PathWatchRequest{"/", false}.write(w);
              }).empty());
}

TEST_F(SaslCoreTest, UnknownUserFailsEvenAfterAKnownUsersAttempt) {
  // ZooKeeper's shared callback handler lets this through (it remembers "bob"); Corral not.
  FakeLink& first = connect();
  EXPECT_EQ(login(first, "bob", "wrong"), ErrorCode::kAuthFailed);
  FakeLink& second = connect();
  EXPECT_EQ(login(second, "mallory", "bobsecret"), ErrorCode::kAuthFailed);
}

TEST_F(SaslCoreTest, TokenAfterCompletionFails) {
  FakeLink& l = connect();
  ASSERT_EQ(login(l, "bob", "bobsecret"), ErrorCode::kOk);
  EXPECT_EQ(sasl_token(l, "").err(), ErrorCode::kAuthFailed);
  EXPECT_EQ(l.close_calls, 1);
}

TEST_F(SaslCoreTest, PrincipalNamesKeepTheirRealm) {
  FakeLink& l = connect();
  ASSERT_EQ(login(l, "eve@EXAMPLE.COM", "x"), ErrorCode::kOk);
  EXPECT_TRUE(has_id(l, "sasl", "eve@EXAMPLE.COM"));
}

TEST(SaslCoreConfig, RealmIsRemovedWhenConfigured) {
  ServerConfig c;
  c.sasl_users = {{"eve@EXAMPLE.COM", "x"}};
  c.kerberos_remove_realm = true;
  ServerCore core(c, kNow);
  FakeLink l(1, "127.0.0.1");
  core.attach(l, kNow);
  core.on_frame(l, connect_request(30000), kNow);
  sasl::DigestMd5Client client(std::string(sasl::kZooKeeperService),
                               std::string(sasl::kZooKeeperHost), "eve@EXAMPLE.COM", "x");
  std::string token;
  for (int round = 0; round < 2; ++round) {
    core.on_frame(
        l, encode_request(round + 1, OpCode::kSasl, [&](wire::JuteWriter& w) { w.buffer(token); }),
        kNow);
    Reply r = parse_reply(l.frames.back());
    ASSERT_EQ(r.err(), ErrorCode::kOk);
    wire::JuteReader body(r.body);
    token = client.step(body.buffer()).token;
  }
  EXPECT_TRUE(client.complete());
  EXPECT_NE(std::find(l.auth.begin(), l.auth.end(), wire::Id{"sasl", "eve"}), l.auth.end());
}

TEST(SaslCoreConfig, WithoutUsersEveryLoginFails) {
  ServerCore core(ServerConfig{}, kNow);
  FakeLink l(1, "127.0.0.1");
  core.attach(l, kNow);
  core.on_frame(l, connect_request(30000), kNow);
  core.on_frame(l, encode_request(1, OpCode::kSasl, [](wire::JuteWriter& w) { w.buffer(""); }),
                kNow);
  EXPECT_EQ(parse_reply(l.frames.back()).err(), ErrorCode::kAuthFailed);
  EXPECT_EQ(l.close_calls, 1);
}

TEST(SaslAcl, SchemeValidityAndMatching) {
  wire::AclList out;
  tree::AuthIds none;
  EXPECT_EQ(tree::fixup_acl({{perms::kAll, {"sasl", "bob"}}}, none, out), ErrorCode::kOk);
  EXPECT_EQ(tree::fixup_acl({{perms::kAll, {"sasl", "zk/host@REALM"}}}, none, out), ErrorCode::kOk);
  EXPECT_EQ(tree::fixup_acl({{perms::kAll, {"sasl", "a@b@c"}}}, none, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(tree::fixup_acl({{perms::kAll, {"sasl", "a/b/c@R"}}}, none, out),
            ErrorCode::kInvalidAcl);
  const wire::AclList bob{{perms::kRead, {"sasl", "bob"}}};
  EXPECT_TRUE(tree::acl_allows(bob, perms::kRead, {{"sasl", "bob"}}));
  EXPECT_FALSE(tree::acl_allows(bob, perms::kRead, {{"sasl", "alice"}}));
  EXPECT_FALSE(tree::acl_allows(bob, perms::kWrite, {{"sasl", "bob"}}));
  // SASLAuthenticationProvider.matches: the SASL user "super" matches any sasl entry.
  EXPECT_TRUE(tree::acl_allows(bob, perms::kRead, {{"sasl", "super"}}));
  // A digest identity called bob is not the sasl one.
  EXPECT_FALSE(tree::acl_allows(bob, perms::kRead, {{"digest", "bob"}}));
}

}  // namespace
}  // namespace corral::server
