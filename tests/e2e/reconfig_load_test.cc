// Dynamic reconfiguration under client load, end to end (docs/design/reconfig.md, stage S6):
// a 3-member ensemble with reconfigEnabled and a super digest grows to 5 and shrinks back to
// 3 while 4 clients (Apache's C client) write and read through e2e::History and each own an
// ephemeral node. The steps: {1,2,3} serve -> joiners 4 and 5 start (each zoo.cfg lists 1, 2,
// 3 and itself) -> `reconfig -add` 4 and 5 as participants -> `reconfig -remove` the leader
// and one more original member -> those two are killed -> writes go on -> a rolling restart
// of the remaining three on the zoo.cfg each started with. Checks: the history
// is clean and every acknowledged write is on every remaining member; every client keeps its
// session and its ephemeral; /zookeeper/config is the same on the remaining members and lists
// exactly them as participants; Corral's `dgst` digests agree.
//
// The same binary runs against Apache ZooKeeper 3.8 (ENSEMBLE_IMPL=zookeeper) to prove the
// test itself. ENSEMBLE_KEEP=1 keeps the servers' directories.
#include <gtest/gtest.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/c_client_ops.h"
#include "tests/e2e/ensemble.h"
#include "tests/e2e/history.h"
#include "tests/e2e/raw_client.h"

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kSessionTimeoutMs = 10000;  // the maximum with tickTime=500 (20 ticks)
constexpr int kClients = 4;
constexpr int kKeys = 4;           // shared nodes every client sets
constexpr uint64_t kPerStep = 30;  // acknowledged writes each client makes after each step
const std::string kPrefix = "/load";
// base64(sha1("super:test")): ZooKeeper takes the zoo.cfg key as the system property
// zookeeper.DigestAuthenticationProvider.superDigest, Corral reads it itself.
constexpr const char* kSuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

Impl g_impl = Impl::kCorral;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// ---- The load: kClients sessions over every member's address, each owning an ephemeral ----

class Load {
 public:
  explicit Load(std::string hosts) : hosts_(std::move(hosts)) {
    for (int c = 0; c < kClients; ++c) threads_.emplace_back([this, c] { run(c); });
  }
  ~Load() { stop(); }

  /// Stops the loops; the sessions stay open (and their ephemerals) until the Load goes.
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  /// Acknowledged writes of each client so far.
  std::vector<uint64_t> acked() const {
    std::vector<uint64_t> out;
    for (const auto& a : acked_) out.push_back(a);
    return out;
  }
  /// Polls until every client has `more` acknowledged writes beyond `base` (false at the
  /// deadline or once a client gave up).
  bool wait_progress(const std::vector<uint64_t>& base, uint64_t more, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      bool all = true;
      for (size_t c = 0; c < kClients; ++c) all = all && acked_[c] >= base[c] + more;
      if (all) return true;
      if (Clock::now() >= deadline || lost_ > 0) return false;
      std::this_thread::sleep_for(2ms);
    }
  }
  /// Sessions that did not reconnect within the timeout, or expired (each client then stops).
  int lost() const { return lost_; }
  /// Each client's session id, taken when it created its ephemeral (0 if it never did).
  std::vector<int64_t> sessions() const {
    std::vector<int64_t> out;
    for (const auto& s : sessions_) out.push_back(s);
    return out;
  }
  /// After stop(): each client's session id now, once connected (0 if it is not within 10 s).
  std::vector<int64_t> live_sessions() {
    std::vector<int64_t> out;
    for (auto& zk : zks_) out.push_back(zk && zk->wait_connected(10s) ? zk->session_id() : 0);
    return out;
  }
  /// Client c's ephemeral node.
  static std::string ephemeral(int c) { return kPrefix + "/eph-" + std::to_string(c); }
  /// The longest time, in ms, between two acknowledged writes of any one client.
  double longest_gap_ms() const { return longest_gap_ms_; }

 private:
  void run(int c) {
    zks_[static_cast<size_t>(c)] = std::make_unique<Zk>(hosts_, kSessionTimeoutMs);
    Zk& zk = *zks_[static_cast<size_t>(c)];
    if (!zk.wait_connected(30s) || create_op(zk, ephemeral(c), "mine", ZOO_EPHEMERAL) != ZOK) {
      ++lost_;
      return;
    }
    sessions_[static_cast<size_t>(c)] = zk.session_id();
    auto last_ack = Clock::now();
    for (uint64_t n = 0; !stop_; ++n) {
      const std::string value = "c" + std::to_string(c) + "-" + std::to_string(n);
      const std::string key = kPrefix + "/k" + std::to_string((n * 7 + c) % kKeys);
      int rc;
      bool write = n % 3 != 2;
      if (write)
        rc = n % 10 == 0 ? create_op(zk, kPrefix + "/n-" + value, value) : set_op(zk, key, value);
      else
        rc = get_op(zk, key, n % 2 == 0);
      if (rc == ZOK && write) {
        ++acked_[static_cast<size_t>(c)];
        const double gap = ms_since(last_ack);
        last_ack = Clock::now();
        double seen = longest_gap_ms_;
        while (gap > seen && !longest_gap_ms_.compare_exchange_weak(seen, gap)) {
        }
      }
      if (outcome_of(rc) != Outcome::kUnknown) continue;
      // The member went away: the same session must come back on another one.
      if (!zk.wait_connected(std::chrono::milliseconds(kSessionTimeoutMs))) {
        ++lost_;
        return;
      }
    }
  }

  std::string hosts_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_[kClients] = {};
  std::atomic<int64_t> sessions_[kClients] = {};
  std::atomic<int> lost_{0};
  std::atomic<double> longest_gap_ms_{0};
  std::unique_ptr<Zk> zks_[kClients];
  std::vector<std::thread> threads_;
};

