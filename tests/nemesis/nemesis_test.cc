// Fault injection against a corral-server ensemble in network namespaces (runner.h): the
// seeds of CI are fixed; CORRAL_NEMESIS_SEED=<n> repeats one run, CORRAL_NEMESIS_SEEDS=<k>
// runs k seeds from there (long mode), CORRAL_NEMESIS_DURATION_S=<s> sets each run's faults'
// time. Needs root, `ip netns` and iptables; without them each test is skipped, saying why.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/nemesis/churn.h"
#include "tests/nemesis/cluster.h"
#include "tests/nemesis/netns.h"
#include "tests/nemesis/runner.h"
#include "tests/nemesis/session.h"

namespace corral::nemesis {
namespace {

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// Runs the configured seeds for `members` members; CI's default is `ci_seed` alone.
void run_seeds(int members, uint64_t ci_seed) {
  if (std::string why = unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  const uint64_t first = env_number("CORRAL_NEMESIS_SEED", ci_seed);
  const uint64_t count = env_number("CORRAL_NEMESIS_SEEDS", 1);
  RunConfig cfg;
  cfg.members = members;
  cfg.duration = std::chrono::seconds(env_number("CORRAL_NEMESIS_DURATION_S", 8));
  for (uint64_t seed = first; seed < first + count; ++seed) {
    cfg.seed = seed;
    std::printf(
        "nemesis: %d members, seed %llu, %llds of faults "
        "(reproduce with CORRAL_NEMESIS_SEED=%llu)\n",
        members, static_cast<unsigned long long>(seed),
        static_cast<long long>(cfg.duration.count() / 1000), static_cast<unsigned long long>(seed));
    std::fflush(stdout);
    RunReport r = run_nemesis(cfg);
    std::printf("%s", r.log.c_str());
    std::string all;
    for (const auto& e : r.errors) all += "  error: " + e + "\n";
    for (size_t i = 0; i < r.violations.size() && i < 30; ++i)
      all += "  violation: " + r.violations[i] + "\n";
    EXPECT_TRUE(r.errors.empty() && r.violations.empty())
        << "seed " << seed << " (reproduce with CORRAL_NEMESIS_SEED=" << seed
        << "): " << r.errors.size() << " errors, " << r.violations.size() << " violations\n"
        << all << r.cluster_state;
  }
}

// True when no server has `path` (every server answers).
bool gone_everywhere(Cluster& cluster, const std::string& path) {
  for (int i = 0; i < cluster.size(); ++i) {
    Session s(cluster.host_port(i), std::chrono::milliseconds(4000));
    auto r = s.connected() ? s.exists(path) : std::nullopt;
    if (!r || r->error() != ErrorCode::kNoNode) return false;
  }
  return true;
}

// The shape seed 1 found: a session closed through a follower while the leader is silent
// (SIGSTOP), so the close is forwarded but never committed, and that follower then leads.
// The session's owner is gone, so the session must still expire and its ephemeral go, as in
// ZooKeeper, where a new leader tracks every session of its tree afresh (ZOOKEEPER-1208 and
// ZOOKEEPER-2355 were ephemerals outliving their sessions).
TEST(Nemesis, SessionClosedDuringLeaderPauseStillExpires) {
  using namespace std::chrono_literals;
  if (std::string why = unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  Topology net(3);
  ASSERT_TRUE(net.ok()) << net.error();
  Cluster cluster(net, 200);
  for (int i = 0; i < 3; ++i) cluster.start(i);
  const int leader = cluster.wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(leader, 0) << cluster.describe();
  // With equal zxids the highest server id wins the next election.
  const int follower = leader == 2 ? 1 : 2;
  {
    Session setup(cluster.connect_string(), 4000ms);
    ASSERT_TRUE(setup.create(kEphemeralRoot, "", client::CreateMode::kPersistent));
  }
  const std::string path = std::string(kEphemeralRoot) + "/lonely";
  OwnerProcess owner(cluster.host_port(follower), 1500, {path});
  EphemeralSession session;
  int granted_ms = 0;
  ASSERT_TRUE(owner.wait_ready(Clock::now() + 15s, session, granted_ms));
  ASSERT_EQ(session.created.size(), 1u);

  // The follower forwards the close to the silent leader, which never answers; the follower
  // gives up on it, and wins the election that follows.
  ASSERT_TRUE(cluster.pause(leader));
  const bool closed = owner.close_session(Clock::now() + 10s);
  owner.kill9();
  // The others elect a leader while the old one is still paused; then it comes back.
  const int new_leader = cluster.wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(new_leader, 0) << cluster.describe();
  ASSERT_TRUE(cluster.resume(leader));
  ASSERT_GE(cluster.wait_for_quorum(Clock::now() + 30s), 0) << cluster.describe();
  const auto healed = Clock::now();
  std::printf(
      "session 0x%llx closed through s%d (close answered: %d), leader s%d paused; s%d leads\n",
      static_cast<unsigned long long>(session.session_id), follower + 1, closed, leader + 1,
      new_leader + 1);
  const auto deadline = healed + std::chrono::milliseconds(granted_ms) + 2s;
  bool gone = false;
  while (!(gone = gone_everywhere(cluster, path)) && Clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(gone) << path << " of session 0x" << std::hex << session.session_id << std::dec
                    << " (timeout " << granted_ms << " ms, closed through s" << follower + 1
                    << " while leader s" << leader + 1 << " was paused, close answered: " << closed
                    << "; s" << new_leader + 1 << " leads now) is still there "
                    << std::chrono::duration<double>(Clock::now() - healed).count()
                    << "s after the ensemble recovered\n"
                    << cluster.describe(800);
}

TEST(Nemesis, ThreeServersSeed1) { run_seeds(3, 1); }
TEST(Nemesis, ThreeServersSeed2) { run_seeds(3, 2); }
TEST(Nemesis, FiveServersSeed3) { run_seeds(5, 3); }

}  // namespace
}  // namespace corral::nemesis
