// A real corral-server with its /metrics (Prometheus) and AdminServer endpoints on: the scrape
// parses with promtool and its figures move as clients write, read and watch; the AdminServer
// answers ZooKeeper's commands with "command" and "error" fields.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"
#include "tests/ops/http_get.h"

namespace corral::ops_test {
namespace {

using e2e::ServerProcess;
using nlohmann::json;

constexpr int32_t kEphemeral = 1;

// A server with both endpoints on free loopback ports.
class OpsEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_port_ = e2e::free_port();
    admin_port_ = e2e::free_port();
    ASSERT_TRUE(server_.start(
        "metricsProvider.className=org.apache.zookeeper.metrics.prometheus."
        "PrometheusMetricsProvider\nmetricsProvider.httpHost=127.0.0.1\n"
        "metricsProvider.httpPort=" +
        std::to_string(metrics_port_) +
        "\nadmin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=" +
        std::to_string(admin_port_) + "\n"))
        << server_.log();
    // The endpoints open just after the client port: wait for the first answer.
    auto ready = server_.wait_until([&] { return http_get(metrics_port_, "/metrics").has_value(); },
                                    std::chrono::seconds(10));
    ASSERT_EQ(ready, ServerProcess::Wait::kReady) << server_.log();
  }

  std::string scrape() {
    auto a = http_get(metrics_port_, "/metrics");
    if (!a) return "";
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->content_type, "text/plain; version=0.0.4; charset=utf-8");
    return a->body;
  }

  json command(const std::string& name) {
    auto a = http_get(admin_port_, "/commands/" + name);
    if (!a) return nullptr;
    EXPECT_EQ(a->status, 200) << name;
    EXPECT_EQ(a->content_type, "application/json") << name;
    return json::parse(a->body);
  }

  ServerProcess server_{"ops_endpoints", {}};
  uint16_t metrics_port_ = 0;
  uint16_t admin_port_ = 0;
};

// promtool (Debian's prometheus package) parses the scrape; its only lint complaints are about
// ZooKeeper's own names (znode_count is no counter, connection_rejected has no _total), which
// Corral keeps so that ZooKeeper dashboards work.
TEST_F(OpsEndpoints, ScrapeParsesWithPromtool) {
  std::string text = scrape();
  ASSERT_FALSE(text.empty());
  auto file = server_.dir() / "scrape.txt";
  std::ofstream(file) << text;
  std::string cmd = "promtool check metrics < " + file.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  ASSERT_NE(WEXITSTATUS(status), 127) << "promtool is missing (Debian package prometheus)";
  EXPECT_EQ(out.find("error"), std::string::npos) << out;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_FALSE(line.starts_with("corral_")) << "Corral's own names must lint clean: " << line;
    EXPECT_TRUE(line.find("should have \"_total\" suffix") != std::string::npos ||
                line.find("should not have \"_count\" suffix") != std::string::npos)
        << line;
  }
}

TEST_F(OpsEndpoints, FiguresMoveWithWritesReadsAndWatches) {
  auto before = samples(scrape());
  ASSERT_TRUE(before.count("znode_count"));
  e2e::RawClient c(server_.port());
  ASSERT_TRUE(c.handshake());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(c.create("/m" + std::to_string(i), "data"), 0);
  ASSERT_EQ(c.create("/eph", "", kEphemeral), 0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.get_data("/m0"));
  std::string watch_body;
  e2e::put_buffer(watch_body, "/m1");
  watch_body.push_back(1);  // watch: true
  ASSERT_TRUE(c.call(e2e::kOpGetData, watch_body));

  auto after = samples(scrape());
  EXPECT_EQ(after["znode_count"], before["znode_count"] + 11);
  EXPECT_EQ(after["ephemerals_count"], before["ephemerals_count"] + 1);
  EXPECT_EQ(after["watch_count"], before["watch_count"] + 1);
  EXPECT_GE(after["packets_received"], before["packets_received"] + 17);
  EXPECT_GE(after["packets_sent"], before["packets_sent"] + 17);
  EXPECT_EQ(after["num_alive_connections"], 1);
  EXPECT_GE(after["global_sessions"], 1);
  EXPECT_GE(after["updatelatency_count"], before["updatelatency_count"] + 11);
  EXPECT_GE(after["readlatency_count"], before["readlatency_count"] + 6);
  EXPECT_TRUE(after.count("readlatency{quantile=\"0.99\"}"));
  EXPECT_TRUE(after.count("fsynctime{quantile=\"0.5\"}"));
  EXPECT_GE(after["fsynctime_count"], 1);
  EXPECT_GE(after["corral_txn_log_txns_total"], before["corral_txn_log_txns_total"] + 11);
  EXPECT_EQ(after["corral_txn_log_commit_seconds_count"], after["fsynctime_count"]);
  EXPECT_EQ(after["corral_group_commit_batch_size_sum"], after["corral_txn_log_txns_total"]);
  EXPECT_GT(after["approximate_data_size"], before["approximate_data_size"]);
  EXPECT_GT(after["open_file_descriptor_count"], 0);
  EXPECT_GT(after["last_client_response_size"], 0);
  EXPECT_GT(after["corral_last_zxid"], before["corral_last_zxid"]);
  // Standalone: no ensemble figures rather than made-up ones.
  EXPECT_FALSE(after.count("quorum_size"));
  EXPECT_FALSE(after.count("synced_followers"));
}