// ---- The ensemble: 5 members, of which 1, 2, 3 start as the ensemble and 4, 5 join ----

/// The "server.N=..." lines Ensemble wrote into member 0's zoo.cfg, by id.
std::map<int, std::string> server_lines(const Ensemble& e) {
  std::map<int, std::string> out;
  std::ifstream in(e.member_dir(0) / "zoo.cfg");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("server.", 0) == 0) out[std::stoi(line.substr(7))] = line;
  }
  return out;
}

/// Rewrites each member's zoo.cfg so that members 1, 2, 3 list only themselves and each
/// joiner lists 1, 2, 3 and itself. `lines` are server_lines() before that.
bool list_initial_members(const Ensemble& e, const std::map<int, std::string>& lines) {
  if (lines.size() != 5) return false;
  for (int i = 0; i < e.size(); ++i) {
    const auto path = e.member_dir(i) / "zoo.cfg";
    std::ifstream in(path);
    std::string kept;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("server.", 0) != 0) kept += line + "\n";
    }
    in.close();
    for (int id = 1; id <= 5; ++id) {
      if (id <= 3 || id == i + 1) kept += lines.at(id) + "\n";
    }
    std::ofstream(path) << kept;
  }
  return true;
}

/// The reconfig spec of member i as a participant: its server line (from the `lines` of all
/// five, taken before ZooKeeper moves them out of zoo.cfg) plus its client address.
std::string participant_spec(const Ensemble& e, const std::map<int, std::string>& lines, int i) {
  return lines.at(i + 1) + ":participant;" + e.host_port(i);
}

/// The config text `zh`'s server holds, or "" on an error.
std::string config_of(zhandle_t* zh) {
  char buf[4096];
  int len = sizeof buf;
  Stat st{};
  if (zoo_getconfig(zh, 0, buf, &len, &st) != ZOK) return "";
  return std::string(buf, std::max(len, 0));
}

/// A config text's server ids, and whether each line names a participant.
std::map<int, bool> members_of(const std::string& config) {
  std::map<int, bool> out;
  std::istringstream in(config);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("server.", 0) == 0)
      out[std::stoi(line.substr(7))] = line.find(":participant") != std::string::npos;
  }
  return out;
}

/// The lines of a text, sorted (ZooKeeper prints members in its maps' order).
std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

