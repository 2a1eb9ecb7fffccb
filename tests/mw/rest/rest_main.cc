// The REST tests' main: one ensemble and one dashboard for every test, started and stopped
// on the main thread (the processes die with the thread that forked them).
#include <gtest/gtest.h>

#include "tests/mw/rest/rest_test.h"

namespace corral::mw::test {
namespace {

DashboardEnv* g_env = nullptr;

class SharedEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { g_env = new DashboardEnv(); }
  void TearDown() override {
    delete g_env;
    g_env = nullptr;
  }
};

}  // namespace

DashboardEnv& shared_env() { return *g_env; }

std::unique_ptr<client::BlockingClient> start_worker(DashboardEnv& env, const std::string& id,
                                                     int slots) {
  auto session = env.new_session();
  EXPECT_TRUE(session->wait_connected(std::chrono::seconds(20)));
  session->create(std::string(kWorkersPath), "");
  WorkerInfo info{id, "host-" + id, 4242, slots, now_ms()};
  EXPECT_TRUE(
      session->create(worker_path(id), serialize(info), client::CreateMode::kEphemeral).ok());
  session->create(assign_dir(id), "");
  return session;
}

TaskStatus status_of(TaskState state, const std::vector<std::string>& workers,
                     const std::string& result) {
  TaskStatus s;
  s.state = state;
  int attempt = 0;
  for (const auto& w : workers)
    s.runs.push_back(Run{w, ++attempt, now_ms(), 0, TaskState::kRunning});
  s.worker = workers.back();
  s.attempt = attempt;
  s.started_ms = s.runs.back().started_ms;
  s.result = result;
  if (state != TaskState::kRunning) {
    s.finished_ms = s.started_ms + 5;
    s.runs.back().finished_ms = s.finished_ms;
    s.runs.back().state = state;
  }
  return s;
}

bool status_gone(DashboardEnv& env, const std::string& task) {
  return wait_until(
      [&] { return env.zk().exists(status_path(task)).error() == client::ErrorCode::kNoNode; });
}

}  // namespace corral::mw::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new corral::mw::test::SharedEnvironment);
  return RUN_ALL_TESTS();
}
