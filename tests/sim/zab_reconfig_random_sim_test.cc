// Random membership changes on the simulated ensemble (zab::Peer with
// reconfig_enabled): servers added as participants or observers, removed, or
// given another role, between random writes, under notification drops,
// connection resets, partitions and crashes, over many seeds. ZabCluster
// checks the config-aware invariants after every step (see zab_cluster.h);
// at the end the network heals, everyone restarts, and the ensemble must
// settle under one config and take a write that reaches every peer.
//
// To study one seed:
//   ZAB_SEED=N ZAB_TRACE=1 zab_reconfig_sim_test --gtest_filter=*RandomMembership*
// ZAB_SEEDS=K runs K seeds (more by hand), from ZAB_FIRST_SEED if set.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/sim/zab_cluster.h"
#include "tests/sim/zab_sim_support.h"

namespace corral::sim {
namespace {

using zab::QuorumConfig;
using zab::QuorumRole;

/// Builds a random ensemble with spares and faults from the seed.
ZabClusterOptions random_reconfig_options(uint64_t seed, std::string& text) {
  std::mt19937_64 setup(seed ^ 0x4ec0f16ull);
  static const int64_t kMaxDelays[] = {1, 5, 20};
  static const double kNotificationDrops[] = {0, 0.05, 0.2};
  static const double kResets[] = {0, 0.0005, 0.003};
  static const int64_t kMaxFsyncs[] = {1, 5, 20};
  static const size_t kHistoryTxns[] = {3, 20, 100000};
  ZabClusterOptions o;
  o.seed = seed;
  o.reconfig_enabled = true;
  o.voters = seed % 2 == 0 ? 3 : 5;
  o.observers = static_cast<int>(setup() % 3 == 0 ? 1 : 0);
  o.spares = static_cast<int>(1 + setup() % 2);
  o.tick_ms = 50;
  o.history_txns = kHistoryTxns[setup() % 3];
  o.faults.max_delay_ms = kMaxDelays[setup() % 3];
  o.faults.notification_drop = kNotificationDrops[setup() % 3];
  o.faults.notification_duplicate = setup() % 2 == 0 ? 0.1 : 0;
  o.faults.connection_reset = kResets[setup() % 3];
  o.faults.max_fsync_ms = kMaxFsyncs[setup() % 3];
  o.log_diffs = setup() % 2 == 0;  // last: the draws before it keep their seeds' values
  text = std::to_string(o.voters) + " voters, " + std::to_string(o.observers) + " observers, " +
         std::to_string(o.spares) + " spares, delay 1-" + std::to_string(o.faults.max_delay_ms) +
         " ms, drop " + std::to_string(o.faults.notification_drop) + ", reset " +
         std::to_string(o.faults.connection_reset) + ", fsync 1-" +
         std::to_string(o.faults.max_fsync_ms) + " ms, history_txns " +
         std::to_string(o.history_txns) + (o.log_diffs ? ", DIFFs from the log" : "");
  return o;
}

/// A random membership change at the serving leader: add a server (as
/// participant or observer), remove one, or change one's role.
void random_reconfig(ZabCluster& c, std::mt19937_64& rng) {
  std::optional<int64_t> leader = c.serving_leader();
  if (!leader) return;
  const QuorumConfig current = *c.peer(*leader)->active_config();
  const std::vector<int64_t> ids = c.ids();
  const int64_t id = ids[rng() % ids.size()];
  const QuorumRole role = rng() % 3 == 0 ? QuorumRole::kObserver : QuorumRole::kParticipant;
  QuorumConfig next = current.role_of(id) == QuorumRole::kAbsent || rng() % 2 == 0
                          ? with_server(current, id, role)
                          : without_server(current, id);
  if (next.servers == current.servers) return;
  c.reconfig(next);
}

/// One random fault (as zab_sim_test's): crash (often the leader), restart,
/// partition, heal.
void random_fault(ZabCluster& c, std::mt19937_64& rng) {
  std::vector<int64_t> up, down;
  for (int64_t id : c.ids()) (c.up(id) ? up : down).push_back(id);
  const int dice = static_cast<int>(rng() % 100);
  if (dice < 30 && !up.empty()) {
    int64_t victim = up[rng() % up.size()];
    if (std::optional<int64_t> l = c.serving_leader(); l && rng() % 2 == 0) victim = *l;
    c.crash(victim, rng() % 3 == 0);
  } else if (dice < 60 && !down.empty()) {
    c.start(down[rng() % down.size()]);
  } else if (dice < 75) {
    std::vector<int64_t> side, rest;
    for (int64_t id : c.ids()) (rng() % 2 == 0 ? side : rest).push_back(id);
    c.partition({side, rest});
  } else {
    c.heal();
  }
}

TEST(ZabReconfigSim, RandomMembershipChangesUnderFaultsManySeeds) {
  const auto started = std::chrono::steady_clock::now();
  uint64_t runs = 0, commits = 0, reconfigs = 0, unblocked = 0;
  for (uint64_t seed : seeds(1, 600)) {
    std::string text;
    ZabCluster c(random_reconfig_options(seed, text));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed) + " (" + text + ")");
    std::mt19937_64 rng(seed ^ 0x4ecf17ull);
    c.start_all();
    c.set_client_interval(1 + static_cast<int64_t>(rng() % 20));
    const int64_t chaos_until = c.now_ms() + 3'000;
    while (c.now_ms() < chaos_until && c.violations().empty()) {
      c.run_for(20 + static_cast<int64_t>(rng() % 300));
      if (rng() % 2 == 0)
        random_reconfig(c, rng);
      else
        random_fault(c, rng);
    }
    ASSERT_TRUE(c.violations().empty()) << report(c);
    ZabFaults calm = c.options().faults;
    calm.notification_drop = 0;
    calm.notification_duplicate = 0;
    calm.connection_reset = 0;
    c.set_faults(calm);
    c.heal();
    c.start_all();
    c.set_client_interval(0);
    if (!c.run_until([&] { return c.settled(); }, 30'000)) {
      // As in ZabSim.RandomFaultsManySeeds: a peer that accepted the epoch
      // of a leader that never got established refuses the running leader's
      // older one until the leader changes.
      ASSERT_TRUE(blocked_by_accepted_epoch(c)) << "not settled within 30 s\n" << report(c);
      ++unblocked;
      c.crash(*c.serving_leader());
      c.run_for(100);
      c.start_all();
    }
    expect_live(c, 60'000);
    ++runs;
    commits += c.committed().size();
    for (const auto& t : c.committed()) reconfigs += t.path == zab::kConfigNode;
    if (testing::Test::HasFailure()) return;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "[ zab reconfig sim ] %llu seeds, %llu txns committed, %llu of them reconfigs, %llu leader "
      "restarts for a peer with a newer accepted epoch, %.2f s\n",
      static_cast<unsigned long long>(runs), static_cast<unsigned long long>(commits),
      static_cast<unsigned long long>(reconfigs), static_cast<unsigned long long>(unblocked), secs);
}

}  // namespace
}  // namespace corral::sim