/// Issues a reconfig (joining or leaving, comma-separated) through a super session on
/// `hosts` until `done` holds for the config it reports, retrying while the ensemble is not
/// ready (ZNEWCONFIGNOQUORUM, ZRECONFIGINPROGRESS) or the connection is lost. The last error.
template <class Done>
int reconfig_until(const std::string& hosts, const char* joining, const char* leaving, Done done,
                   Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  int rc = ZOPERATIONTIMEOUT;
  while (Clock::now() < deadline) {
    Zk admin(hosts, kSessionTimeoutMs);
    if (!admin.wait_connected(10s) || add_super_auth(admin.zh()) != ZOK) continue;
    if (done(config_of(admin.zh()))) return ZOK;  // an earlier try whose answer was lost
    char buf[4096];
    int len = sizeof buf;
    Stat st{};
    rc = zoo_reconfig(admin.zh(), joining, leaving, nullptr, -1, buf, &len, &st);
    if (rc == ZOK) return done(std::string(buf, std::max(len, 0))) ? ZOK : ZBADARGUMENTS;
    if (rc != ZNEWCONFIGNOQUORUM && rc != ZRECONFIGINPROGRESS &&
        outcome_of(rc) != Outcome::kUnknown)
      return rc;
    std::this_thread::sleep_for(100ms);  // a retry pace, not a wait for a condition
  }
  return rc;
}

// ---- Final checks ----

/// Polls until every member in `members` reports the same config text; those texts.
std::vector<std::string> agreed_configs(const Ensemble& e, const std::vector<int>& members) {
  std::vector<std::string> out;
  const auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline) {
    out.clear();
    for (int i : members) {
      Zk zk(e.host_port(i), kSessionTimeoutMs);
      out.push_back(zk.wait_connected(10s) && sync_path(zk.zh(), "/") == ZOK ? config_of(zk.zh())
                                                                             : "");
    }
    bool same = !out[0].empty();
    for (const auto& c : out) same = same && sorted_lines(c) == sorted_lines(out[0]);
    if (same) return out;
    std::this_thread::sleep_for(50ms);
  }
  return out;
}

/// Every member's `dgst` once all of `members` stand at the same zxid (empty if never).
std::vector<std::string> agreed_digests(const Ensemble& e, const std::vector<int>& members) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    std::vector<std::string> out;
    for (int i : members)
      out.push_back(four_letter_word(e.client_port(i), "dgst", 2000ms).value_or(""));
    auto zxid = [](const std::string& d) { return d.substr(0, d.find('\n')); };
    bool same = true;
    for (const auto& d : out) same = same && !d.empty() && zxid(d) == zxid(out[0]);
    if (same) return out;
    std::this_thread::sleep_for(20ms);
  }
  return {};
}

/// Each member's view (after a sync) of every path written under kPrefix.
std::vector<ServerState> final_states(const Ensemble& e, const std::vector<int>& members) {
  std::set<std::string> paths;
  for (const auto& op : g_history.ops())
    if (op.kind != OpKind::kGet && op.outcome != Outcome::kFailed) paths.insert(op.path);
  std::vector<ServerState> states;
  for (int i : members) {
    Zk zk(e.host_port(i), kSessionTimeoutMs);
    EXPECT_TRUE(zk.wait_connected(10s)) << "member " << i;
    EXPECT_EQ(sync_path(zk.zh(), kPrefix), ZOK) << "member " << i;
    ServerState state;
    for (const std::string& p : paths) {
      char buf[1024];
      int len = sizeof buf;
      Stat st{};
      int rc = zoo_get(zk.zh(), p.c_str(), 0, buf, &len, &st);
      EXPECT_TRUE(rc == ZOK || rc == ZNONODE) << p << " on member " << i << ": " << zerror(rc);
      if (rc == ZOK)
        state[p] = NodeState{true, std::string(buf, std::max(len, 0)), st.mzxid, stat_text(st)};
    }
    states.push_back(std::move(state));
  }
  return states;
}

// ---- The scenario ----

class ReconfigLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Ensemble::Options o;
    o.impl = g_impl;
    o.size = 5;
    o.name = "corral-reconfig-load";
    o.extra_cfg = "reconfigEnabled=true\nforceSync=no\nDigestAuthenticationProvider.superDigest=" +
                  std::string(kSuperDigest) + "\n";
    o.jvm_args = {std::string("-Dzookeeper.DigestAuthenticationProvider.superDigest=") +
                  kSuperDigest};
    ens_ = std::make_unique<Ensemble>(o);
    ASSERT_TRUE(ens_->ok()) << ens_->error();
    lines_ = server_lines(*ens_);
    ASSERT_TRUE(list_initial_members(*ens_, lines_));
    log_ = std::fopen((ens_->dir() / "client.log").c_str(), "w");
    if (log_) zoo_set_log_stream(log_);
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::printf("%s", ens_->describe(6000).c_str());
      ens_->keep_dir();
    }
    ens_.reset();
    zoo_set_log_stream(stderr);
    if (log_) std::fclose(log_);
  }
  Ensemble& ens() { return *ens_; }

  std::unique_ptr<Ensemble> ens_;
  std::map<int, std::string> lines_;  // every member's "server.N=" line
  FILE* log_ = nullptr;
};

TEST_F(ReconfigLoadTest, ThreeToFiveToThreeUnderLoad) {
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ens().start(i));
  ASSERT_GE(ens().wait_for_quorum(Clock::now() + 60s), 0) << "{1,2,3} did not form";
  {
    Zk zk(ens().connect_string({0, 1, 2}), kSessionTimeoutMs);
    ASSERT_TRUE(zk.wait_connected(30s));
    ASSERT_EQ(create_op(zk, kPrefix, "root"), ZOK);
    for (int k = 0; k < kKeys; ++k)
      ASSERT_EQ(create_op(zk, kPrefix + "/k" + std::to_string(k), "init"), ZOK);
  }
  Load load(ens().connect_string());
  ASSERT_TRUE(load.wait_progress(load.acked(), kPerStep, 30s)) << "no progress on {1,2,3}";
  const std::vector<int64_t> sessions = load.sessions();

  // Joiners 4 and 5 sync as non-voting followers, then become participants.
  ASSERT_TRUE(ens().start(3) && ens().start(4));
  ASSERT_TRUE(ens().wait_serving(3, Clock::now() + 60s)) << "joiner 4 does not serve";
  ASSERT_TRUE(ens().wait_serving(4, Clock::now() + 60s)) << "joiner 5 does not serve";
  const std::string joining =
      participant_spec(ens(), lines_, 3) + "," + participant_spec(ens(), lines_, 4);
  auto has_five = [](const std::string& c) {
    auto m = members_of(c);
    return m.size() == 5 && m.count(4) && m[4] && m.count(5) && m[5];
  };
  auto t = Clock::now();
  ASSERT_EQ(
      reconfig_until(ens().connect_string({0, 1, 2}), joining.c_str(), nullptr, has_five, 30s),
      ZOK);
  const double add_ms = ms_since(t);
  ASSERT_TRUE(load.wait_progress(load.acked(), kPerStep, 30s)) << "no progress on 5 members";

  // Remove the leader and one more original member.
  const int leader = ens().wait_for_quorum(Clock::now() + 30s);
  ASSERT_TRUE(leader >= 0 && leader < 3) << "leader " << leader;
  const int other = leader == 0 ? 1 : 0;
  std::vector<int> remaining;
  for (int i = 0; i < 5; ++i)
    if (i != leader && i != other) remaining.push_back(i);
  const std::string leaving = std::to_string(leader + 1) + "," + std::to_string(other + 1);
  auto without = [&](const std::string& c) {
    auto m = members_of(c);
    return m.size() == 3 && !m.count(leader + 1) && !m.count(other + 1);
  };
  t = Clock::now();
  ASSERT_EQ(reconfig_until(ens().connect_string(remaining), nullptr, leaving.c_str(), without, 30s),
            ZOK);
  const double remove_ms = ms_since(t);
  ASSERT_TRUE(ens().kill9(leader)) << "the removed leader had died by itself";
  ASSERT_TRUE(ens().kill9(other)) << "the removed member had died by itself";
  const int final_leader = ens().wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(final_leader, 0) << "the remaining members have no quorum";
  ASSERT_TRUE(std::count(remaining.begin(), remaining.end(), final_leader));
  ASSERT_TRUE(load.wait_progress(load.acked(), kPerStep, 30s)) << "writes stopped on 3 members";

  // A rolling restart on the zoo.cfg each member started with (which still lists 1, 2, 3, or
  // 1, 2, 3 and itself): the members must come back in the new config they learned.
  t = Clock::now();
  for (int i : remaining) {
    ASSERT_TRUE(ens().restart(i)) << "member " << i + 1;
    ASSERT_GE(ens().wait_for_quorum(Clock::now() + 30s), 0)
        << "no quorum after restarting member " << i + 1;
    ASSERT_TRUE(load.wait_progress(load.acked(), kPerStep / 3, 30s))
        << "writes stopped after restarting member " << i + 1;
  }
  const double rolling_ms = ms_since(t);
  load.stop();
  std::printf(
      "  %s: add took %.0f ms; remove (leader %d and %d) %.0f ms, leader at the end %d; rolling "
      "restart %.0f ms; longest pause between one client's writes %.0f ms; whole run %.0f ms\n",
      impl_name(g_impl), add_ms, leader + 1, other + 1, remove_ms, final_leader + 1, rolling_ms,
      load.longest_gap_ms(), ms_since(t0));

  EXPECT_EQ(load.lost(), 0) << "client sessions were lost";
  EXPECT_EQ(load.live_sessions(), sessions) << "a client's session is not the one it began";
  for (int i : remaining) {
    Zk zk(ens().host_port(i), kSessionTimeoutMs);
    ASSERT_TRUE(zk.wait_connected(10s));
    ASSERT_EQ(sync_path(zk.zh(), kPrefix), ZOK);
    for (int c = 0; c < kClients; ++c) {
      Stat st{};
      EXPECT_EQ(zoo_exists(zk.zh(), Load::ephemeral(c).c_str(), 0, &st), ZOK)
          << "member " << i + 1 << " lost client " << c << "'s ephemeral";
      EXPECT_EQ(st.ephemeralOwner, sessions[static_cast<size_t>(c)]) << "member " << i + 1;
    }
  }

  const auto configs = agreed_configs(ens(), remaining);
  for (size_t k = 0; k < configs.size(); ++k)
    EXPECT_EQ(sorted_lines(configs[k]), sorted_lines(configs[0]))
        << "member " << remaining[k] + 1 << "'s /zookeeper/config differs";
  std::printf("  final /zookeeper/config:\n%s\n", configs[0].c_str());
  auto members = members_of(configs[0]);
  EXPECT_EQ(members.size(), 3u) << configs[0];
  for (int i : remaining) EXPECT_TRUE(members.count(i + 1) && members[i + 1]) << configs[0];
  if (g_impl == Impl::kCorral) {
    const auto digests = agreed_digests(ens(), remaining);
    ASSERT_EQ(digests.size(), remaining.size()) << "the members never stood at one zxid";
    for (const auto& d : digests) EXPECT_EQ(d, digests[0]);
  }

  HistoryChecker checker(g_history.ops());
  auto v = checker.check();
  auto f = checker.final_state(final_states(ens(), remaining), kPrefix);
  v.insert(v.end(), f.begin(), f.end());
  for (size_t i = 0; i < v.size() && i < 20; ++i) ADD_FAILURE() << v[i];
  EXPECT_TRUE(v.empty()) << v.size() << " history violations";
  const HistoryStats s = checker.stats();
  std::printf("  history: %zu ops; writes ok %zu unknown %zu failed %zu; reads ok %zu\n", s.ops,
              s.writes_ok, s.writes_unknown, s.writes_failed, s.reads_ok);
}

}  // namespace
}  // namespace corral::e2e

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  corral::e2e::g_impl = corral::e2e::impl_from_env();
  return RUN_ALL_TESTS();
}
