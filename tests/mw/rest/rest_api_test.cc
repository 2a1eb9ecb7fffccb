// The dashboard's REST API, event stream and history against a real 3-server ensemble: the
// test writes the masters', workers' and tasks' znodes itself (no master or worker process)
// and checks what `corral-mw dashboard` answers, including every bad input and that those
// change nothing.
#include <gtest/gtest.h>

#include <memory>

#include "tests/mw/rest/rest_test.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;
using client::CreateMode;
using nlohmann::json;

TEST_F(RestTest, ServesTheWebDirectoryWithContentTypes) {
  auto index = http(env_->port(), "GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<html"), std::string::npos);
  auto js = http(env_->port(), "GET", "/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(http(env_->port(), "GET", "/style.css").headers["content-type"],
            "text/css; charset=utf-8");
  EXPECT_EQ(http(env_->port(), "GET", "/no-such-file.html").status, 404);
  EXPECT_EQ(http(env_->port(), "GET", "/../CMakeLists.txt").status, 404);
  EXPECT_EQ(http(env_->port(), "GET", "/%2e%2e/CMakeLists.txt").status, 404);
  EXPECT_EQ(http(env_->port(), "POST", "/index.html", "x").status, 405);
}

TEST_F(RestTest, ClusterShowsEachServerAndItsRole) {
  json cluster;
  ASSERT_TRUE(wait_until([&] {
    cluster = env_->peek_json("/api/cluster");
    int leaders = 0, followers = 0;
    for (const auto& s : cluster) {
      leaders += s["role"] == "leader";
      followers += s["role"] == "follower";
    }
    return cluster.size() == 3 && leaders == 1 && followers == 2;
  })) << cluster.dump();
  for (int i = 0; i < 3; ++i) {
    const auto& s = cluster[static_cast<size_t>(i)];
    EXPECT_EQ(s["server"], env_->ensemble().host_port(i));
    EXPECT_TRUE(s["zxid"].is_string() && s["zxid"].get<std::string>().rfind("0x", 0) == 0) << s;
    EXPECT_TRUE(s["connections"].is_number_integer()) << s;
    EXPECT_TRUE(s["latency_avg_ms"].is_number()) << s;
  }
}

TEST_F(RestTest, MastersAndWorkersComeAndGo) {
  EventStream events(env_->port(), "/api/events");
  ASSERT_TRUE(events.wait_for("event: summary", 10s)) << events.text();
  EXPECT_NE(events.text().find("Content-Type: text/event-stream"), std::string::npos);
  env_->zk().create(std::string(kMasterPath), "", CreateMode::kContainer);
  auto first = env_->new_session(), second = env_->new_session();
  ASSERT_TRUE(first->wait_connected(20s) && second->wait_connected(20s));
  ASSERT_TRUE(
      first->create("/master/_c_0123456789abcdef-latch-", "m-a", CreateMode::kEphemeralSequential)
          .ok());
  ASSERT_TRUE(
      second->create("/master/_c_fedcba9876543210-latch-", "m-b", CreateMode::kEphemeralSequential)
          .ok());
  ASSERT_TRUE(wait_until([&] {
    auto m = env_->peek_json("/api/master");
    return m["active"] == "m-a" && m["backups"] == json{"m-b"} && m["since_ms"].is_number();
  }));
  auto summary = env_->get_json("/api/summary");
  EXPECT_EQ(summary["master"], "m-a");
  EXPECT_EQ(summary["backups"], json{"m-b"});
  first.reset();  // the active master's session ends: m-b takes over
  ASSERT_TRUE(wait_until([&] { return env_->peek_json("/api/master")["active"] == "m-b"; }));
  EXPECT_TRUE(events.wait_for("event: master_elected\ndata: {\"id\":\"m-b\"}", 10s))
      << events.text();

  auto worker = start_worker(*env_, "w-come-go", 3);
  ASSERT_TRUE(wait_until([&] {
    for (const auto& w : env_->peek_json("/api/workers"))
      if (w["id"] == "w-come-go") return true;
    return false;
  }));
  for (const auto& w : env_->get_json("/api/workers")) {
    if (w["id"] != "w-come-go") continue;
    EXPECT_EQ(w["host"], "host-w-come-go");
    EXPECT_EQ(w["slots"], 3);
    EXPECT_EQ(w["running"], json::array());
    EXPECT_EQ(w["assigned"], json::array());
  }
  EXPECT_TRUE(events.wait_for("event: worker_joined\ndata: {\"id\":\"w-come-go\"}", 10s));
  worker.reset();
  EXPECT_TRUE(events.wait_for("event: worker_lost\ndata: {\"id\":\"w-come-go\"}", 10s));
  EXPECT_TRUE(wait_until([&] { return env_->peek_json("/api/workers").empty(); }));
  second.reset();
  EXPECT_TRUE(wait_until([&] { return env_->peek_json("/api/master")["active"].is_null(); }));
}

