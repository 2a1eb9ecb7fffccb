// zoo.cfg skipACL and SERVER_JVMFLAGS' -Dzookeeper.skipACL (ZooKeeperServer.skipACL).
#include <gtest/gtest.h>

#include <string>

#include "ensemble/server/config.h"
#include "ensemble/server/sasl_settings.h"

namespace corral::server {
namespace {

// Parses `lines` after the one key every zoo.cfg needs.
ServerConfig parse(const std::string& lines) {
  return parse_config("dataDir=/tmp/x\n" + lines, "zoo.cfg");
}

// The message of the ConfigError that parsing `text` throws, or "" if it parses.
std::string parse_error(std::string_view text) {
  try {
    parse(std::string(text));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigSkipAcl, OffByDefaultAsZooKeeper38) {
  ServerConfig c = parse("");
  EXPECT_FALSE(c.skip_acl);
  apply_jvm_flags(c, "-Xmx1g -Dzookeeper.superUser=x");
  EXPECT_FALSE(c.skip_acl);
}

TEST(ConfigSkipAcl, ZooCfgTakesYesAndNo) {
  EXPECT_TRUE(parse("skipACL=yes\n").skip_acl);
  EXPECT_FALSE(parse("skipACL = no\n").skip_acl);
  // A known key: not logged as ignored.
  EXPECT_TRUE(parse("skipACL=yes\n").ignored_keys.empty());
}

TEST(ConfigSkipAcl, OtherWordsAreRefusedNamingFileLineAndKey) {
  // ZooKeeper would take these for "no" without a word: an operator meaning yes would be
  // surprised either way, so Corral says so.
  EXPECT_EQ(parse_error("skipACL=true\n"), "zoo.cfg:2: skipACL: expected yes or no, got 'true'");
  EXPECT_EQ(parse_error("skipACL=YES\n"), "zoo.cfg:2: skipACL: expected yes or no, got 'YES'");
}

TEST(ConfigSkipAcl, TheJvmFlagAsZkServerShPassesIt) {
  ServerConfig c = parse("");
  apply_jvm_flags(c, "-Xmx1g -Dzookeeper.skipACL=yes");
  EXPECT_TRUE(c.skip_acl);
  // "yes".equals(...): any other value leaves ACLs on.
  ServerConfig other = parse("");
  apply_jvm_flags(other, "-Dzookeeper.skipACL=true");
  EXPECT_FALSE(other.skip_acl);
}

TEST(ConfigSkipAcl, ZooCfgWinsOverTheJvmFlag) {
  // ZooKeeper sets zoo.cfg's unknown keys as system properties, over the JVM's own.
  ServerConfig no = parse("skipACL=no\n");
  apply_jvm_flags(no, "-Dzookeeper.skipACL=yes");
  EXPECT_FALSE(no.skip_acl);
  ServerConfig yes = parse("skipACL=yes\n");
  apply_jvm_flags(yes, "-Dzookeeper.skipACL=no");
  EXPECT_TRUE(yes.skip_acl);
}

}  // namespace
}  // namespace corral::server
