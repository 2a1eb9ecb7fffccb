// The zoo.cfg keys of the metrics (metricsProvider.*) and AdminServer (admin.*) sections:
// defaults, values, and refused values named by file, line and key.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ensemble/server/config.h"

namespace corral::server {
namespace {

constexpr const char* kPrometheus =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

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

TEST(ConfigOps, Defaults) {
  ServerConfig c = parse("dataDir=/tmp/x\n");
  EXPECT_FALSE(c.prometheus_enabled());
  EXPECT_EQ(c.metrics_http_port, 7000);
  EXPECT_EQ(c.metrics_http_host, "0.0.0.0");
  // ZooKeeper's default is true; Corral's is false (see config.h for why).
  EXPECT_FALSE(c.admin_enable_server);
  EXPECT_EQ(c.admin_server_address, "0.0.0.0");
  EXPECT_EQ(c.admin_server_port, 8080);
  EXPECT_EQ(c.admin_command_url, "/commands");
}

TEST(ConfigOps, ValuesAreUsedNotIgnored) {
  ServerConfig c = parse(std::string("dataDir=/tmp/x\nmetricsProvider.className=") + kPrometheus +
                         "\nmetricsProvider.httpPort=7001\nmetricsProvider.httpHost=127.0.0.1\n"
                         "metricsProvider.exportJvmInfo=false\nadmin.enableServer=true\n"
                         "admin.serverAddress=127.0.0.2\nadmin.serverPort=9090\n"
                         "admin.commandURL=/ops\nadmin.idleTimeout=2000\n");
  EXPECT_TRUE(c.prometheus_enabled());
  EXPECT_EQ(c.metrics_http_port, 7001);
  EXPECT_EQ(c.metrics_http_host, "127.0.0.1");
  EXPECT_FALSE(c.metrics_export_jvm_info);
  EXPECT_TRUE(c.admin_enable_server);
  EXPECT_EQ(c.admin_server_address, "127.0.0.2");
  EXPECT_EQ(c.admin_server_port, 9090);
  EXPECT_EQ(c.admin_command_url, "/ops");
  EXPECT_EQ(c.admin_idle_timeout_ms, 2000);
  for (const auto& key : c.ignored_keys) {
    EXPECT_FALSE(key.starts_with("admin.") || key.starts_with("metricsProvider.")) << key;
  }
}

TEST(ConfigOps, DefaultProviderLeavesTheEndpointOff) {
  ServerConfig c = parse(
      "dataDir=/tmp/x\nmetricsProvider.className=org.apache.zookeeper.metrics.impl."
      "DefaultMetricsProvider\n");
  EXPECT_FALSE(c.prometheus_enabled());
}

TEST(ConfigOps, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(parse_error("dataDir=/x\nmetricsProvider.httpPort=70000\n"),
            "zoo.cfg:2: metricsProvider.httpPort: expected a port number (1-65535), got '70000'");
  EXPECT_EQ(parse_error("metricsProvider.exportJvmInfo=maybe\n"),
            "zoo.cfg:1: metricsProvider.exportJvmInfo: expected true or false, got 'maybe'");
  EXPECT_NE(parse_error("metricsProvider.className=com.example.Mine\n")
                .find("zoo.cfg:1: metricsProvider.className: only "),
            std::string::npos);
  EXPECT_EQ(parse_error("admin.enableServer=yes\n"),
            "zoo.cfg:1: admin.enableServer: expected true or false, got 'yes'");
  EXPECT_EQ(parse_error("admin.serverPort=abc\n"),
            "zoo.cfg:1: admin.serverPort: expected a port number (1-65535), got 'abc'");
  EXPECT_EQ(parse_error("admin.commandURL=commands\n"),
            "zoo.cfg:1: admin.commandURL: expected a path starting with '/', got 'commands'");
}

}  // namespace
}  // namespace corral::server
