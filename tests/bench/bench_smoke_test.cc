// corral-bench against a real 3-server ensemble (Corral, or Apache ZooKeeper 3.8 with
// ENSEMBLE_IMPL=zookeeper): every workload, a second each with few sessions, must complete
// with operations, no errors, sane figures and the servers' CPU; the run's nodes must be gone
// afterwards; and when a member is killed mid-run the failed operations must be reported
// (exit status 3, counted per error code), not dropped; and a session that expires stops its
// lanes, named in the report, instead of failing calls as fast as they can be made.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
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
  /// SIGSTOP or SIGCONT: a stopped client sends nothing, so its sessions expire.
  void signal(int sig) const { kill(pid_, sig); }
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

  /// Waits until `run_root` holds a run whose 20 keys were all made and one was set: the
  /// lanes are running (not just the keys made, nor the sessions syncing after that).
  static bool wait_for_sets(BlockingClient& c, const std::string& run_root) {
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      auto runs = c.children(run_root);
      if (runs && !runs->children.empty()) {
        std::string dir = run_root + "/" + runs->children[0] + "/keys";
        auto keys = c.children(dir);
        if (keys && keys->children.size() == 20) {
          for (const auto& key : keys->children) {
            auto stat = c.exists(dir + "/" + key);
            if (stat && stat->version > 0) return true;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  /// How many session expiries the members have logged: Corral's "session 0x... expired",
  /// ZooKeeper's "Expiring session 0x..., timeout of ...ms exceeded".
  static int expiries_logged() {
    int n = 0;
    for (int i = 0; i < ensemble_->size(); ++i) {
      std::ifstream log(ensemble_->member_dir(i) / "server.log");
      for (std::string line; std::getline(log, line);) {
        bool corral = line.find("session 0x") != std::string::npos &&
                      line.find(" expired") != std::string::npos;
        if (corral || line.find("Expiring session 0x") != std::string::npos) ++n;
      }
    }
    return n;
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
    EXPECT_GT(r["client_cpu_seconds"].get<double>(), 0);
    // Read from every server's /proc/PID/io (0 only where the data dirs are not on a disk).
    EXPECT_TRUE(r.contains("server_write_bytes")) << "no bytes written read";
    EXPECT_TRUE(r.contains("server_write_bytes_per_op"));
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
  // Once the lanes run, kill the member session 1 is pinned to.
  BlockingClient c(client_options());
  ASSERT_TRUE(c.wait_connected(std::chrono::seconds(10)));
  ASSERT_TRUE(wait_for_sets(c, "/smoke-kill")) << bench.err();
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

TEST_F(BenchSmoke, ExpiredSessionsStopTheirLanesAndAreNamed) {
  BenchProcess bench({"--connect", ensemble_->connect_string(), "--workload", "set", "--sessions",
                      "3", "--inflight", "4", "--keys", "20", "--warmup", "0.2", "--duration", "30",
                      "--session-timeout-ms", "1000", "--root", "/smoke-expire", "--json"},
                     ensemble_->dir());
  BlockingClient c(client_options());
  ASSERT_TRUE(c.wait_connected(std::chrono::seconds(10)));
  ASSERT_TRUE(wait_for_sets(c, "/smoke-expire")) << bench.err();
  // Stopped, the client sends nothing: the ensemble expires its 3 sessions. (Waiting for the
  // servers to close the connections would not do: ZooKeeper closes an idle connection on a
  // clock of its own, which may come before the session's expiry.)
  int before = expiries_logged();
  bench.signal(SIGSTOP);
  auto deadline = Clock::now() + std::chrono::seconds(30);
  bool expired = false;
  while (!(expired = expiries_logged() >= before + 3) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bench.signal(SIGCONT);
  ASSERT_TRUE(expired) << "the ensemble did not expire the stopped client's sessions";
  auto resumed = Clock::now();
  int status = bench.wait(std::chrono::seconds(40));
  // The run ends when its last lane stops, well before its 30 s.
  EXPECT_LT(Clock::now() - resumed, std::chrono::seconds(20));
  ASSERT_EQ(status, 3) << bench.out() << bench.err();
  auto r = nlohmann::json::parse(bench.out())["results"][0];
  EXPECT_EQ(r["sessions_lost"], nlohmann::json::parse("[0, 1, 2]")) << r.dump();
  // Each of the 12 lanes stops at its second ZSESSIONEXPIRED: the first (its call waiting for
  // the reconnection) comes before the session's loss is told. Not millions of them.
  auto expired_calls = r["error_counts"].value("ZSESSIONEXPIRED", 0);
  EXPECT_GE(expired_calls, 12) << r.dump();
  EXPECT_LE(expired_calls, 24) << r.dump();
  EXPECT_NE(bench.err().find("corral-bench: session 0 lost at "), std::string::npos) << bench.err();
}

}  // namespace
