// The REST API's paging, its answers to bad requests (4xx with a JSON error, nothing
// written), the history across a restart of the dashboard, and serving through the loss of
// the ensemble's leader. Runs after rest_api_test.cc's tests in the same binary (shared
// ensemble and dashboard): it relies on nothing they left but counts relative to it.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/mw/rest/rest_test.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> ids;
  for (const auto& t : page["tasks"]) ids.push_back(t["id"]);
  return ids;
}

TEST_F(RestTest, TasksArePagedNewestFirst) {
  std::vector<std::string> submitted;
  for (int i = 0; i < 5; ++i) submitted.push_back(env_->submit("sleep", std::to_string(i)));
  ASSERT_TRUE(wait_until(
      [&] { return env_->peek_json("/api/tasks/" + submitted.back())["state"] == "pending"; }));
  auto first = env_->get_json("/api/tasks?state=pending&limit=2");
  auto second = env_->get_json("/api/tasks?state=pending&limit=2&offset=2");
  EXPECT_EQ(ids_of(first), (std::vector<std::string>{submitted[4], submitted[3]}));
  EXPECT_EQ(ids_of(second), (std::vector<std::string>{submitted[2], submitted[1]}));
  EXPECT_EQ(first["total"], static_cast<int64_t>(env_->pending_count()));
  // All states together: the live tasks and the history, each once, ids descending.
  auto all = env_->get_json("/api/tasks?limit=1000");
  auto ids = ids_of(all);
  EXPECT_EQ(all["total"], ids.size());
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  auto paged = ids_of(env_->get_json("/api/tasks?limit=3&offset=1"));
  EXPECT_EQ(paged, std::vector<std::string>(ids.begin() + 1,
                                            ids.begin() + std::min<size_t>(4, ids.size())));
  // The history: three tasks archived by the earlier tests, paged the same way.
  auto history = env_->get_json("/api/history?limit=1000");
  auto archived = ids_of(history);
  ASSERT_GE(archived.size(), 2u);
  EXPECT_EQ(history["total"], archived.size());
  EXPECT_TRUE(std::is_sorted(archived.rbegin(), archived.rend()));
  EXPECT_EQ(ids_of(env_->get_json("/api/history?limit=1&offset=1")),
            std::vector<std::string>{archived[1]});
  EXPECT_EQ(env_->get_json("/api/history?offset=100000")["tasks"], json::array());
}

struct BadRequest {
  std::string method;
  std::string target;
  std::string body;
  int status;
  bool chunked = false;
};

TEST_F(RestTest, BadRequestsGetJsonErrorsAndWriteNothing) {
  // A task the dashboard has seen: its view is current before the snapshot below.
  std::string seen = env_->submit("sleep", "1");
  ASSERT_TRUE(
      wait_until([&] { return env_->peek_json("/api/tasks/" + seen)["state"] == "pending"; }));
  const size_t pending = env_->pending_count();
  const auto tasks_before = env_->get_json("/api/tasks?limit=1000");
  std::string big = json{{"kind", "sleep"}, {"arg", std::string(70 * 1024, '1')}}.dump();
  const std::vector<BadRequest> requests = {
      {"POST", "/api/tasks", "{\"kind\": \"sleep\", \"arg\": ", 400},
      {"POST", "/api/tasks", "not json", 400},
      {"POST", "/api/tasks", "", 400},
      {"POST", "/api/tasks", "[\"sleep\", \"1\"]", 400},
      {"POST", "/api/tasks", "{\"kind\": \"dance\", \"arg\": \"1\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": 7, \"arg\": \"1\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"sleep\", \"arg\": 100}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"sleep\", \"arg\": null}", 400},
      {"POST", "/api/tasks", "{\"arg\": \"100\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"sleep\", \"arg\": \"-1\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"sleep\", \"arg\": \"600001\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"hash\", \"arg\": \"0\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"hash\", \"arg\": \"12abc\"}", 400},
      {"POST", "/api/tasks", "{\"kind\": \"shell\", \"arg\": \"touch /tmp/x\"}", 403},
      {"POST", "/api/tasks", big, 413},
      {"POST", "/api/tasks", big, 413, true},
      {"GET", "/api/tasks?limit=0", "", 400},
      {"GET", "/api/tasks?limit=1001", "", 400},
      {"GET", "/api/tasks?limit=ten", "", 400},
      {"GET", "/api/tasks?offset=-1", "", 400},
      {"GET", "/api/tasks?offset=1.5", "", 400},
      {"GET", "/api/tasks?state=sleeping", "", 400},
      {"GET", "/api/tasks?limit=%zz", "", 400},
      {"GET", "/api/history?limit=0", "", 400},
      {"GET", "/api/history?offset=x", "", 400},
      {"GET", "/api/tasks/task-9999999999", "", 404},
      {"GET", "/api/tasks/task-12", "", 400},
      {"GET", "/api/tasks/../summary", "", 400},
      {"GET", "/api/tasks/TASK-0000000001", "", 400},
      {"GET", "/api/nothing-here", "", 404},
      {"GET", "/api", "", 404},
      {"PUT", "/api/tasks", "{\"kind\": \"sleep\", \"arg\": \"1\"}", 405},
      {"DELETE", "/api/tasks/task-0000000000", "", 405},
      {"POST", "/api/summary", "{}", 405},
      {"POST", "/api/history", "{}", 405},
      {"DELETE", "/api/workers", "", 405},
      {"POST", "/api/events", "", 405},
  };
  for (const auto& r : requests) {
    auto answer = http(env_->port(), r.method, r.target, r.body, r.chunked);
    std::string what =
        r.method + " " + r.target + " " + r.body.substr(0, 60) + (r.chunked ? " (chunked)" : "");
    EXPECT_EQ(answer.status, r.status) << what << " -> " << answer.body;
    EXPECT_EQ(answer.headers["content-type"], "application/json") << what;
    auto error = answer.json();
    EXPECT_TRUE(error.is_object() && error["error"].is_string() &&
                !error["error"].get<std::string>().empty())
        << what << " -> " << answer.body;
  }
  EXPECT_EQ(env_->pending_count(), pending);
  EXPECT_EQ(env_->get_json("/api/tasks?limit=1000")["total"], tasks_before["total"]);
}

