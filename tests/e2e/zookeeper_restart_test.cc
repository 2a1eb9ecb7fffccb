// The test harness against its oracle: Apache ZooKeeper 3.8 cannot start again after a SIGKILL
// between creating a new txn log and flushing its 16-byte header (ZOOKEEPER-1621); the
// harness (Ensemble::start) removes such a log first, and the tests that restart killed
// ZooKeeper members rely on it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/e2e/ensemble.h"

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(ZooKeeperRestart, AMemberKilledBeforeItsNewLogHadAHeaderStartsAgain) {
  Ensemble::Options options;
  options.impl = Impl::kZooKeeper;
  options.name = "corral-zookeeper-restart";
  Ensemble ensemble(options);
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  ASSERT_TRUE(ensemble.start_all()) << ensemble.error() << "\n" << ensemble.describe();
  const int victim = 0;
  ASSERT_TRUE(ensemble.kill9(victim));
  const auto logs = ensemble.member_dir(victim) / "data" / "version-2";
  std::ofstream(logs / "log.7fffffff00000000").close();                      // created, nothing yet
  std::ofstream(logs / "log.7fffffff00000001", std::ios::binary) << "ZKLG";  // half a header
  ASSERT_TRUE(ensemble.start(victim));
  ASSERT_TRUE(ensemble.wait_serving(victim, Clock::now() + 60s)) << ensemble.describe();
  EXPECT_FALSE(std::filesystem::exists(logs / "log.7fffffff00000000"));
  EXPECT_FALSE(std::filesystem::exists(logs / "log.7fffffff00000001"));
  EXPECT_EQ(ensemble.count_in_log(victim, "a txn log without its header"), 2u)
      << ensemble.log(victim, 4000);
}

}  // namespace
}  // namespace corral::e2e
