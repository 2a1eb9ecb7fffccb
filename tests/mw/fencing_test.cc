// Fencing: a master's writes fail once it no longer leads. The test plays a worker itself
// (/workers/fk, never running anything) so that every assignment stays in /assign/fk with the
// "master" field of the master that made it.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/mw/e2e_env.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;

/// The test's own worker: /assign/<id> and /workers/<id> with `slots`, on the World's session.
void register_fake_worker(World& w, const std::string& id, int slots) {
  w.zk().create(std::string(kAssignPath), "");
  w.zk().create(std::string(kWorkersPath), "");
  ASSERT_TRUE(w.zk().create(assign_dir(id), ""));
  WorkerInfo info{id, "test", 0, slots, now_ms()};
  ASSERT_TRUE(w.zk().create(worker_path(id), serialize(info), client::CreateMode::kEphemeral));
}

/// Who assigned each task under /assign/<worker>.
std::map<std::string, std::string> assigners(World& w, const std::string& worker) {
  std::map<std::string, std::string> out;
  for (const auto& t : w.children(assign_dir(worker))) {
    auto d = w.zk().get(assign_path(worker, t));
    auto task = d ? parse_task(d->data, true) : std::nullopt;
    out[t] = task ? task->master : "(malformed)";
  }
  return out;
}

/// A master paused (SIGSTOP) past its session timeout while holding a decided assignment, then
/// resumed, must not assign anything: the new master did, and the old one's multi fails.
TEST(Fencing, PausedMasterAssignsNothingAfterTakeover) {
  World& w = World::get();
  register_fake_worker(w, "fk", 100);
  // fa holds each multi 3 s between deciding and sending it.
  auto fa = w.master("fa", {"--test-assign-delay-ms", "3000"});
  ASSERT_TRUE(wait_until([&] { return w.active_master() == "fa"; }, 30s));
  auto fb = w.master("fb");
  ASSERT_TRUE(wait_until([&] { return count_lines(fb->log(), "contending") > 0; }, 10s));

  auto first = w.submit("sleep", "1", 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(
      wait_until([&] { return count_lines(fa->log(), "test: holding the multi") > 0; }, 30s))
      << fa->log();
  fa->pause();
  auto paused = Clock::now();

  // fa's session expires; fb leads and assigns the task (fa's decision never landed).
  ASSERT_TRUE(wait_until([&] { return count_lines(fb->log(), "elected") > 0; }, 30s));
  double takeover_s = std::chrono::duration<double>(Clock::now() - paused).count();
  ASSERT_TRUE(wait_until([&] { return assigners(w, "fk").count(first[0]) > 0; }, 10s));
  EXPECT_EQ(assigners(w, "fk")[first[0]], "fb");

  fa->resume();
  // Its held multi goes out and fails; it rejoins the election as a backup.
  ASSERT_TRUE(wait_until([&] { return count_lines(fa->log(), "multi failed") > 0; }, 20s))
      << fa->log();
  ASSERT_TRUE(wait_until([&] { return count_lines(fa->log(), "contending") > 1; }, 20s))
      << fa->log();
  auto more = w.submit("sleep", "1", 5);
  ASSERT_TRUE(wait_until([&] { return assigners(w, "fk").size() == 6; }, 20s));
  for (const auto& [task, master] : assigners(w, "fk")) EXPECT_EQ(master, "fb") << task;
  EXPECT_EQ(w.active_master(), "fb");
  EXPECT_EQ(count_lines(fa->log(), "assigned task-"), 0u) << fa->log();
  for (const auto& line : {"multi failed", "session lost"}) {
    auto log = fa->log();
    auto at = log.find(line);
    if (at != std::string::npos)
      std::printf("[mw_e2e] fa: %s\n",
                  log.substr(log.rfind('\n', at) + 1, log.find('\n', at) - log.rfind('\n', at) - 1)
                      .c_str());
  }
  std::printf("[mw_e2e] fb took over %.2f s after fa was paused\n", takeover_s);

  EXPECT_EQ(fb->stop(), 0);
  EXPECT_EQ(fa->stop(), 0);
  // The fake worker goes with its assignments (nobody would ever run them).
  w.zk().remove(worker_path("fk"));
  for (const auto& t : w.children(assign_dir("fk"))) w.zk().remove(assign_path("fk", t));
  w.zk().remove(assign_dir("fk"));
}

/// The check op itself: a master whose latch node is gone (deleted under a live session) has
/// its multi refused at the check, even when the task and the worker's slot are still free.
TEST(Fencing, MultiFailsAtTheLatchCheck) {
  World& w = World::get();
  register_fake_worker(w, "fk2", 1);
  auto fc = w.master("fc", {"--test-assign-delay-ms", "3000"});
  ASSERT_TRUE(wait_until([&] { return w.active_master() == "fc"; }, 30s));
  auto task = w.submit("sleep", "1", 1);
  ASSERT_EQ(task.size(), 1u);
  ASSERT_TRUE(
      wait_until([&] { return count_lines(fc->log(), "test: holding the multi") > 0; }, 30s));
  // Take fc's latch node away while its multi waits (its session lives on).
  for (const auto& k : w.children(std::string(kMasterPath))) {
    auto d = w.zk().get(std::string(kMasterPath) + "/" + k);
    if (d && d->data == "fc") {
      EXPECT_TRUE(w.zk().remove(std::string(kMasterPath) + "/" + k));
    }
  }
  ASSERT_TRUE(wait_until([&] { return count_lines(fc->log(), "fenced") > 0; }, 20s)) << fc->log();
  EXPECT_EQ(assigners(w, "fk2").count(task[0]), 0u);  // nothing of it landed
  EXPECT_EQ(w.children(std::string(kTasksPath)).size(), 1u);
  EXPECT_EQ(fc->stop(), 0);
  w.zk().remove(task_path(task[0]));
  w.zk().remove(worker_path("fk2"));
  for (const auto& t : w.children(assign_dir("fk2"))) w.zk().remove(assign_path("fk2", t));
  w.zk().remove(assign_dir("fk2"));
}

}  // namespace
}  // namespace corral::mw::test