TEST_F(RestTest, AWorkerReplacedUnderItsIdIsLostAndJoinsAgain) {
  // A restarted worker may register again before the dashboard looks: its znode is swapped for
  // the new session's in one multi here, so no view ever lacks the id.
  EventStream events(env_->port(), "/api/events");
  ASSERT_TRUE(events.wait_for("event: summary", 10s));
  auto old_worker = start_worker(*env_, "w-swap", 1);
  const std::string joined = "event: worker_joined\ndata: {\"id\":\"w-swap\"}";
  ASSERT_TRUE(events.wait_for(joined, 10s)) << events.text();
  auto new_worker = env_->new_session();
  ASSERT_TRUE(new_worker->wait_connected(20s));
  WorkerInfo info{"w-swap", "host-w-swap", 4343, 1, now_ms() + 1};
  auto swapped = new_worker->multi(
      client::Multi()
          .remove(worker_path("w-swap"))
          .create(worker_path("w-swap"), serialize(info), CreateMode::kEphemeral));
  ASSERT_TRUE(swapped.ok()) << client::error_text(swapped.error());
  // Lost, then joined again, from the one look that saw the new znode.
  const std::string lost = "event: worker_lost\ndata: {\"id\":\"w-swap\"}";
  ASSERT_TRUE(events.wait_for(lost, 10s)) << events.text();
  EXPECT_TRUE(events.wait_for(joined, 10s, events.text().find(lost))) << events.text();
}

TEST_F(RestTest, TaskLifecycleEndsInTheHistory) {
  EventStream events(env_->port(), "/api/events");
  ASSERT_TRUE(events.wait_for("event: summary", 10s));
  auto before = env_->get_json("/api/summary");
  auto worker = start_worker(*env_, "w-life", 2);
  std::string id = env_->submit("sleep", "5");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(
      events.wait_for("{\"id\":\"" + id + "\",\"state\":\"pending\",\"worker\":null}", 10s));
  auto pending = env_->get_json("/api/tasks/" + id);
  EXPECT_EQ(pending["state"], "pending");
  EXPECT_EQ(pending["kind"], "sleep");
  EXPECT_EQ(pending["arg"], "5");
  EXPECT_EQ(pending["attempts"], 0);
  EXPECT_EQ(pending["runs"], json::array());

  env_->assign("w-life", id);
  EXPECT_TRUE(
      events.wait_for("{\"id\":\"" + id + "\",\"state\":\"assigned\",\"worker\":\"w-life\"}", 10s));
  auto assigned_worker = [&](const char* list) {
    for (const auto& w : env_->get_json("/api/workers"))
      if (w["id"] == "w-life") return w[list] == json{id};
    return false;
  };
  EXPECT_TRUE(wait_until([&] { return assigned_worker("assigned"); }));

  env_->write_status(id, status_of(TaskState::kRunning, {"w-life"}, ""));
  EXPECT_TRUE(
      events.wait_for("{\"id\":\"" + id + "\",\"state\":\"running\",\"worker\":\"w-life\"}", 10s));
  EXPECT_TRUE(wait_until([&] { return assigned_worker("running"); }));

  auto done = status_of(TaskState::kDone, {"w-life"}, "slept 5 ms");
  env_->write_status(id, done);
  env_->unassign("w-life", id);
  EXPECT_TRUE(
      events.wait_for("{\"id\":\"" + id + "\",\"state\":\"done\",\"worker\":\"w-life\"}", 10s));
  // Archived: /status/T goes, the history has it with the same fields.
  ASSERT_TRUE(status_gone(*env_, id));
  auto history = env_->get_json("/api/history?limit=1000");
  json archived;
  for (const auto& t : history["tasks"])
    if (t["id"] == id) archived = t;
  ASSERT_TRUE(archived.is_object()) << history.dump();
  json expected = {{"id", id},
                   {"kind", "sleep"},
                   {"arg", "5"},
                   {"state", "done"},
                   {"worker", "w-life"},
                   {"attempts", 1},
                   {"submitted_ms", pending["submitted_ms"]},
                   {"started_ms", done.started_ms},
                   {"finished_ms", done.finished_ms},
                   {"result", "slept 5 ms"}};
  EXPECT_EQ(archived, expected);
  auto one = env_->get_json("/api/tasks/" + id);
  EXPECT_EQ(one["runs"], json::array({to_json(done.runs[0])}));
  one.erase("runs");
  EXPECT_EQ(one, expected);
  auto done_tasks = env_->get_json("/api/tasks?state=done&limit=1000");
  bool listed = false;
  for (const auto& t : done_tasks["tasks"]) listed = listed || t == expected;
  EXPECT_TRUE(listed) << done_tasks.dump() << " lacks " << expected.dump();
  EXPECT_TRUE(wait_until([&] {
    auto s = env_->peek_json("/api/summary");
    return s["tasks"]["done"] == before["tasks"]["done"].get<int>() + 1;
  }));
  EXPECT_TRUE(
      events.wait_for("\"done\":" + std::to_string(before["tasks"]["done"].get<int>() + 1), 10s));
}

