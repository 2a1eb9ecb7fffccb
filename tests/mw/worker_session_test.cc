// A worker whose session is lost stops its running task before it rejoins under a new session:
// paused (SIGSTOP) past its session timeout while running a task, it finds on resuming that
// its session expired, stops the task instead of finishing it, and registers again; the master
// gave the task to another worker meanwhile, which finishes it. Both runs are recorded, so the
// task counts as "ran twice".
#include <gtest/gtest.h>

#include "tests/mw/e2e_env.h"

namespace corral::mw::test {
namespace {

using namespace std::chrono_literals;

/// The status of `task`, if it has one.
std::optional<TaskStatus> status_of(World& w, const std::string& task) {
  auto all = w.statuses({task});
  if (!all.count(task)) return std::nullopt;
  return all[task];
}

TEST(WorkerSession, LostSessionStopsTheRunningTaskAndRejoins) {
  World& w = World::get();
  auto master = w.master("ws-master");
  ASSERT_TRUE(wait_until([&] { return w.active_master() == "ws-master"; }, 30s));
  auto first = w.worker("ws-a", 1);
  ASSERT_TRUE(wait_until([&] { return count_lines(first->log(), "registered as ws-a") > 0; }, 30s));

  auto task = w.submit("sleep", "8000", 1);
  ASSERT_EQ(task.size(), 1u);
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = status_of(w, task[0]);
        return st && st->state == TaskState::kRunning && st->worker == "ws-a";
      },
      30s))
      << first->log();
  auto second = w.worker("ws-b", 1);
  ASSERT_TRUE(
      wait_until([&] { return count_lines(second->log(), "registered as ws-b") > 0; }, 30s));

  first->pause();  // past its 4 s session: the ensemble expires it, the master reassigns
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = status_of(w, task[0]);
        return st && st->worker == "ws-b" && st->runs.size() == 2;
      },
      30s))
      << "the task was not given to ws-b; master log:\n"
      << master->log();
  first->resume();

  // ws-a stops the task it was running (it never reports it finished) and rejoins.
  ASSERT_TRUE(wait_until(
      [&] {
        std::string log = first->log();
        return (count_lines(log, "session lost: stopped 1 running task") > 0 ||
                count_lines(log, "suspended past the session timeout: stopped 1 running task") >
                    0) &&
               count_lines(log, "registered as ws-a") >= 2;
      },
      30s))
      << first->log();
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = status_of(w, task[0]);
        return st && st->state == TaskState::kDone;
      },
      30s));
  auto st = *status_of(w, task[0]);
  EXPECT_EQ(st.worker, "ws-b");
  ASSERT_EQ(st.runs.size(), 2u);
  EXPECT_EQ(st.runs[0].worker, "ws-a");
  EXPECT_EQ(st.runs[0].finished_ms, 0) << "ws-a finished a task it no longer owned";
  EXPECT_EQ(st.runs[1].worker, "ws-b");
  EXPECT_EQ(st.runs[1].state, TaskState::kDone);
  EXPECT_EQ(st.result, "slept 8000 ms");
}

}  // namespace
}  // namespace corral::mw::test
