// DIGEST-MD5 (RFC 2831) on both sides: the RFC's worked example, ZooKeeper's exchange between
// our own client and server, and the ways a login must fail.
#include "wire/sasl/digest_md5.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "wire/sasl/digest_directives.h"
#include "wire/sasl/digest_md5_client.h"
#include "wire/sasl/digest_md5_server.h"

namespace corral::sasl {
namespace {

using Status = SaslStep::Status;

// RFC 2831 section 4, the IMAP example (password "secret").
constexpr std::string_view kRfcChallenge =
    "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,"
    "charset=utf-8";
constexpr std::string_view kRfcResponse =
    "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
    "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
    "response=d388dad90d4bbd760a152321f2143af7,qop=auth";
constexpr std::string_view kRfcRspauth = "rspauth=ea40f60335c427b5527b84dbabcdfffd";

DigestMd5Server::PasswordLookup users(std::map<std::string, std::string> table) {
  return [table](std::string_view user) -> std::optional<std::string> {
    auto it = table.find(std::string(user));
    if (it == table.end()) return std::nullopt;
    return it->second;
  };
}

DigestMd5Server rfc_server() {
  return DigestMd5Server("imap", "elwood.innosoft.com", users({{"chris", "secret"}}),
                         "OA6MG9tEQGm2hh");
}

TEST(DigestMd5, RfcExampleResponseValues) {
  DigestInputs in{
      "chris",    "elwood.innosoft.com",      "secret", "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk",
      "00000001", "imap/elwood.innosoft.com", ""};
  EXPECT_EQ(digest_response(in, true), "d388dad90d4bbd760a152321f2143af7");
  EXPECT_EQ(digest_response(in, false), "ea40f60335c427b5527b84dbabcdfffd");
}

TEST(DigestMd5, RfcExampleClientSendsTheRfcResponse) {
  DigestMd5Client client("imap", "elwood.innosoft.com", "chris", "secret", "", "OA6MHXh6VqTrRk");
  EXPECT_EQ(client.initial_response(), "");
  SaslStep response = client.step(kRfcChallenge);
  ASSERT_EQ(response.status, Status::kContinue) << response.error;
  auto sent = parse_directives(response.token);
  ASSERT_TRUE(sent);
  EXPECT_EQ(values_of(*sent, "response"),
            std::vector<std::string>{"d388dad90d4bbd760a152321f2143af7"});
  EXPECT_EQ(values_of(*sent, "digest-uri"), std::vector<std::string>{"imap/elwood.innosoft.com"});
  SaslStep done = client.step(kRfcRspauth);
  EXPECT_EQ(done.status, Status::kComplete) << done.error;
  EXPECT_TRUE(client.complete());
}

TEST(DigestMd5, RfcExampleServerAcceptsTheRfcResponse) {
  DigestMd5Server server = rfc_server();
  SaslStep challenge = server.step("");
  ASSERT_EQ(challenge.status, Status::kContinue);
  EXPECT_EQ(challenge.token,
            "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",charset=utf-8,"
            "algorithm=md5-sess");
  SaslStep done = server.step(kRfcResponse);
  ASSERT_EQ(done.status, Status::kComplete) << done.error;
  EXPECT_EQ(done.token, kRfcRspauth);
  EXPECT_EQ(server.username(), "chris");
  EXPECT_TRUE(server.complete());
}

TEST(DigestMd5, ZooKeeperExchangeBetweenOurClientAndServer) {
  DigestMd5Server server(std::string(kZooKeeperService), std::string(kZooKeeperHost),
                         users({{"bob", "bobsecret"}}));
  DigestMd5Client client(std::string(kZooKeeperService), std::string(kZooKeeperHost), "bob",
                         "bobsecret");
  SaslStep challenge = server.step(client.initial_response());
  EXPECT_NE(challenge.token.find("realm=\"zk-sasl-md5\""), std::string::npos);
  SaslStep response = client.step(challenge.token);
  EXPECT_NE(response.token.find("digest-uri=\"zookeeper/zk-sasl-md5\""), std::string::npos);
  SaslStep rspauth = server.step(response.token);
  ASSERT_EQ(rspauth.status, Status::kComplete) << rspauth.error;
  EXPECT_EQ(client.step(rspauth.token).status, Status::kComplete);
  EXPECT_EQ(server.username(), "bob");
}

TEST(DigestMd5, WrongPasswordFails) {
  DigestMd5Server server = rfc_server();
  server.step("");
  std::string response(kRfcResponse);
  response.replace(response.find("d388"), 4, "d389");
  SaslStep done = server.step(response);
  EXPECT_EQ(done.status, Status::kFailed);
  EXPECT_NE(done.error.find("mismatched response"), std::string::npos) << done.error;
  EXPECT_FALSE(server.complete());

  // A client with the wrong password computes another response: refused the same way.
  DigestMd5Server zk(std::string(kZooKeeperService), std::string(kZooKeeperHost),
                     users({{"bob", "bobsecret"}}));
  DigestMd5Client client(std::string(kZooKeeperService), std::string(kZooKeeperHost), "bob",
                         "guess");
  SaslStep answer = zk.step(client.step(zk.step("").token).token);
  EXPECT_EQ(answer.status, Status::kFailed);
}

TEST(DigestMd5, UnknownUserFails) {
  DigestMd5Server server("imap", "elwood.innosoft.com", users({{"alice", "secret"}}),
                         "OA6MG9tEQGm2hh");
  server.step("");
  SaslStep done = server.step(kRfcResponse);
  EXPECT_EQ(done.status, Status::kFailed);
  EXPECT_NE(done.error.find("unknown user"), std::string::npos) << done.error;
}

TEST(DigestMd5, ReplayedResponseFailsAgainstAFreshNonce) {
  // The RFC's response was made for nonce OA6MG9tEQGm2hh; a new exchange has its own nonce.
  DigestMd5Server server("imap", "elwood.innosoft.com", users({{"chris", "secret"}}));
  SaslStep challenge = server.step("");
  EXPECT_EQ(challenge.token.find("OA6MG9tEQGm2hh"), std::string::npos);
  SaslStep done = server.step(kRfcResponse);
  EXPECT_EQ(done.status, Status::kFailed);
  EXPECT_NE(done.error.find("mismatched nonce"), std::string::npos) << done.error;
}

TEST(DigestMd5, ResponseAfterCompletionFails) {
  DigestMd5Server server = rfc_server();
  server.step("");
  ASSERT_EQ(server.step(kRfcResponse).status, Status::kComplete);
  EXPECT_EQ(server.step(kRfcResponse).status, Status::kFailed);
}

TEST(DigestMd5, NonceCountOtherThanOneFails) {
  DigestMd5Server server = rfc_server();
  server.step("");
  std::string response(kRfcResponse);
  response.replace(response.find("nc=00000001"), 11, "nc=00000002");
  EXPECT_EQ(server.step(response).status, Status::kFailed);
}

TEST(DigestMd5, BadRealmFails) {
  DigestMd5Server server = rfc_server();
  server.step("");
  std::string response(kRfcResponse);
  response.replace(response.find("realm=\"elwood"), 13, "realm=\"other");
  SaslStep done = server.step(response);
  EXPECT_EQ(done.status, Status::kFailed);
  EXPECT_NE(done.error.find("nonexistent realm"), std::string::npos) << done.error;

  // No realm at all is the empty realm, which the server does not have (as Java's).
  DigestMd5Server again = rfc_server();
  again.step("");
  std::string no_realm(kRfcResponse);
  no_realm.erase(no_realm.find("realm=\"elwood"),
                 std::string("realm=\"elwood.innosoft.com\",").size());
  EXPECT_EQ(again.step(no_realm).status, Status::kFailed);
}

TEST(DigestMd5, WrongDigestUriFails) {
  // A client that names its real host instead of ZooKeeper's fixed "zk-sasl-md5".
  DigestMd5Server server(std::string(kZooKeeperService), std::string(kZooKeeperHost),
                         users({{"bob", "bobsecret"}}));
  DigestMd5Client client(std::string(kZooKeeperService), "localhost", "bob", "bobsecret");
  SaslStep done = server.step(client.step(server.step("").token).token);
  EXPECT_EQ(done.status, Status::kFailed);
  EXPECT_NE(done.error.find("digest-uri"), std::string::npos) << done.error;
}

TEST(DigestMd5, MalformedOrRepeatedDirectivesFail) {
  for (std::string_view bad : {"username=\"chris", "username", "nonce=\"a\",nonce=\"a\""}) {
    DigestMd5Server server = rfc_server();
    server.step("");
    EXPECT_EQ(server.step(bad).status, Status::kFailed) << bad;
  }
  DigestMd5Server server = rfc_server();
  server.step("");
  EXPECT_EQ(server.step(std::string(DigestMd5Server::kMaxTokenBytes + 1, 'a')).status,
            Status::kFailed);
}

TEST(DigestMd5, ClientRejectsAServerThatDoesNotKnowThePassword) {
  DigestMd5Client client("imap", "elwood.innosoft.com", "chris", "secret", "", "OA6MHXh6VqTrRk");
  client.step(kRfcChallenge);
  SaslStep done = client.step("rspauth=00000000000000000000000000000000");
  EXPECT_EQ(done.status, Status::kFailed);
  EXPECT_FALSE(client.complete());
}

TEST(DigestMd5, AuthzidIsPartOfTheHash) {
  DigestMd5Server server("imap", "elwood.innosoft.com", users({{"chris", "secret"}}));
  DigestMd5Client client("imap", "elwood.innosoft.com", "chris", "secret", "admin");
  SaslStep done = server.step(client.step(server.step("").token).token);
  ASSERT_EQ(done.status, Status::kComplete) << done.error;
  EXPECT_EQ(server.authzid(), "admin");
  SaslStep last = client.step(done.token);
  EXPECT_EQ(last.status, Status::kComplete) << last.error;
}

TEST(DigestDirectives, QuotedValuesEscapesAndEmptyElements) {
  auto d = parse_directives(" a = \"x\\\"y\" ,, b=tok ,c=\"\"");
  ASSERT_TRUE(d);
  EXPECT_EQ(values_of(*d, "A"), std::vector<std::string>{"x\"y"});
  EXPECT_EQ(values_of(*d, "b"), std::vector<std::string>{"tok"});
  EXPECT_EQ(values_of(*d, "c"), std::vector<std::string>{""});
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_FALSE(parse_directives("a=\"x\"y"));
  EXPECT_FALSE(parse_directives("=x"));
}

}  // namespace
}  // namespace corral::sasl
