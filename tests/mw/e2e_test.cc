// The master-worker application end to end: 2 masters, 3 workers, 300 tasks (sleeps, hashes,
// ~5% fail), and kill -9 of the active master, one worker and the ensemble leader mid-run.
// Every task must reach done (failed for `fail` tasks) with the right result, none lost.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "apps/master-worker/task_runner.h"
#include "tests/mw/e2e_env.h"

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

/// Follows the tasks' status; remembers the finished ones (they stay finished).
class Progress {
 public:
  Progress(World& world, const std::map<std::string, Submitted>& tasks) : world_(world) {
    for (const auto& [id, t] : tasks) ids_.push_back(id);
  }
  /// How many are finished now.
  size_t finished() {
    std::vector<std::string> open;
    for (const auto& id : ids_)
      if (!done_.count(id)) open.push_back(id);
    for (auto& [id, st] : world_.statuses(open))
      if (st.finished()) done_[id] = st;
    return done_.size();
  }
  bool wait_for(size_t n, std::chrono::milliseconds timeout) {
    return wait_until([&] { return finished() >= n; }, timeout);
  }
  const std::map<std::string, TaskStatus>& done() const { return done_; }

 private:
  World& world_;
  std::vector<std::string> ids_;
  std::map<std::string, TaskStatus> done_;
};

TEST(MasterWorker, EveryTaskFinishesThroughKills) {
  World& w = World::get();
  auto started = Clock::now();
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

  Progress progress(w, tasks);
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
  size_t reassigned_before = count_lines(masters[backup]->log(), "reassigned");
  auto worker_killed = Clock::now();
  workers[victim]->kill9();
  workers[victim]->start();
  ASSERT_TRUE(wait_until(
      [&] { return count_lines(masters[backup]->log(), "reassigned") > reassigned_before; }, 30s))
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
  // None lost, none left behind: nothing pending, nothing assigned.
  EXPECT_TRUE(w.children("/tasks").empty());
  for (const auto& dir : w.children("/assign")) EXPECT_TRUE(w.children(assign_dir(dir)).empty());
  size_t reassign_lines = 0;
  for (auto& [id, m] : masters) reassign_lines += count_lines(m->log(), "reassigned");
  std::printf(
      "[mw_e2e] 300 tasks finished in %.1f s (%.1f tasks/s): %zu failed, %zu reassigned "
      "(%zu master log lines), %zu ran twice\n",
      run_s, 300 / run_s, failed, reassigned, reassign_lines, ran_twice);
  EXPECT_GE(reassign_lines, 1u);

  // A clean stop closes the session: the ephemerals go at once, not after the timeout.
  auto stopping = Clock::now();
  for (auto& [id, p] : workers) EXPECT_EQ(p->stop(), 0) << id;
  EXPECT_TRUE(wait_until([&] { return w.children("/workers").empty(); },
                         std::chrono::milliseconds(kSessionTimeoutMs / 2)));
  std::printf("[mw_e2e] workers stopped, /workers empty after %.2f s\n", seconds_since(stopping));
  for (auto& [id, p] : masters) EXPECT_EQ(p->stop(), 0) << id;
  EXPECT_TRUE(wait_until([&] { return w.active_master().empty(); }, 2s));
}

}  // namespace
}  // namespace corral::mw::test