TEST_F(RestTest, ReassignedTaskThatRanTwiceIsCounted) {
  EventStream events(env_->port(), "/api/events");
  ASSERT_TRUE(events.wait_for("event: summary", 10s));
  auto before = env_->get_json("/api/summary");
  auto lost = start_worker(*env_, "w-lost", 1);
  auto other = start_worker(*env_, "w-other", 1);
  std::string id = env_->submit("hash", "1000");
  ASSERT_FALSE(id.empty());
  env_->assign("w-lost", id);
  env_->write_status(id, status_of(TaskState::kRunning, {"w-lost"}, ""));
  EXPECT_TRUE(
      events.wait_for("{\"id\":\"" + id + "\",\"state\":\"running\",\"worker\":\"w-lost\"}", 10s));
  lost.reset();
  EXPECT_TRUE(events.wait_for("event: worker_lost\ndata: {\"id\":\"w-lost\"}", 10s));
  env_->reassign_back("w-lost", id);
  EXPECT_TRUE(events.wait_for(
      "event: task_reassigned\ndata: {\"from\":\"w-lost\",\"id\":\"" + id + "\"}", 10s))
      << events.text();
  EXPECT_TRUE(wait_until([&] {
    auto t = env_->peek_json("/api/tasks/" + id);
    return t["state"] == "pending" && t["attempts"] == 1;
  }));
  EXPECT_TRUE(wait_until([&] {
    return env_->peek_json("/api/summary")["reassigned"] == before["reassigned"].get<int>() + 1;
  }));
  env_->assign("w-other", id);
  env_->write_status(id, status_of(TaskState::kDone, {"w-lost", "w-other"}, "digest"));
  env_->unassign("w-other", id);
  ASSERT_TRUE(status_gone(*env_, id));
  auto archived = env_->get_json("/api/tasks/" + id);
  EXPECT_EQ(archived["state"], "done");
  EXPECT_EQ(archived["attempts"], 2);
  EXPECT_EQ(archived["worker"], "w-other");
  EXPECT_EQ(archived["runs"].size(), 2u);
  auto after = env_->get_json("/api/summary");
  EXPECT_EQ(after["ran_twice"], before["ran_twice"].get<int>() + 1);
  EXPECT_EQ(after["reassigned"], before["reassigned"].get<int>() + 1);
}

TEST_F(RestTest, FailedTaskIsArchivedAsFailed) {
  auto before = env_->get_json("/api/summary");
  auto worker = start_worker(*env_, "w-fail", 1);
  std::string id = env_->submit("fail", "");
  ASSERT_FALSE(id.empty());
  env_->assign("w-fail", id);
  env_->write_status(id, status_of(TaskState::kFailed, {"w-fail"}, "failed on purpose"));
  env_->unassign("w-fail", id);
  ASSERT_TRUE(status_gone(*env_, id));
  auto t = env_->get_json("/api/tasks/" + id);
  EXPECT_EQ(t["state"], "failed");
  EXPECT_EQ(t["result"], "failed on purpose");
  EXPECT_EQ(env_->get_json("/api/summary")["tasks"]["failed"],
            before["tasks"]["failed"].get<int>() + 1);
  auto failed = env_->get_json("/api/tasks?state=failed");
  EXPECT_EQ(failed["tasks"][0]["id"], id);
}

}  // namespace
}  // namespace corral::mw::test
