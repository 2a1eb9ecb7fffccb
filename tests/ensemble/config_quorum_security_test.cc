// zoo.cfg's quorum security keys (quorum.auth.*, corral.quorum.sendQueueMaxBytes) and the
// accounts quorum_auth_settings() reads from the JAAS file.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "ensemble/server/config.h"
#include "ensemble/server/quorum_security.h"

namespace corral::server {
namespace {

ServerConfig parse(const std::string& extra) {
  return parse_config("dataDir=/tmp/x\n" + extra, "zoo.cfg");
}

TEST(ConfigQuorumSecurity, DefaultsAreZooKeepers) {
  ServerConfig c = parse("");
  EXPECT_FALSE(c.quorum_auth_enable_sasl);
  EXPECT_FALSE(c.quorum_auth_learner_require_sasl);
  EXPECT_FALSE(c.quorum_auth_server_require_sasl);
  EXPECT_EQ(c.quorum_learner_login_context, "QuorumLearner");
  EXPECT_EQ(c.quorum_server_login_context, "QuorumServer");
  EXPECT_EQ(c.quorum_send_queue_max_bytes, int64_t{64} << 20);
  EXPECT_FALSE(quorum_auth_settings(c).enabled);
}

TEST(ConfigQuorumSecurity, BadValuesNameFileLineAndKey) {
  try {
    parse("quorum.auth.enableSasl=yes\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "zoo.cfg:2: quorum.auth.enableSasl: expected true or false, got 'yes'");
  }
  EXPECT_THROW(parse("corral.quorum.sendQueueMaxBytes=0\n"), ConfigError);
  EXPECT_EQ(parse("corral.quorum.sendQueueMaxBytes=4096\n").quorum_send_queue_max_bytes, 4096);
}

TEST(ConfigQuorumSecurity, FlagCombinationsAreCheckedAsZooKeeperDoes) {
  EXPECT_THROW(quorum_auth_settings(parse("quorum.auth.serverRequireSasl=true\n")), ConfigError);
  EXPECT_THROW(quorum_auth_settings(parse("quorum.auth.learnerRequireSasl=true\n")), ConfigError);
  EXPECT_THROW(quorum_auth_settings(parse("quorum.auth.enableSasl=true\n"
                                          "quorum.auth.serverRequireSasl=true\n")),
               ConfigError);
  // enableSasl needs a JAAS file.
  EXPECT_THROW(quorum_auth_settings(parse("quorum.auth.enableSasl=true\n")), ConfigError);
}

TEST(ConfigQuorumSecurity, AccountsComeFromTheJaasSections) {
  const std::string path = ::testing::TempDir() + "/quorum_jaas.conf";
  std::ofstream(path) << R"(
QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required
  user_server.1="one" user_server.2="two"; };
Learner2 { org.apache.zookeeper.server.auth.DigestLoginModule required
  username="server.2" password="two"; };
)";
  ServerConfig c = parse(
      "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n"
      "quorum.auth.learner.saslLoginContext=Learner2\njava.security.auth.login.config=" +
      path + "\n");
  PeerAuthSettings a = quorum_auth_settings(c);
  EXPECT_TRUE(a.enabled && a.learner_require && !a.server_require);
  EXPECT_EQ(a.username, "server.2");
  EXPECT_EQ(a.password, "two");
  EXPECT_EQ(a.users.size(), 2u);
  EXPECT_EQ(a.users.at("server.1"), "one");
  c.quorum_learner_login_context = "QuorumLearner";  // no such section
  EXPECT_THROW(quorum_auth_settings(c), ConfigError);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace corral::server
