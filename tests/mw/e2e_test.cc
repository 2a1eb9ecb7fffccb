// The master-worker application end to end: 2 masters, 3 workers, the dashboard, 300 tasks
// (sleeps, hashes, ~5% fail), and kill -9 of the active master, one worker and the ensemble
// leader mid-run. Every task must reach done (failed for `fail` tasks) with the right result,
// none lost; the dashboard archives them all, and its REST counts match the znodes and its
// SQLite history. And: SIGTERM ends a master and a worker promptly without an ensemble.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "apps/master-worker/task_runner.h"
#include "tests/mw/e2e_env.h"
#include "tests/mw/rest/http_client.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;

struct Submitted {
  std::string kind;
  std::string arg;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// The dashboard's history database, read as it is now (opened read-only for each read):
/// each archived task's status as the dashboard stored it. False if it cannot be read (not
/// created yet, or busy).
bool read_history(const std::string& path, std::map<std::string, TaskStatus>& out) {
  out.clear();
  if (!std::filesystem::exists(path)) return false;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return false;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* q = nullptr;
  bool ok = sqlite3_prepare_v2(db, "SELECT id, state, worker, attempts, runs, result FROM history",
                               -1, &q, nullptr) == SQLITE_OK;
  auto text = [&q](int i) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(q, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(q, i))) : std::string();
  };
  int rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    TaskStatus st;
    auto state = parse_task_state(text(1));
    EXPECT_TRUE(state) << text(0) << ": state " << text(1);
    st.state = state.value_or(TaskState::kRunning);
    st.worker = text(2);
    st.attempt = sqlite3_column_int(q, 3);
    st.result = text(5);
    auto runs = nlohmann::json::parse(text(4), nullptr, false);
    EXPECT_TRUE(runs.is_array()) << text(0) << ": runs " << text(4);
    for (const auto& r : runs.is_array() ? runs : nlohmann::json::array())
      if (auto run = run_from_json(r)) st.runs.push_back(*run);
    out[text(0)] = std::move(st);
  }
  ok = ok && rc == SQLITE_DONE;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return ok;
}

/// SIGTERM is caught by `pid` (its handler is installed): /proc/PID/status's SigCgt.
bool catches_sigterm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("SigCgt:", 0) == 0)
      return (std::stoull(line.substr(7), nullptr, 16) >> (SIGTERM - 1)) & 1;
  return false;
}

/// GET `target` of the dashboard on `port`: the JSON of a 200, else null.
nlohmann::json get_json(uint16_t port, const std::string& target) {
  auto r = http(port, "GET", target, "", false, std::chrono::seconds(5));
  auto j = r.json();
  return r.status == 200 && !j.is_discarded() ? j : nlohmann::json();
}

/// Follows the tasks' status; remembers the finished ones (they stay finished). A task the
/// dashboard archived (its /status deleted) is found in the history database.
class Progress {
 public:
  Progress(World& world, const std::map<std::string, Submitted>& tasks, std::string history)
      : world_(world), history_(std::move(history)) {
    for (const auto& [id, t] : tasks) ids_.push_back(id);
  }
  /// How many are finished now.
  size_t finished() {
    std::vector<std::string> open;
    for (const auto& id : ids_)
      if (!done_.count(id)) open.push_back(id);
    if (open.empty()) return done_.size();
    for (auto& [id, st] : world_.statuses(open))
      if (st.finished()) done_[id] = st;
    std::map<std::string, TaskStatus> archived;
    if (done_.size() < ids_.size() && read_history(history_, archived))
      for (const auto& id : open)
        if (auto it = archived.find(id); it != archived.end() && !done_.count(id))
          done_[id] = it->second;
    return done_.size();
  }
  bool wait_for(size_t n, std::chrono::milliseconds timeout) {
    return wait_until([&] { return finished() >= n; }, timeout);
  }
  const std::map<std::string, TaskStatus>& done() const { return done_; }

 private:
  World& world_;
  std::string history_;
  std::vector<std::string> ids_;
  std::map<std::string, TaskStatus> done_;
};

