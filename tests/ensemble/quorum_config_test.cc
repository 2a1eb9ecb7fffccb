// zab::QuorumConfig against texts ZooKeeper 3.8 prints, and ZooKeeper's error classes.
#include "ensemble/zab/quorum_config.h"

#include <gtest/gtest.h>

namespace corral::zab {
namespace {

using wire::ErrorCode;

QuorumConfig parsed(std::string_view text) {
  auto r = parse_dynamic(text);
  EXPECT_TRUE(std::holds_alternative<QuorumConfig>(r)) << text;
  return std::holds_alternative<QuorumConfig>(r) ? std::get<QuorumConfig>(r) : QuorumConfig{};
}

ErrorCode error_of(std::string_view text) {
  auto r = parse_dynamic(text);
  return std::holds_alternative<ErrorCode>(r) ? std::get<ErrorCode>(r) : ErrorCode::kOk;
}

// kazoo's TestReconfig adds this observer; ZooKeeper prints a bare client port as 0.0.0.0.
TEST(QuorumConfig, RoundTripsZooKeeperTexts) {
  for (std::string text : {
           "server.1=localhost:2888:3888:participant\n"
           "server.100=0.0.0.0:5:6:observer;0.0.0.0:7\nversion=100000003",
           "server.1=127.0.0.1:20001:20002:participant;127.0.0.1:2181\n"
           "server.2=127.0.0.1:20003:20004:participant;127.0.0.1:2182\n"
           "server.3=127.0.0.1:20005:20006:observer;127.0.0.1:2183\nversion=0",
           "server.1=[::1]:1:2:participant;[::1]:3\nversion=ff",
       })
    EXPECT_EQ(parsed(text).text(), text);
}

TEST(QuorumConfig, BarePortAndMissingRoleAreNormalised) {
  QuorumConfig c = parsed("server.2=h:1:2;7,server.1=h:3:4:OBSERVER\nversion=1a");
  EXPECT_EQ(c.text(), "server.1=h:3:4:observer\nserver.2=h:1:2:participant;0.0.0.0:7\nversion=1a");
  EXPECT_EQ(c.version, 0x1a);
}

// isClientAddrFromStatic: the static clientPort never shows in the text.
TEST(QuorumConfig, StaticClientPartIsLeftOut) {
  QuorumConfig c;
  c.servers[1] = QuorumServer{1, "a", 1, 2, QuorumRole::kParticipant, "0.0.0.0", 2181, true};
  c.servers[2] = QuorumServer{2, "b", 1, 2, QuorumRole::kParticipant, "", 0, false};
  EXPECT_EQ(c.text(), "server.1=a:1:2:participant\nserver.2=b:1:2:participant\nversion=0");
}

TEST(QuorumConfig, IdsPrintAscending) {
  EXPECT_EQ(parsed("server.10=h:1:2\nserver.9=h:3:4").text(),
            "server.9=h:3:4:participant\nserver.10=h:1:2:participant\nversion=0");
}

TEST(QuorumConfig, MajorityCountsParticipantsOnly) {
  QuorumConfig c =
      parsed("server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.4=h:7:8:observer");
  EXPECT_EQ(c.voters(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(c.role_of(4), QuorumRole::kObserver);
  EXPECT_EQ(c.role_of(5), QuorumRole::kAbsent);
  EXPECT_TRUE(c.majority({1, 2}));
  EXPECT_FALSE(c.majority({1, 4, 5}));
  EXPECT_FALSE(c.majority({1, 1}));
}

// ConfigException -> BADARGUMENTS.
TEST(QuorumConfig, ConfigExceptionsAreBadArguments) {
  for (std::string_view text : {
           "server.1=h:1",                 // too few parts
           "server.1=h:1:2:3:4",           // too many
           "server.1=h:x:2",               // port not a number
           "server.1=h:1:1",               // same quorum and election port
           "server.1=h:1:2:voter",         // unknown role
           "server.1=h:1:2;a:b:3",         // client part with three fields
           "server.1=h:1:2|g:3:4",         // multiple addresses
           "server.1=h:1:2;3;4",           // secure client port: not supported
           "clientPort=2181",              // unknown key
           "group.1=1:2:3", "weight.1=1",  // hierarchical quorums
           "some thing",                   // kazoo's test_bad_input
       })
    EXPECT_EQ(error_of(text), ErrorCode::kBadArguments) << text;
}

// NumberFormatException and IllegalArgumentException -> MARSHALLINGERROR.
TEST(QuorumConfig, JavaRuntimeExceptionsAreMarshallingErrors) {
  for (std::string_view text : {
           "server.x=h:1:2",              // non-numeric id
           "server.1=h:1:2\nversion=zz",  // non-hex version
           "server.1=h:1:70000",          // port out of range
           "server.1=h:1:2:observer",     // observers without participants
       })
    EXPECT_EQ(error_of(text), ErrorCode::kMarshallingError) << text;
}

TEST(QuorumConfig, ServerSpecParsesAlone) {
  auto r = parse_server_spec(5, "host:1:2:participant;10.0.0.1:2181");
  ASSERT_TRUE(std::holds_alternative<QuorumServer>(r));
  const QuorumServer& s = std::get<QuorumServer>(r);
  EXPECT_EQ(s.client_host, "10.0.0.1");
  EXPECT_EQ(s.client_port, 2181);
  EXPECT_EQ(server_spec_text(s), "host:1:2:participant;10.0.0.1:2181");
}

}  // namespace
}  // namespace corral::zab
