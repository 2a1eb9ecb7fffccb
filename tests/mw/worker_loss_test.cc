// A worker that dies and comes back under the same id before the master reads /workers again:
// the master must still see the old one go (a watch on its znode) and send what it held back to
// /tasks. The test plays the worker itself and swaps its znode for a new session's in one multi,
// so /workers never lacks the id when the master lists it.
#include <gtest/gtest.h>

#include "corral/client/blocking.h"
#include "tests/mw/e2e_env.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;

TEST(WorkerLoss, AWorkerReplacedInOneStepIsLostAndWhatItHeldGoesBack) {
  World& w = World::get();
  client::Options options;
  options.connect_string = w.hosts();
  options.session_timeout = 10s;
  client::BlockingClient old_worker(options), new_worker(options);
  ASSERT_TRUE(old_worker.wait_connected(20s) && new_worker.wait_connected(20s));
  const std::string id = "swapped";
  for (const auto& dir : {std::string(kAssignPath), std::string(kWorkersPath), assign_dir(id)})
    old_worker.create(dir, "");  // may exist
  WorkerInfo info{id, "test", 0, 1, now_ms()};
  ASSERT_TRUE(
      old_worker.create(worker_path(id), serialize(info), client::CreateMode::kEphemeral).ok());

  auto master = w.master("sw");
  ASSERT_TRUE(wait_until([&] { return w.active_master() == "sw"; }, 30s)) << master->log();
  auto task = w.submit("sleep", "1", 1);
  ASSERT_EQ(task.size(), 1u);
  ASSERT_TRUE(wait_until([&] { return !w.children(assign_dir(id)).empty(); }, 30s))
      << master->log();

  // The old worker's znode goes and the new one's comes in the same txn.
  info.started_ms = now_ms();
  auto swapped = new_worker.multi(
      client::Multi()
          .remove(worker_path(id))
          .create(worker_path(id), serialize(info), client::CreateMode::kEphemeral));
  ASSERT_TRUE(swapped.ok()) << client::error_text(swapped.error());
  EXPECT_TRUE(wait_until([&] { return count_lines(master->log(), "worker lost: " + id) > 0; }, 30s))
      << master->log();
  EXPECT_TRUE(wait_until(
      [&] { return count_lines(master->log(), "reassigned " + task[0] + " from " + id) > 0; }, 30s))
      << master->log();
  // Assigned again (to the new worker, or another the World has), at its second attempt.
  auto assigned_again = [&] {
    for (const auto& worker : w.children(std::string(kAssignPath))) {
      auto d = w.zk().get(assign_path(worker, task[0]));
      auto t = d ? parse_task(d->data, true) : std::nullopt;
      if (t && t->attempt == 2) return worker;
    }
    return std::string();
  };
  EXPECT_TRUE(wait_until([&] { return !assigned_again().empty(); }, 30s)) << master->log();
  // Nobody runs it: it goes, with the test's worker.
  master->stop();
  for (const auto& worker : w.children(std::string(kAssignPath)))
    w.zk().remove(assign_path(worker, task[0]));
  w.zk().remove(task_path(task[0]));
  new_worker.remove(worker_path(id));
}

}  // namespace
}  // namespace corral::mw::test
