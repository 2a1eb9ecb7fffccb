// zoo.cfg keys of the authorization section: corral.exists.checkReadAcl (ZOOKEEPER-2590).
#include <gtest/gtest.h>

#include <string>

#include "ensemble/server/config.h"

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

TEST(ConfigAuthzTest, ExistsReadCheckIsOffByDefaultAsZooKeeper38) {
  EXPECT_FALSE(parse("").exists_checks_read);
}

TEST(ConfigAuthzTest, ExistsReadCheckParsesTrueAndFalse) {
  EXPECT_TRUE(parse("corral.exists.checkReadAcl=true\n").exists_checks_read);
  EXPECT_TRUE(parse("corral.exists.checkReadAcl = TRUE\n").exists_checks_read);
  EXPECT_FALSE(parse("corral.exists.checkReadAcl=false\n").exists_checks_read);
  // A known key: not logged as ignored.
  EXPECT_TRUE(parse("corral.exists.checkReadAcl=true\n").ignored_keys.empty());
}

TEST(ConfigAuthzTest, ExistsReadCheckRejectsOtherValuesNamingFileLineAndKey) {
  EXPECT_EQ(parse_error("corral.exists.checkReadAcl=yes\n"),
            "zoo.cfg:2: corral.exists.checkReadAcl: expected true or false, got 'yes'");
}

}  // namespace
}  // namespace corral::server
