// The fixture of the REST tests: one ensemble and one dashboard for the whole binary (made
// by rest_main.cc's global environment, on the main thread), and the znode helpers.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/mw/rest/dashboard_env.h"

namespace corral::mw::test {

/// The binary's environment (set by rest_main.cc).
DashboardEnv& shared_env();

/// Every REST test: skips nothing, fails at once if the environment did not start.
class RestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = &shared_env();
    ASSERT_TRUE(env_->ok()) << env_->error();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "dashboard log:\n" << env_->dashboard_log() << std::endl;
  }

  DashboardEnv* env_ = nullptr;
};

/// A worker's znode (/workers/ID, and /assign/ID) on a session of its own: it goes with the
/// session.
std::unique_ptr<client::BlockingClient> start_worker(DashboardEnv& env, const std::string& id,
                                                     int slots);

/// A status with one run per worker in `workers` (attempts 1, 2...), the last one in
/// `state` (the earlier ones cut off: running, never finished).
TaskStatus status_of(TaskState state, const std::vector<std::string>& workers,
                     const std::string& result);

/// True once /status/T is gone (archived).
bool status_gone(DashboardEnv& env, const std::string& task);

}  // namespace corral::mw::test
