// `corral config` and `corral reconfig` against a 3-server Apache ZooKeeper 3.8 ensemble with
// reconfigEnabled=true and a super digest, next to zkCli.sh running the same commands: both
// must print the same lines. Plus the usage errors of mixed reconfig modes, and a Corral
// ensemble's ZRECONFIGDISABLED.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/ensemble.h"

namespace corral::cli {
namespace {

constexpr const char* kSuperDigest =
    "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
constexpr const char* kZkCli = "/usr/share/zookeeper/bin/zkCli.sh";

/// What a command printed on stdout (stderr kept apart) and its exit status.
struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `command` through the shell, stdin from `input`.
CliRun run_shell(const std::string& command, const std::string& input = "") {
  std::string err_file = testing::TempDir() + "cli_reconfig_err.txt";
  std::string in_file = testing::TempDir() + "cli_reconfig_in.txt";
  std::ofstream(in_file) << input;
  CliRun r;
  FILE* pipe = popen((command + " <" + in_file + " 2>" + err_file).c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) r.out.append(buf, n);
  int status = pclose(pipe);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  std::stringstream err;
  err << std::ifstream(err_file).rdbuf();
  r.err = err.str();
  return r;
}

std::string quoted(const std::string& word) { return "'" + word + "'"; }

/// corral -s HOSTS [-a super] WORDS...
CliRun corral(const std::string& hosts, const std::vector<std::string>& words, bool super = false) {
  std::string cmd = std::string(CORRAL_CLI_BIN) + " -s " + quoted(hosts);
  if (super) cmd += " -a digest:super:test";
  for (const auto& w : words) cmd += " " + quoted(w);
  return run_shell(cmd);
}

/// zkCli.sh fed `lines` (then quit) on stdin, as a user pastes commands into it.
CliRun zkcli(const std::string& hosts, const std::vector<std::string>& lines) {
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  return run_shell(std::string("timeout 60 ") + kZkCli + " -server " + quoted(hosts),
                   input + "quit\n");
}

class CliReconfig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    e2e::Ensemble::Options o;
    o.impl = e2e::Impl::kZooKeeper;
    o.name = "corral-cli-reconfig";
    o.extra_cfg = "reconfigEnabled=true\n";
    o.jvm_args = {kSuperDigest};
    zk_ = new e2e::Ensemble(o);
    if (!zk_->ok() || !zk_->start_all(std::chrono::seconds(60))) {
      ADD_FAILURE() << "ZooKeeper did not start: " << zk_->error();
      delete zk_;
      zk_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete zk_;
    zk_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(zk_, nullptr) << "no ZooKeeper ensemble"; }
  static e2e::Ensemble* zk_;
};
e2e::Ensemble* CliReconfig::zk_ = nullptr;

// zkCli.sh's output without its banner, connection events and blank lines.
std::string zkcli_results(const std::string& out) {
  std::string kept;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line == "WATCHER::" || line == "Welcome to ZooKeeper!" ||
        line == "JLine support is disabled" || line.rfind("Connecting to ", 0) == 0 ||
        line.rfind("WatchedEvent state:", 0) == 0)
      continue;
    kept += line + "\n";
  }
  return kept;
}

