// corral-bench against a real 3-server ensemble (Corral, or Apache ZooKeeper 3.8 with
// ENSEMBLE_IMPL=zookeeper): every workload, a second each with few sessions, must complete
// with operations, no errors, sane figures and the servers' CPU; the run's nodes must be gone
// afterwards; and when a member is killed mid-run the failed operations must be reported
// (exit status 3, counted per error code), not dropped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "corral/client/blocking.h"
#include "tests/e2e/ensemble.h"

extern char** environ;

namespace {

using corral::client::BlockingClient;
using corral::client::ErrorCode;
using corral::e2e::Ensemble;
using Clock = std::chrono::steady_clock;

/// corral-bench running as a child, its stdout and stderr in files.
class BenchProcess {
 public:
  BenchProcess(const std::vector<std::string>& args, const std::filesystem::path& dir)
      : out_(dir / "bench.out"), err_(dir / "bench.err") {
    std::vector<char*> argv;
    std::string bin = CORRAL_BENCH_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~BenchProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  /// Waits up to `timeout` for the exit; its status (-1 when killed for taking too long).
  int wait(std::chrono::seconds timeout) {
    auto deadline = Clock::now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }

 private:
  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
};

class BenchSmoke : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Ensemble::Options o;
    o.impl = corral::e2e::impl_from_env();
    o.name = "bench-smoke";
    ensemble_ = new Ensemble(o);
    ASSERT_TRUE(ensemble_->ok()) << ensemble_->error();
    ASSERT_TRUE(ensemble_->start_all(std::chrono::seconds(60))) << ensemble_->describe();
  }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
  }

  static std::string pids() {
    std::string s;
    for (int i = 0; i < ensemble_->size(); ++i) {
      s += (i ? "," : "") + std::to_string(ensemble_->pid(i));
    }
    return s;
  }

  static corral::client::Options client_options() {
    corral::client::Options o;
    o.connect_string = ensemble_->connect_string();
    return o;
  }

  static Ensemble* ensemble_;
};

Ensemble* BenchSmoke::ensemble_ = nullptr;

TEST_F(BenchSmoke, EveryWorkloadCompletesWithSaneFigures) {
  BenchProcess bench({"--connect", ensemble_->connect_string(), "--workload", "all", "--sessions",
                      "3", "--inflight", "4", "--keys", "20", "--warmup", "0.2", "--duration", "1",
                      "--server-pids", pids(), "--root", "/smoke", "--json"},
                     ensemble_->dir());
  int status = bench.wait(std::chrono::seconds(60));
  ASSERT_EQ(status, 0) << bench.err();
  auto doc = nlohmann::json::parse(bench.out());
  ASSERT_EQ(doc["results"].size(), 9u) << bench.out();
  for (const auto& r : doc["results"]) {
    SCOPED_TRACE(r.dump());
    EXPECT_GT(r["ops"].get<uint64_t>(), 0u);
    EXPECT_EQ(r["errors"].get<uint64_t>(), 0u);
    EXPECT_GT(r["ops_per_sec"].get<double>(), 0);
    EXPECT_GT(r["seconds"].get<double>(), 0.9);
    const auto& lat = r["latency_us"];
    EXPECT_GT(lat["p50"].get<double>(), 0);
    EXPECT_LE(lat["p50"].get<double>(), lat["p99"].get<double>());
    EXPECT_LE(lat["p99"].get<double>(), lat["p99.9"].get<double>());
    EXPECT_LE(lat["p99.9"].get<double>(), lat["max"].get<double>());
    EXPECT_EQ(r["server_cpu_seconds"]["per_pid"].size(), 3u);
    EXPECT_GT(r["server_cpu_seconds"]["total"].get<double>(), 0);
    EXPECT_GT(r["ops_per_server_cpu_sec"].get<double>(), 0);
  }
  const auto& watch = doc["results"][5];
  ASSERT_EQ(watch["workload"], "watch");
  // Each round tells all 3 sessions.
  EXPECT_EQ(watch["ops"].get<double>(), 3 * watch["rounds"].get<double>());

  BlockingClient c(client_options());
  ASSERT_TRUE(c.wait_connected(std::chrono::seconds(10)));
  EXPECT_EQ(c.exists("/smoke").error(), ErrorCode::kNoNode) << "the run's nodes were left";
}

TEST_F(BenchSmoke, ErrorsOfAKilledMemberAreReportedNotDropped) {
  BenchProcess bench({"--connect", ensemble_->connect_string(), "--workload", "set", "--sessions",
                      "3", "--inflight", "4", "--keys", "20", "--warmup", "0.2", "--duration", "3",
                      "--root", "/smoke-kill", "--json"},
                     ensemble_->dir());
  // Once a key was set, the lanes are running (not just the keys made, nor the sessions syncing
  // after that): kill the member session 1 is pinned to.
  BlockingClient c(client_options());
  ASSERT_TRUE(c.wait_connected(std::chrono::seconds(10)));
  auto deadline = Clock::now() + std::chrono::seconds(20);
  bool running = false;
  while (!running && Clock::now() < deadline) {
    auto runs = c.children("/smoke-kill");
    if (runs && !runs->children.empty()) {
      std::string dir = "/smoke-kill/" + runs->children[0] + "/keys";
      auto keys = c.children(dir);
      if (keys && keys->children.size() == 20) {
        for (const auto& key : keys->children) {
          auto stat = c.exists(dir + "/" + key);
          if (stat && stat->version > 0) running = true;
        }
      }
    }
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(running) << bench.err();
  ASSERT_TRUE(ensemble_->restart(1));
  int status = bench.wait(std::chrono::seconds(60));
  ASSERT_EQ(status, 3) << bench.out() << bench.err();
  auto r = nlohmann::json::parse(bench.out())["results"][0];
  EXPECT_GT(r["error_counts"].value("ZCONNECTIONLOSS", 0), 0) << r.dump();
  uint64_t counted = 0;
  for (const auto& [code, n] : r["error_counts"].items()) counted += n.get<uint64_t>();
  EXPECT_EQ(r["errors"].get<uint64_t>(), counted) << r.dump();
  EXPECT_GT(r["connection_losses"].get<uint64_t>(), 0u);
  EXPECT_GT(r["ops"].get<uint64_t>(), 0u);
  EXPECT_NE(bench.out().find("ZCONNECTIONLOSS"), std::string::npos);
  ensemble_->wait_for_quorum(Clock::now() + std::chrono::seconds(30));
}

}  // namespace