// The server allocates through jemalloc, and its figures follow the tree: 40 znodes of 100 KiB
// add at least 4 MiB of live allocations.
TEST_F(OpsEndpoints, AllocatorFiguresFollowTheData) {
  auto before = samples(scrape());
  ASSERT_TRUE(before.count("corral_allocator_allocated_bytes")) << "jemalloc gave no figures";
  EXPECT_GE(before["corral_allocator_resident_bytes"], before["corral_allocator_allocated_bytes"]);
  e2e::RawClient c(server_.port());
  ASSERT_TRUE(c.handshake());
  const std::string value(100 * 1024, 'v');
  for (int i = 0; i < 40; ++i) ASSERT_EQ(c.create("/big" + std::to_string(i), value), 0);
  auto after = samples(scrape());
  EXPECT_GE(after["corral_allocator_allocated_bytes"],
            before["corral_allocator_allocated_bytes"] + 40.0 * value.size());
  EXPECT_GE(after["corral_allocator_resident_bytes"], after["corral_allocator_allocated_bytes"]);
}

TEST_F(OpsEndpoints, AdminCommandsAnswerAsZooKeeper) {
  e2e::RawClient c(server_.port());
  ASSERT_TRUE(c.handshake());
  ASSERT_EQ(c.create("/eph", "x", kEphemeral), 0);
  std::string watch_body;
  e2e::put_buffer(watch_body, "/eph");
  watch_body.push_back(1);
  ASSERT_TRUE(c.call(e2e::kOpGetData, watch_body));

  json ruok = command("ruok");
  EXPECT_EQ(ruok, json({{"command", "ruok"}, {"error", nullptr}}));
  json mntr = command("mntr");  // an alias answers under the primary name
  EXPECT_EQ(mntr["command"], "monitor");
  EXPECT_EQ(mntr["ephemerals_count"], 1);
  EXPECT_EQ(mntr["watch_count"], 1);
  json wchc = command("wchc");
  ASSERT_EQ(wchc["session_id_to_watched_paths"].size(), 1u);
  EXPECT_EQ(wchc["session_id_to_watched_paths"].begin().value(), json({"/eph"}));
  json dump = command("dump");
  EXPECT_EQ(dump["session_id_to_ephemeral_paths"].begin().value(), json({"/eph"}));
  json stat = command("stat");
  EXPECT_EQ(stat["command"], "stats");
  EXPECT_EQ(stat["connections"].size(), 1u);
  EXPECT_EQ(stat["server_stats"]["server_state"], "standalone");
  EXPECT_EQ(command("srst")["error"], nullptr);
  EXPECT_EQ(command("srvr")["server_stats"]["packets_received"], 0);  // reset by srst
  EXPECT_EQ(command("no_such_thing"),
            json({{"command", "no_such_thing"}, {"error", "Unknown command: no_such_thing"}}));
  auto list = http_get(admin_port_, "/commands");
  ASSERT_TRUE(list);
  EXPECT_NE(list->body.find("<a href=\"/commands/watches_by_path\">"), std::string::npos);
  auto other = http_get(admin_port_, "/elsewhere");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  // SIGTERM still ends the server cleanly with both listeners open.
  EXPECT_TRUE(server_.terminate()) << server_.log();
}

// ZooKeeper's default admin.enableServer=true would make every server of a one-host ensemble
// fight for port 8080; Corral's is false, so an unconfigured server opens no HTTP port.
TEST(OpsDefaults, NoHttpEndpointsUnlessConfigured) {
  ServerProcess server("ops_defaults", {});
  ASSERT_TRUE(server.start("")) << server.log();
  EXPECT_EQ(server.log().find("AdminServer on"), std::string::npos) << server.log();
  EXPECT_EQ(server.log().find("metrics for Prometheus"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace corral::ops_test