// `text` with every config version (hex after "version=", or opening a `config -c` line)
// replaced by "V" (the two clients' changes get different versions), and each run of
// server.N lines sorted: ZooKeeper's servers order them as their maps happen to (the same
// config read from the leader and from a follower may differ).
std::string normalized(const std::string& text) {
  std::string s = std::regex_replace(text, std::regex("version=[0-9a-f]+"), "version=V");
  s = std::regex_replace(s, std::regex("^[0-9a-f]+ ", std::regex::multiline), "V ");
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (auto it = lines.begin(); it != lines.end();) {
    auto is_server = [](const std::string& l) { return l.rfind("server.", 0) == 0; };
    auto end = std::find_if_not(it, lines.end(), is_server);
    std::sort(it, end);
    it = end == lines.end() ? end : end + 1;
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// An observer like kazoo's TestReconfig's, never started, in upper case where zkCli
// lower-cases.
std::string observer_spec(int id = 100) {
  return "server." + std::to_string(id) + "=127.0.0.1:" + std::to_string(e2e::pick_listen_port()) +
         ":" + std::to_string(e2e::pick_listen_port()) +
         ":OBSERVER;127.0.0.1:" + std::to_string(e2e::pick_listen_port());
}

TEST_F(CliReconfig, ConfigPrintsWhatZkCliPrints) {
  std::string hosts = zk_->connect_string();
  CliRun zk = zkcli(hosts, {"config", "config -c"});
  ASSERT_EQ(zk.exit_code, 0) << zk.out << zk.err;
  CliRun plain = corral(hosts + "/chroot/is/ignored", {"config"});
  CliRun client = corral(hosts, {"config", "-c"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(client.exit_code, 0) << client.err;
  EXPECT_EQ(normalized(plain.out + client.out), normalized(zkcli_results(zk.out)));
  EXPECT_NE(plain.out.find("\nversion="), std::string::npos) << plain.out;
}

TEST_F(CliReconfig, ReconfigAddAndRemovePrintWhatZkCliPrints) {
  std::string hosts = zk_->connect_string();
  // server.10 comes first in Java's Properties order (its hash bin is before server.1's, 2's
  // and 3's), last in the text: `config -c` must print its address first, as zkCli does.
  std::string spec = observer_spec(10);
  CliRun zk = zkcli(hosts, {"addauth digest super:test", "reconfig -add " + spec, "config -c",
                            "reconfig -remove 10"});
  ASSERT_EQ(zk.exit_code, 0) << zk.out << zk.err;
  CliRun add = corral(hosts, {"reconfig", "-add", spec}, true);
  CliRun client = corral(hosts, {"config", "-c"});
  CliRun remove = corral(hosts, {"reconfig", "-remove", "10"}, true);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  std::string ours = add.out + client.out + remove.out;
  EXPECT_EQ(normalized(ours), normalized(zkcli_results(zk.out)));
  // What a user checks: the observer came (lower-cased, with its client address) and went.
  EXPECT_NE(add.out.find(":observer;127.0.0.1:"), std::string::npos) << add.out;
  EXPECT_EQ(add.out.rfind("Committed new configuration:\n", 0), 0u) << add.out;
  EXPECT_EQ(remove.out.find("server.10="), std::string::npos) << remove.out;
  EXPECT_TRUE(std::regex_match(client.out, std::regex("[0-9a-f]+ 127\\.0\\.0\\.1:[0-9]+,,,\n")))
      << client.out;
}

TEST_F(CliReconfig, MembersFromAFileAndAStaleVersion) {
  std::string hosts = zk_->connect_string();
  CliRun before = corral(hosts, {"--json", "config"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  auto json = nlohmann::json::parse(before.out);
  std::string config = json["config"], version = json["version"];
  std::string members = config.substr(0, config.rfind("version="));

  // A dynamic config file: the members as they are, plus the observer.
  std::string file = testing::TempDir() + "cli_reconfig.dynamic";
  std::ofstream(file) << "# members\n" << members << observer_spec() << "\n";
  CliRun stale = corral(hosts, {"reconfig", "-v", "1", "-file", file}, true);
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.err.find("ZBADVERSION"), std::string::npos) << stale.err;
  CliRun grown = corral(hosts, {"reconfig", "-v", version, "-file", file}, true);
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  EXPECT_NE(grown.out.find("server.100="), std::string::npos) << grown.out;

  // -members takes them comma-separated, back to the three.
  std::string list =
      std::regex_replace(members.substr(0, members.size() - 1), std::regex("\n"), ",");
  CliRun shrunk = corral(hosts, {"reconfig", "-members", list}, true);
  ASSERT_EQ(shrunk.exit_code, 0) << shrunk.err;
  EXPECT_EQ(shrunk.out.find("server.100="), std::string::npos) << shrunk.out;
}

TEST_F(CliReconfig, ConfigWaitsForTheChangeWithW) {
  std::string hosts = zk_->connect_string();
  std::string cmd = "timeout 30 " + std::string(CORRAL_CLI_BIN) + " -s " +
                    quoted(hosts + "/chroot") + " config -w 2>&1 </dev/null";
  FILE* watcher = popen(cmd.c_str(), "r");
  ASSERT_NE(watcher, nullptr);
  // Once the text is printed, the watch is set.
  std::string out;
  char line[1024];
  while (out.find("version=") == std::string::npos && std::fgets(line, sizeof line, watcher))
    out += line;
  CliRun add = corral(hosts, {"reconfig", "-add", observer_spec()}, true);
  CliRun remove = corral(hosts, {"reconfig", "-remove", "100"}, true);
  while (std::fgets(line, sizeof line, watcher)) out += line;
  int status = pclose(watcher);
  EXPECT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(
      out.find("WatchedEvent state:SyncConnected type:NodeDataChanged path:/zookeeper/config"),
      std::string::npos)
      << out;
}

TEST_F(CliReconfig, MixedModesAreUsageErrors) {
  std::string hosts = zk_->connect_string();
  CliRun mixed = corral(hosts, {"reconfig", "-add", "server.5=a:1:2", "-members", "x"}, true);
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("mixing incremental and non-incremental modes is not allowed"),
            std::string::npos)
      << mixed.err;
  CliRun both = corral(hosts, {"reconfig", "-file", "/nonexistent", "-members", "x"}, true);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("conflicting non-incremental modes"), std::string::npos) << both.err;
  CliRun none = corral(hosts, {"reconfig", "-s"}, true);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("usage: reconfig"), std::string::npos) << none.err;
  CliRun bad_hex = corral(hosts, {"reconfig", "-v", "xyz", "-remove", "100"}, true);
  EXPECT_EQ(bad_hex.exit_code, 2) << bad_hex.err;
}

TEST(CliReconfigCorral, ReconfigIsDisabledByName) {
  e2e::Ensemble::Options o;
  o.name = "corral-cli-reconfig";
  e2e::Ensemble corral_ensemble(o);
  ASSERT_TRUE(corral_ensemble.ok() && corral_ensemble.start_all(std::chrono::seconds(30)))
      << corral_ensemble.error();
  std::string hosts = corral_ensemble.connect_string();
  CliRun config = corral(hosts, {"config"});
  ASSERT_EQ(config.exit_code, 0) << config.err;
  EXPECT_NE(config.out.find("\nversion=0\n"), std::string::npos) << config.out;
  CliRun r = corral(hosts, {"reconfig", "-remove", "3"}, true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ZRECONFIGDISABLED"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace corral::cli
