// A worker that dies: what it held goes back to /tasks. One that comes back under the same id
// before the master reads /workers again: the master must still see the old one go (a watch on
// its znode), and leave what it held with the new one, which may be running it already. The
// test plays the worker itself and swaps its znode for a new session's in one multi, so
// /workers never lacks the id when the master lists it.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>

#include "corral/client/blocking.h"
#include "tests/mw/e2e_env.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;

class WorkerLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    client::Options options;
    options.connect_string = w_.hosts();
    options.session_timeout = 10s;
    old_worker_ = std::make_unique<client::BlockingClient>(options);
    new_worker_ = std::make_unique<client::BlockingClient>(options);
    ASSERT_TRUE(old_worker_->wait_connected(20s) && new_worker_->wait_connected(20s));
    for (const auto& dir : {std::string(kAssignPath), std::string(kWorkersPath), assign_dir(kId)})
      old_worker_->create(dir, "");  // may exist
    ASSERT_TRUE(
        old_worker_->create(worker_path(kId), serialize(info_), client::CreateMode::kEphemeral)
            .ok());
    master_ = w_.master("sw");
    ASSERT_TRUE(wait_until([&] { return w_.active_master() == "sw"; }, 30s)) << master_->log();
    auto ids = w_.submit("sleep", "1", 1);
    ASSERT_EQ(ids.size(), 1u);
    task_ = ids[0];
    ASSERT_TRUE(wait_until([&] { return !w_.children(assign_dir(kId)).empty(); }, 30s))
        << master_->log();
  }

  void TearDown() override {
    // Nobody runs the task: it goes, with the test's worker.
    if (master_) master_->stop();
    for (const auto& worker : w_.children(std::string(kAssignPath)))
      w_.zk().remove(assign_path(worker, task_));
    w_.zk().remove(task_path(task_));
    w_.zk().remove(status_path(task_));
    if (new_worker_) new_worker_->remove(worker_path(kId));
    w_.zk().remove(assign_dir(kId));
  }

  /// In one txn: the old worker's znode goes, the new one's (started now) comes, and `more`.
  void swap(client::Multi more = {}) {
    client::Multi ops = std::move(more);
    ops.remove(worker_path(kId))
        .create(worker_path(kId), serialize(info_), client::CreateMode::kEphemeral);
    auto swapped = new_worker_->multi(std::move(ops));
    ASSERT_TRUE(swapped.ok()) << client::error_text(swapped.error());
  }

  /// The attempt of the task's assignment under /assign/<worker>, or 0.
  int attempt_at(const std::string& worker) {
    auto d = w_.zk().get(assign_path(worker, task_));
    auto t = d ? parse_task(d->data, true) : std::nullopt;
    return t ? t->attempt : 0;
  }

  /// True once the master's log says it assigned the task at `attempt` (to whichever worker: one
  /// the World has may have run it and let it go already).
  bool assigned_at(int attempt) {
    std::istringstream lines(master_->log());
    const std::string to = "assigned " + task_ + " to ";
    const std::string at = "(attempt " + std::to_string(attempt) + ")";
    for (std::string line; std::getline(lines, line);)
      if (line.find(to) != std::string::npos && line.find(at) != std::string::npos) return true;
    return false;
  }

  // First by id among the idle workers other tests of this binary may leave (the planner breaks
  // ties by id), so the task lands here.
  static constexpr const char* kId = "aa-swapped";
  World& w_ = World::get();
  WorkerInfo info_{kId, "test", 0, 1, now_ms()};
  std::unique_ptr<client::BlockingClient> old_worker_, new_worker_;
  std::unique_ptr<Process> master_;
  std::string task_;
};

TEST_F(WorkerLoss, AWorkerGoneIsLostAndWhatItHeldGoesBack) {
  ASSERT_TRUE(old_worker_->remove(worker_path(kId)).ok());
  EXPECT_TRUE(wait_until(
      [&] { return count_lines(master_->log(), std::string("worker lost: ") + kId) > 0; }, 30s))
      << master_->log();
  EXPECT_TRUE(wait_until(
      [&] { return count_lines(master_->log(), "reassigned " + task_ + " from " + kId) > 0; }, 30s))
      << master_->log();
  // The master drops /assign/ID of a worker that is not back.
  EXPECT_TRUE(wait_until(
      [&] {
        auto workers = w_.children(std::string(kAssignPath));
        return std::find(workers.begin(), workers.end(), kId) == workers.end();
      },
      30s))
      << master_->log();
  // A worker of that id joins afresh; the task is assigned again (to it, or another the World
  // has), at its second attempt.
  new_worker_->create(assign_dir(kId), "");
  info_.started_ms = now_ms();
  ASSERT_TRUE(
      new_worker_->create(worker_path(kId), serialize(info_), client::CreateMode::kEphemeral).ok());
  EXPECT_TRUE(wait_until([&] { return assigned_at(2); }, 30s)) << master_->log();
}

// The new worker found the task under /assign/ID as it started and may be running it, though no
// /status says so yet: moved back to /tasks, it would run a second time at once elsewhere.
TEST_F(WorkerLoss, AWorkerReplacedInOneStepKeepsWhatItsIdHeld) {
  info_.started_ms = now_ms();
  ASSERT_NO_FATAL_FAILURE(swap());
  EXPECT_TRUE(wait_until(
      [&] { return count_lines(master_->log(), std::string("worker lost: ") + kId) > 0; }, 30s))
      << master_->log();
  EXPECT_TRUE(wait_until(
      [&] {
        return count_lines(master_->log(), "left " + task_ + " with " + kId +
                                               ": a worker of that id is registered again") > 0;
      },
      30s))
      << master_->log();
  EXPECT_EQ(count_lines(master_->log(), "reassigned " + task_), 0u) << master_->log();
  EXPECT_EQ(attempt_at(kId), 1);
  EXPECT_EQ(w_.zk().exists(task_path(task_)).error(), client::ErrorCode::kNoNode)
      << "the task is pending again";
}

TEST_F(WorkerLoss, ATaskTheNewWorkerStartedStaysWithIt) {
  info_.started_ms = now_ms();
  w_.zk().create(std::string(kStatusPath), "");  // may exist
  TaskStatus running;
  running.worker = kId;
  running.attempt = 1;
  running.started_ms = info_.started_ms;  // the new worker's run
  running.runs.push_back(mw::Run{kId, 1, running.started_ms, 0, TaskState::kRunning});
  ASSERT_NO_FATAL_FAILURE(swap(client::Multi().create(status_path(task_), serialize(running))));
  EXPECT_TRUE(wait_until(
      [&] {
        return count_lines(master_->log(), "left " + task_ + " with the new worker " + kId) > 0;
      },
      30s))
      << master_->log();
  EXPECT_EQ(count_lines(master_->log(), "reassigned " + task_), 0u) << master_->log();
  EXPECT_EQ(attempt_at(kId), 1);
}

}  // namespace
}  // namespace corral::mw::test