TEST(MasterWorker, EveryTaskFinishesThroughKills) {
  World& w = World::get();
  auto started = Clock::now();
  // The dashboard, from the start: it archives finished tasks (deleting their /status) all
  // through the kills.
  const uint16_t port = e2e::pick_listen_port();
  const std::string history = w.dir() + "/history.db";
  Process dashboard(
      {mw_binary(), "dashboard", "--zk", w.hosts(), "--port", std::to_string(port), "--history",
       history, "--web", CORRAL_MW_WEB_DIR, "--session-timeout-ms", "10000"},
      w.log_path("dashboard"));
  ASSERT_TRUE(dashboard.start());
  ASSERT_TRUE(wait_until([&] { return get_json(port, "/api/summary").is_object(); }, 30s))
      << dashboard.log();
  auto page = http(port, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html"), std::string::npos) << "--web " << CORRAL_MW_WEB_DIR;
  std::map<std::string, std::unique_ptr<Process>> masters, workers;
  masters["m1"] = w.master("m1");
  ASSERT_TRUE(wait_until([&] { return w.active_master() == "m1"; }, 30s));
  masters["m2"] = w.master("m2");
  for (std::string id : {"w1", "w2", "w3"}) workers[id] = w.worker(id, 4);
  ASSERT_TRUE(wait_until([&] { return w.children("/workers").size() == 3; }, 30s));

  // 300 tasks: 255 sleeps (300..900 ms), 30 hashes, 15 fails, interleaved in batches.
  std::map<std::string, Submitted> tasks;
  auto add = [&](const std::string& kind, const std::string& arg, int n) {
    for (const auto& id : w.submit(kind, arg, n)) tasks[id] = {kind, arg};
  };
  const char* sleeps[] = {"300", "900", "500", "700", "400"};
  for (int round = 0; round < 5; ++round) {
    add("sleep", sleeps[round], 51);
    add("hash", round % 2 ? "4000000" : "1000000", 6);
    add("fail", "on purpose", 3);
  }
  ASSERT_EQ(tasks.size(), 300u);
  auto submitted = Clock::now();
  std::printf("[mw_e2e] 300 tasks submitted in %.1f s\n", seconds_since(started));

  Progress progress(w, tasks, history);
  // 1. kill -9 the active master; the backup takes over; the killed one comes back.
  ASSERT_TRUE(progress.wait_for(40, 60s));
  std::string active = w.active_master();
  ASSERT_TRUE(masters.count(active)) << active;
  std::string backup = active == "m1" ? "m2" : "m1";
  size_t elected_before = count_lines(masters[backup]->log(), "elected");
  auto master_killed = Clock::now();
  masters[active]->kill9();
  ASSERT_TRUE(wait_until(
      [&] { return count_lines(masters[backup]->log(), "elected") > elected_before; }, 30s));
  double master_failover = seconds_since(master_killed);
  masters[active]->start();
  std::printf("[mw_e2e] killed master %s at %zu done; %s elected after %.2f s\n", active.c_str(),
              progress.finished(), backup.c_str(), master_failover);

  // 2. kill -9 a worker running tasks; its tasks are reassigned; it comes back (same id).
  ASSERT_TRUE(progress.wait_for(110, 60s));
  std::string victim;
  for (std::string id : {"w2", "w1", "w3"})
    if (victim.empty() && !w.children(assign_dir(id)).empty()) victim = id;
  ASSERT_FALSE(victim.empty());
  // The worker restarts at once: when its new session registers before the master acts on the
  // old one's loss, the master leaves the tasks with it (the same id) instead of moving them.
  auto handled = [&] {
    return count_lines(masters[backup]->log(), "reassigned") +
           count_lines(masters[backup]->log(), "a worker of that id is registered again");
  };
  size_t handled_before = handled();
  auto worker_killed = Clock::now();
  workers[victim]->kill9();
  workers[victim]->start();
  ASSERT_TRUE(wait_until([&] { return handled() > handled_before; }, 30s))
      << masters[backup]->log();
  std::printf("[mw_e2e] killed worker %s at %zu done; its tasks reassigned after %.2f s\n",
              victim.c_str(), progress.finished(), seconds_since(worker_killed));

  // 3. kill -9 the ensemble leader, and restart it.
  ASSERT_TRUE(progress.wait_for(180, 60s));
  auto& ens = w.ensemble();
  int leader = ens.leader();
  ASSERT_GE(leader, 0);
  auto leader_killed = Clock::now();
  ens.kill9(leader);
  size_t at_kill = progress.finished();
  ASSERT_TRUE(ens.start(leader));
  ASSERT_TRUE(progress.wait_for(at_kill + 10, 60s));
  std::printf(
      "[mw_e2e] killed ensemble leader (member %d) at %zu done; 10 more done after "
      "%.2f s\n",
      leader, at_kill, seconds_since(leader_killed));

  // Every task finishes.
  ASSERT_TRUE(progress.wait_for(300, 90s)) << "finished " << progress.finished() << "/300";
  double run_s = seconds_since(submitted);
  EXPECT_GE(ens.wait_for_quorum(Clock::now() + 60s), 0);

  // Each result is right: done with the digest or "slept N ms", failed for fail tasks.
  size_t ran_twice = 0, reassigned = 0, failed = 0;
  for (const auto& [id, st] : progress.done()) {
    const Submitted& t = tasks[id];
    if (t.kind == "fail") {
      EXPECT_EQ(st.state, TaskState::kFailed) << id;
      ++failed;
    } else {
      EXPECT_EQ(st.state, TaskState::kDone) << id << ": " << st.result;
      std::string want =
          t.kind == "hash" ? pattern_digest(std::stoull(t.arg)) : "slept " + t.arg + " ms";
      EXPECT_EQ(st.result, want) << id;
    }
    ran_twice += st.runs.size() > 1;
    reassigned += st.attempt > 1;
  }
  EXPECT_EQ(failed, 15u);
  // None lost, none left behind: nothing pending, nothing assigned. A worker removes a task's
  // assignment only after it wrote the result the wait above saw (worker.cc, finish_task).
  EXPECT_TRUE(w.children("/tasks").empty());
  auto assigned = [&] {
    std::vector<std::string> left;
    for (const auto& dir : w.children("/assign"))
      for (const auto& t : w.children(assign_dir(dir))) left.push_back(dir + "/" + t);
    return left;
  };
  EXPECT_TRUE(wait_until([&] { return assigned().empty(); }, 10s))
      << "still assigned: " << testing::PrintToString(assigned());
  // A lost worker's tasks were moved, or left with its restarted self (see the kill above).
  size_t reassign_lines = 0;
  for (auto& [id, m] : masters)
    reassign_lines += count_lines(m->log(), "reassigned") +
                      count_lines(m->log(), "a worker of that id is registered again");
  std::printf(
      "[mw_e2e] 300 tasks finished in %.1f s (%.1f tasks/s): %zu failed, %zu reassigned "
      "(%zu master log lines), %zu ran twice\n",
      run_s, 300 / run_s, failed, reassigned, reassign_lines, ran_twice);
  EXPECT_GE(reassign_lines, 1u);

  // The dashboard archives everything: /status empties, the history holds all 300.
  auto archiving = Clock::now();
  std::map<std::string, TaskStatus> archived, in_status;
  auto read_both = [&] {
    in_status = w.statuses(w.children(std::string(kStatusPath)));
    return read_history(history, archived);
  };
  EXPECT_TRUE(wait_until(
      [&] { return read_both() && in_status.empty() && archived.size() == tasks.size(); }, 30s))
      << archived.size() << " archived, " << in_status.size() << " still in /status\n"
      << dashboard.log();
  double archive_s = seconds_since(archiving);
  // Each task once across /status and the history; the counts of both together.
  std::map<std::string, int> seen;
  size_t done_n = 0, failed_n = 0, twice_n = 0;
  auto tally = [&](const std::map<std::string, TaskStatus>& from) {
    for (const auto& [id, st] : from) {
      ++seen[id];
      done_n += st.state == TaskState::kDone;
      failed_n += st.state == TaskState::kFailed;
      twice_n += st.runs.size() > 1;
    }
  };
  tally(in_status);
  tally(archived);
  EXPECT_EQ(seen.size(), tasks.size());
  for (const auto& [id, t] : tasks) EXPECT_EQ(seen[id], 1) << id << " in /status and history";
  EXPECT_EQ(done_n + failed_n, tasks.size());
  EXPECT_EQ(failed_n, 15u);
  EXPECT_EQ(twice_n, ran_twice);
  // The REST counts match (polled: the dashboard's caches may lag the ensemble a little).
  auto as_int = [](const nlohmann::json& j) {
    return j.is_number_integer() ? j.get<int64_t>() : int64_t{-1};
  };
  nlohmann::json summary;
  auto matches = [&] {
    summary = get_json(port, "/api/summary");
    if (!summary.is_object() || !summary["tasks"].is_object()) return false;
    const auto& t = summary["tasks"];
    return as_int(t["done"]) == static_cast<int64_t>(done_n) &&
           as_int(t["failed"]) == static_cast<int64_t>(failed_n) && as_int(t["pending"]) == 0 &&
           as_int(t["assigned"]) == 0 && as_int(t["running"]) == 0 &&
           as_int(summary["ran_twice"]) == static_cast<int64_t>(twice_n);
  };
  EXPECT_TRUE(wait_until(matches, 20s))
      << "summary " << summary.dump() << " vs znodes+history: done " << done_n << ", failed "
      << failed_n << ", ran twice " << twice_n;
  auto done_list = get_json(port, "/api/tasks?state=done&limit=1000");
  EXPECT_EQ(as_int(done_list["total"]), static_cast<int64_t>(done_n)) << done_list.dump();
  EXPECT_EQ(done_list["tasks"].size(), done_n);
  auto failed_list = get_json(port, "/api/tasks?state=failed&limit=1000");
  EXPECT_EQ(as_int(failed_list["total"]), static_cast<int64_t>(failed_n));
  std::printf(
      "[mw_e2e] dashboard: all %zu archived (waited %.2f s more for it); /api/summary "
      "done %lld failed %lld ran_twice %lld reassigned %lld; history done %zu failed %zu, "
      "ran twice %zu\n",
      archived.size(), archive_s, static_cast<long long>(as_int(summary["tasks"]["done"])),
      static_cast<long long>(as_int(summary["tasks"]["failed"])),
      static_cast<long long>(as_int(summary["ran_twice"])),
      static_cast<long long>(as_int(summary["reassigned"])), done_n, failed_n, twice_n);

  // A clean stop closes the session: the ephemerals go at once, not after the timeout.
  auto stopping = Clock::now();
  for (auto& [id, p] : workers) EXPECT_EQ(p->stop(), 0) << id;
  EXPECT_TRUE(wait_until([&] { return w.children("/workers").empty(); },
                         std::chrono::milliseconds(kSessionTimeoutMs / 2)));
  std::printf("[mw_e2e] workers stopped, /workers empty after %.2f s\n", seconds_since(stopping));
  for (auto& [id, p] : masters) EXPECT_EQ(p->stop(), 0) << id;
  EXPECT_TRUE(wait_until([&] { return w.active_master().empty(); }, 2s));
  EXPECT_EQ(dashboard.stop(), 0) << dashboard.log();
}

/// SIGTERM ends a master and a worker within about a second (kCloseWait in main.cc) even when
/// no ensemble answers: one never reached (nothing listens there), or one gone silent (every
/// server paused) after they joined it.
TEST(MasterWorker, StopsPromptlyWithoutEnsemble) {
  World& w = World::get();
  auto args = [](const std::string& role, const std::string& hosts, const std::string& id) {
    return std::vector<std::string>{mw_binary(),
                                    role,
                                    "--zk",
                                    hosts,
                                    "--id",
                                    id,
                                    "--session-timeout-ms",
                                    std::to_string(kSessionTimeoutMs)};
  };
  // Stops p (SIGTERM, SIGKILL after 10 s); its exit status and how long it took.
  auto timed_stop = [](Process& p, double& took) {
    auto at = Clock::now();
    int status = p.stop(10s);
    took = seconds_since(at);
    return status;
  };
  double took = 0;

  // 1. An ensemble never reached.
  std::string nowhere = "127.0.0.1:" + std::to_string(e2e::pick_listen_port());
  Process lone_master(args("master", nowhere, "lone-m"), w.log_path("master-lone-m"));
  Process lone_worker(args("worker", nowhere, "lone-w"), w.log_path("worker-lone-w"));
  ASSERT_TRUE(lone_master.start());
  ASSERT_TRUE(lone_worker.start());
  ASSERT_TRUE(wait_until([&] { return catches_sigterm(lone_master.pid()); }, 10s));
  ASSERT_TRUE(wait_until([&] { return catches_sigterm(lone_worker.pid()); }, 10s));
  for (Process* p : {&lone_master, &lone_worker}) {
    EXPECT_EQ(timed_stop(*p, took), 0) << p->log();
    EXPECT_LT(took, 3.0) << p->log();
    std::printf("[mw_e2e] %s stopped in %.2f s (ensemble never reached)\n",
                p == &lone_master ? "master" : "worker", took);
  }

  // 2. An ensemble that went silent: both joined, then every server paused.
  Process master(args("master", w.hosts(), "quiet-m"), w.log_path("master-quiet-m"));
  Process worker(args("worker", w.hosts(), "quiet-w"), w.log_path("worker-quiet-w"));
  ASSERT_TRUE(master.start());
  ASSERT_TRUE(worker.start());
  ASSERT_TRUE(wait_until([&] { return w.active_master() == "quiet-m"; }, 30s)) << master.log();
  ASSERT_TRUE(
      wait_until([&] { return count_lines(worker.log(), "registered as quiet-w") > 0; }, 30s))
      << worker.log();
  auto& ens = w.ensemble();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ens.pause(i)) << i;
  for (Process* p : {&master, &worker}) {
    EXPECT_EQ(timed_stop(*p, took), 0) << p->log();
    EXPECT_LT(took, 3.0) << p->log();
    std::printf("[mw_e2e] %s stopped in %.2f s (every ensemble server paused)\n",
                p == &master ? "master" : "worker", took);
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ens.resume(i)) << i;
  EXPECT_GE(ens.wait_for_quorum(Clock::now() + 60s), 0) << ens.describe();
  // Their sessions were left to expire: gone within the session timeout, as after a kill -9.
  EXPECT_TRUE(wait_until(
      [&] {
        auto workers = w.children(std::string(kWorkersPath));
        return w.active_master().empty() &&
               std::find(workers.begin(), workers.end(), "quiet-w") == workers.end();
      },
      30s));
}

}  // namespace
}  // namespace corral::mw::test
