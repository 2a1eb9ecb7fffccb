// The zoo.cfg keys of the "limits and overload" section: defaults, values, and refused values.
#include <gtest/gtest.h>

#include <string>

#include "ensemble/server/config.h"

namespace corral::server {
namespace {

ServerConfig parse(std::string_view text) { return parse_config(text, "zoo.cfg"); }

// The message of the ConfigError that parsing `text` throws, or "" if it parses.
std::string parse_error(std::string_view text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigLimits, Defaults) {
  ServerConfig c = parse("dataDir=/tmp/x\n");
  EXPECT_EQ(c.global_outstanding_limit, 1000);  // ZooKeeper's DEFAULT_GLOBAL_OUTSTANDING_LIMIT
  EXPECT_EQ(c.connection_outstanding_limit, 1000);
  EXPECT_EQ(c.connection_output_limit_bytes, 8 * 1024 * 1024);
}

TEST(ConfigLimits, Values) {
  ServerConfig c = parse(
      "dataDir=/tmp/x\n"
      "globalOutstandingLimit=50\n"
      "corral.connectionOutstandingLimit=0x20\n"
      "corral.connectionOutputLimitBytes=1048576\n");
  EXPECT_EQ(c.global_outstanding_limit, 50);
  EXPECT_EQ(c.connection_outstanding_limit, 32);
  EXPECT_EQ(c.connection_output_limit_bytes, 1048576);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigLimits, RefusedValues) {
  EXPECT_EQ(parse_error("tickTime=2000\nglobalOutstandingLimit=0\n"),
            "zoo.cfg:2: globalOutstandingLimit: expected a positive integer, got '0'");
  EXPECT_EQ(parse_error("corral.connectionOutstandingLimit=-1\n"),
            "zoo.cfg:1: corral.connectionOutstandingLimit: expected a positive integer, got '-1'");
  // Below one read chunk the limit would close clients that read normally.
  EXPECT_EQ(parse_error("corral.connectionOutputLimitBytes=4096\n"),
            "zoo.cfg:1: corral.connectionOutputLimitBytes: expected at least 65536 bytes, got "
            "'4096'");
  EXPECT_EQ(parse_error("corral.connectionOutputLimitBytes=8MiB\n"),
            "zoo.cfg:1: corral.connectionOutputLimitBytes: expected at least 65536 bytes, got "
            "'8MiB'");
}

TEST(ConfigLimits, OutputBudget) {
  EXPECT_EQ(parse("dataDir=/tmp/x\n").output_budget_bytes, int64_t{256} << 20);
  EXPECT_EQ(parse("dataDir=/tmp/x\ncorral.outputBudgetBytes=0x4000000\n").output_budget_bytes,
            64 << 20);
  EXPECT_EQ(parse("dataDir=/tmp/x\ncorral.outputBudgetBytes=8589934592\n").output_budget_bytes,
            int64_t{8} << 30);
  // Below one reply of the default jute.maxbuffer the budget would hold back every reader.
  EXPECT_EQ(parse_error("tickTime=2000\ncorral.outputBudgetBytes=65536\n"),
            "zoo.cfg:2: corral.outputBudgetBytes: expected at least 1048576 bytes, got '65536'");
  EXPECT_EQ(parse_error("corral.outputBudgetBytes=256MiB\n"),
            "zoo.cfg:1: corral.outputBudgetBytes: expected at least 1048576 bytes, got '256MiB'");
}

}  // namespace
}  // namespace corral::server