TEST_F(RestTest, HistorySurvivesARestart) {
  auto before = env_->get_json("/api/history?limit=1000");
  ASSERT_FALSE(before["tasks"].empty());
  auto summary = env_->get_json("/api/summary");
  EXPECT_TRUE(env_->stop_dashboard()) << "the dashboard did not exit cleanly on SIGTERM";
  ASSERT_TRUE(env_->start_dashboard()) << env_->dashboard_log();
  EXPECT_EQ(env_->get_json("/api/history?limit=1000"), before);
  ASSERT_TRUE(wait_until([&] {
    auto s = env_->peek_json("/api/summary");
    return s["tasks"]["done"] == summary["tasks"]["done"] &&
           s["tasks"]["failed"] == summary["tasks"]["failed"] &&
           s["ran_twice"] == summary["ran_twice"];
  }));
}

TEST_F(RestTest, KeepsServingWhenTheLeaderDies) {
  auto& ensemble = env_->ensemble();
  int leader = ensemble.leader();
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(ensemble.kill9(leader));
  // A task submitted while the ensemble elects again: 503 until it has a quorum, then 201.
  std::string id;
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = http(env_->port(), "POST", "/api/tasks", R"({"kind":"sleep","arg":"7"})");
        EXPECT_TRUE(r.status == 201 || r.status == 503) << r.status << " " << r.body;
        if (r.status == 201) id = r.json()["id"];
        return r.status == 201;
      },
      60s));
  EXPECT_TRUE(
      wait_until([&] { return env_->peek_json("/api/tasks/" + id)["state"] == "pending"; }, 30s));
  const std::string down = ensemble.host_port(leader);
  auto role_of = [&](const std::string& server) {
    for (const auto& s : env_->get_json("/api/cluster"))
      if (s["server"] == server) return s["role"].get<std::string>();
    return std::string("missing");
  };
  EXPECT_TRUE(wait_until([&] { return role_of(down) == "down"; }, 15s));
  ASSERT_TRUE(ensemble.start(leader));
  EXPECT_TRUE(
      wait_until([&] { return role_of(down) == "follower" || role_of(down) == "leader"; }, 60s));
}

TEST_F(RestTest, StartsANewSessionWhenItsSessionExpires) {
  // Paused past its session timeout (6 s), the dashboard finds its session expired when it
  // resumes: it must start over with a new Client and new caches, and keep serving.
  ASSERT_EQ(kill(env_->dashboard_pid(), SIGSTOP), 0);
  auto worker = start_worker(*env_, "w-after-expiry", 1);
  std::string pending_while_paused = env_->submit_direct("sleep", "9");
  std::this_thread::sleep_for(9s);  // the time the session must be silent to expire
  ASSERT_EQ(kill(env_->dashboard_pid(), SIGCONT), 0);
  EXPECT_TRUE(wait_until(
      [&] { return env_->dashboard_log().find("starting a new session") != std::string::npos; },
      30s));
  EXPECT_TRUE(wait_until(
      [&] { return env_->peek_json("/api/tasks/" + pending_while_paused)["state"] == "pending"; },
      30s));
  EXPECT_TRUE(wait_until([&] {
    for (const auto& w : env_->peek_json("/api/workers"))
      if (w["id"] == "w-after-expiry") return true;
    return false;
  }));
  std::string id = env_->submit("sleep", "10");
  EXPECT_TRUE(
      wait_until([&] { return env_->peek_json("/api/tasks/" + id)["state"] == "pending"; }));
}

}  // namespace
}  // namespace corral::mw::test
