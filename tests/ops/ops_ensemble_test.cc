// A 3-member Corral ensemble with /metrics and the AdminServer on every member: the ensemble
// figures (quorum_size, synced_followers, learners, leader_uptime, election_time) and commands
// (leader, zabstate, voting_view) tell the leader from its followers.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/e2e/ensemble.h"
#include "tests/ops/http_get.h"

namespace corral::ops_test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json command(uint16_t port, const std::string& name) {
  auto a = http_get(port, "/commands/" + name);
  return a ? json::parse(a->body) : json(nullptr);
}

TEST(OpsEnsemble, LeaderAndFollowersReportTheirRoles) {
  e2e::Ensemble::Options options;
  options.name = "ops-ensemble";
  e2e::Ensemble ensemble(options);
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  std::vector<uint16_t> metrics, admin;
  for (int i = 0; i < ensemble.size(); ++i) {
    metrics.push_back(e2e::pick_listen_port());
    admin.push_back(e2e::pick_listen_port());
    std::ofstream(ensemble.member_dir(i) / "zoo.cfg", std::ios::app)
        << "metricsProvider.className=org.apache.zookeeper.metrics.prometheus."
           "PrometheusMetricsProvider\nmetricsProvider.httpHost=127.0.0.1\n"
        << "metricsProvider.httpPort=" << metrics.back() << "\n"
        << "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\n"
        << "admin.serverPort=" << admin.back() << "\n";
  }
  ASSERT_TRUE(ensemble.start_all()) << ensemble.error();

  // Followers ack the leader a moment after it leads: wait for both to count as synced.
  int leader = -1;
  std::map<std::string, double> leader_metrics;
  for (auto until = Clock::now() + std::chrono::seconds(15); Clock::now() < until;) {
    for (int i = 0; i < ensemble.size(); ++i) {
      if (e2e::srvr_mode(ensemble.client_port(i), std::chrono::seconds(1)) != "leader") continue;
      leader = i;
      auto scrape = http_get(metrics[static_cast<size_t>(i)], "/metrics");
      if (scrape) leader_metrics = samples(scrape->body);
    }
    if (leader_metrics["synced_followers"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(leader, 0);
  EXPECT_EQ(leader_metrics["synced_followers"], 2);
  EXPECT_EQ(leader_metrics["quorum_size"], 3);

  for (int i = 0; i < ensemble.size(); ++i) {
    auto at = static_cast<size_t>(i);
    bool leads = i == leader;
    auto scrape = http_get(metrics[at], "/metrics");
    ASSERT_TRUE(scrape);
    auto m = samples(scrape->body);
    EXPECT_EQ(m["quorum_size"], 3) << i;
    EXPECT_EQ(m.count("synced_followers"), leads ? 1u : 0u) << i;
    if (leads) {
      EXPECT_EQ(m["learners"], 2) << i;
      EXPECT_EQ(m["synced_observers"], 0) << i;
      EXPECT_GT(m["leader_uptime"], 0) << i;
    } else {
      EXPECT_EQ(m.count("learners"), 0u) << i;
    }
    // Every member elected once to get here.
    EXPECT_GE(m["election_time_count"], 1) << i;

    json lead = command(admin[at], "leader");
    EXPECT_EQ(lead["is_leader"], leads) << lead;
    EXPECT_EQ(lead["leader_id"], leader + 1) << lead;
    EXPECT_EQ(lead["leader_ip"], "127.0.0.1") << lead;
    json zab = command(admin[at], "zabstate");
    EXPECT_EQ(zab["is_leader"], leads) << zab;
    EXPECT_EQ(zab["voting"], true) << zab;
    EXPECT_EQ(zab["myid"], i + 1) << zab;
    EXPECT_EQ(zab["zabstate"], "broadcast") << zab;
    json view = command(admin[at], "voting_view");
    ASSERT_EQ(view["current_config"].size(), 3u) << view;
    EXPECT_EQ(view["current_config"]["1"]["learnerType"], "participant") << view;
    EXPECT_EQ(command(admin[at], "srvr")["server_stats"]["server_state"],
              leads ? "leader" : "follower");
  }
}

}  // namespace
}  // namespace corral::ops_test
