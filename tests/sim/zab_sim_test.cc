// ZAB (zab::Peer) under a seeded simulated network, clock and disks: steady
// state, random faults over many seeds, newcomers, the zxid counter limit and
// failover time. ZooKeeper's classic failure cases are in
// zab_failures_sim_test.cc.
// ZabCluster checks the safety invariants after every step (one established
// leader per epoch, committed sequences are prefixes of one another, a commit
// is durable on a quorum, a new leader holds every committed txn, no TRUNC of
// a committed txn, epochs never go back, observers never vote or lead).
//
// Every run is driven by one seed, printed on failure. To study one seed:
//   ZAB_SEED=N ZAB_TRACE=1 zab_sim_test --gtest_filter=ZabSim.RandomFaultsManySeeds
// ZAB_SEEDS=K runs K seeds in the many-seed tests (more by hand), from
// ZAB_FIRST_SEED if set.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/sim/zab_cluster.h"
#include "tests/sim/zab_sim_support.h"

namespace corral::sim {
namespace {

// ---------------------------------------------------------------- (a) steady state

TEST(ZabSim, SteadyStateCommitsEverythingInOrder) {
  // history_txns 3: a follower holds more uncommitted proposals than that.
  for (size_t history : {size_t{100000}, size_t{3}}) {
    for (int voters : {3, 5}) {
      for (int observers : {0, 1}) {
        ZabClusterOptions o = reliable(7 + voters + observers, voters, observers);
        o.history_txns = history;
        ZabCluster c(o);
        SCOPED_TRACE(std::to_string(voters) + " voters, " + std::to_string(observers) +
                     " observers, history_txns " + std::to_string(history) +
                     "; reproduce with seed=" + std::to_string(c.seed()));
        c.start_all();
        // Election (50 ms finalize wait at most) plus a few round trips.
        ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
        EXPECT_LT(c.now_ms(), 200) << "slow to elect and sync a fresh ensemble\n" << report(c);
        const int64_t leader = *c.serving_leader();
        const int64_t epoch = c.peer(leader)->current_epoch();
        // A pipeline of writes: a new one every millisecond, without waiting.
        std::vector<int64_t> zxids;
        while (zxids.size() < 200) {
          std::optional<int64_t> z = c.propose();
          ASSERT_TRUE(z) << report(c);
          zxids.push_back(*z);
          c.run_for(1);
        }
        ASSERT_TRUE(c.run_until([&] { return c.settled() && c.committed().size() == 200; }, 10'000))
            << report(c);
        EXPECT_EQ(*c.serving_leader(), leader);
        EXPECT_EQ(c.acknowledged().size(), 200u);
        for (size_t i = 0; i < zxids.size(); ++i) {
          EXPECT_EQ(zxids[i], (epoch << 32) | static_cast<int64_t>(i + 1));
          EXPECT_EQ(c.committed()[i].zxid, zxids[i]);
        }
        for (int64_t id : c.ids()) {
          EXPECT_EQ(c.applied(id), c.committed()) << "peer " << id;
          EXPECT_EQ(c.role_changes(id), 1) << "peer " << id << " changed role again\n" << report(c);
          EXPECT_EQ(c.storage(id).log, c.committed()) << "peer " << id;
        }
        EXPECT_TRUE(c.violations().empty()) << report(c);
        if (testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(ZabSim, ABurstOfWritesTravelsAsOneProposalAndOneCommitPerLearner) {
  // The server proposes the writes of one read before it acts: a frame per txn and learner,
  // twice, would each be encoded, sent, decoded and stepped through on its own.
  ZabCluster c(reliable(11, 3, 1));
  c.start_all();
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  const int64_t leader = *c.serving_leader();
  std::map<int64_t, std::vector<zab::Message>> sent;  // the leader's, by learner
  c.on_send([&](const zab::Message& m) {
    if (m.from == leader &&
        (m.type == zab::MessageType::kProposal || m.type == zab::MessageType::kCommit ||
         m.type == zab::MessageType::kInform))
      sent[m.to].push_back(m);
    return true;
  });
  const std::vector<int64_t> zxids = c.propose_burst(5, leader);
  ASSERT_EQ(zxids.size(), 5u);
  ASSERT_TRUE(c.run_until([&] { return c.settled() && c.committed().size() == 5; }, 10'000))
      << report(c);
  auto zxids_of = [](const zab::Message& m) {
    std::vector<int64_t> out;
    for (const auto& t : m.txns) out.push_back(t->zxid);
    return out;
  };
  for (int64_t id : c.ids()) {
    if (id == leader) continue;
    SCOPED_TRACE("learner " + std::to_string(id));
    const auto& got = sent[id];
    if (c.is_voter(id)) {
      ASSERT_EQ(got.size(), 2u) << report(c);
      EXPECT_EQ(got[0].type, zab::MessageType::kProposal);
      EXPECT_EQ(zxids_of(got[0]), zxids);
      EXPECT_EQ(got[1].type, zab::MessageType::kCommit);
      EXPECT_EQ(got[1].zxid, zxids.back());
    } else {
      ASSERT_EQ(got.size(), 1u) << report(c);
      EXPECT_EQ(got[0].type, zab::MessageType::kInform);
      EXPECT_EQ(zxids_of(got[0]), zxids);
    }
    EXPECT_EQ(c.applied(id), c.committed());
  }
  EXPECT_TRUE(c.violations().empty()) << report(c);

  // Big txns fold only while they stay within kFoldBytes together: a frame must stay within
  // the quorum's limit (2 MiB at least), as one txn of up to jute.maxbuffer always did.
  sent.clear();
  const size_t big = zab::kFoldBytes / 3;  // two fold, a third would not
  const std::vector<int64_t> more = c.propose_burst(3, leader, big);
  ASSERT_EQ(more.size(), 3u);
  ASSERT_TRUE(c.run_until([&] { return c.settled() && c.committed().size() == 8; }, 10'000))
      << report(c);
  for (int64_t id : c.ids()) {
    if (id == leader || !c.is_voter(id)) continue;
    SCOPED_TRACE("follower " + std::to_string(id));
    std::vector<std::vector<int64_t>> proposals;
    for (const auto& m : sent[id])
      if (m.type == zab::MessageType::kProposal) proposals.push_back(zxids_of(m));
    EXPECT_EQ(proposals, (std::vector<std::vector<int64_t>>{{more[0], more[1]}, {more[2]}}));
    EXPECT_EQ(c.applied(id), c.committed());
  }
}

// ---------------------------------------------------------------- (b) random faults

/// Builds a random ensemble and faults from the seed.
ZabClusterOptions random_options(uint64_t seed, std::string& text) {
  std::mt19937_64 setup(seed ^ 0x2ab5eedull);
  static const int64_t kMaxDelays[] = {1, 5, 20, 40};
  static const double kNotificationDrops[] = {0, 0.05, 0.2};
  static const double kResets[] = {0, 0.0005, 0.003};
  static const int64_t kMaxFsyncs[] = {1, 5, 20};
  static const size_t kHistoryTxns[] = {3, 20, 100000};
  ZabClusterOptions o;
  o.seed = seed;
  o.voters = seed % 2 == 0 ? 3 : 5;
  o.observers = static_cast<int>(setup() % 3 == 0 ? 1 + setup() % 2 : 0);
  o.tick_ms = 50;
  o.init_limit = 10;
  o.sync_limit = 5;
  o.tick_interval_ms = 5;
  o.history_txns = kHistoryTxns[setup() % 3];
  o.faults.min_delay_ms = 1;
  o.faults.max_delay_ms = kMaxDelays[setup() % 4];
  o.faults.notification_drop = kNotificationDrops[setup() % 3];
  o.faults.notification_duplicate = setup() % 2 == 0 ? 0.1 : 0;
  o.faults.connection_reset = kResets[setup() % 3];
  o.faults.min_fsync_ms = 1;
  o.faults.max_fsync_ms = kMaxFsyncs[setup() % 3];
  o.max_client_burst = 3;          // PROPOSALs and COMMITs of several txns, under every fault
  o.log_diffs = setup() % 2 == 0;  // last: the draws before it keep their seeds' values
  text = std::to_string(o.voters) + " voters, " + std::to_string(o.observers) +
         " observers, delay 1-" + std::to_string(o.faults.max_delay_ms) + " ms, drop " +
         std::to_string(o.faults.notification_drop) + ", reset " +
         std::to_string(o.faults.connection_reset) + ", fsync 1-" +
         std::to_string(o.faults.max_fsync_ms) + " ms, history_txns " +
         std::to_string(o.history_txns) + (o.log_diffs ? ", DIFFs from the log" : "");
  return o;
}

/// One random action: crash (often the leader), restart, partition, heal, or
/// crash everyone.
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
    std::vector<int64_t> side;
    for (int64_t id : c.ids())
      if (rng() % 2 == 0) side.push_back(id);
    std::vector<int64_t> rest;
    for (int64_t id : c.ids())
      if (std::find(side.begin(), side.end(), id) == side.end()) rest.push_back(id);
    c.partition({side, rest});
  } else if (dice < 92) {
    c.heal();
  } else if (dice < 95) {
    for (int64_t id : up) c.crash(id, rng() % 2 == 0);
  }
}

TEST(ZabSim, RandomFaultsManySeeds) {
  const auto started = std::chrono::steady_clock::now();
  uint64_t runs = 0, commits = 0, acknowledged = 0, unblocked = 0;
  for (uint64_t seed : seeds(1, 300)) {
    std::string text;
    ZabCluster c(random_options(seed, text));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed) + " (" + text + ")");
    std::mt19937_64 rng(seed ^ 0xfa17ull);
    c.start_all();
    c.set_client_interval(1 + static_cast<int64_t>(rng() % 20));
    const int64_t chaos_until = c.now_ms() + 3'000;
    while (c.now_ms() < chaos_until && c.violations().empty()) {
      c.run_for(20 + static_cast<int64_t>(rng() % 400));
      random_fault(c, rng);
    }
    ASSERT_TRUE(c.violations().empty()) << report(c);
    // Quiet: the network heals, everyone comes back, faults stop.
    ZabFaults calm = c.options().faults;
    calm.notification_drop = 0;
    calm.notification_duplicate = 0;
    calm.connection_reset = 0;
    c.set_faults(calm);
    c.heal();
    c.start_all();
    c.set_client_interval(0);
    if (!c.run_until([&] { return c.settled(); }, 30'000)) {
      // ZAB's one way to stay out for good: a peer that accepted the epoch of
      // a leader that never got established refuses the running leader's
      // older epoch (ZooKeeper: "Leaders epoch, X is less than accepted epoch,
      // Y") until the leader changes. Anything else is a liveness bug.
      ASSERT_TRUE(blocked_by_accepted_epoch(c)) << "not settled within 30 s\n" << report(c);
      ++unblocked;
      c.crash(*c.serving_leader());
      c.run_for(100);
      c.start_all();
    }
    expect_live(c, 60'000);
    ++runs;
    commits += c.committed().size();
    acknowledged += c.acknowledged().size();
    if (testing::Test::HasFailure()) return;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "[ zab sim ] %llu seeds, %llu txns committed, %llu acknowledged, %llu leader restarts for "
      "a peer with a newer accepted epoch, %.2f s\n",
      static_cast<unsigned long long>(runs), static_cast<unsigned long long>(commits),
      static_cast<unsigned long long>(acknowledged), static_cast<unsigned long long>(unblocked),
      secs);
}

// ---------------------------------------------------------------- (e) joining

TEST(ZabSim, NewPeerFollowsRunningLeaderWithoutElection) {
  for (uint64_t seed : seeds(700, 10)) {
    ZabCluster c(reliable(seed, 3, 1));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    c.start(1);
    c.start(2);
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
    write(c, 10);
    const int64_t leader = *c.serving_leader();
    const int64_t epoch = c.peer(leader)->current_epoch();
    for (int64_t newcomer : {3, 4}) {
      c.start(newcomer);
      ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
      EXPECT_EQ(*c.serving_leader(), leader);
      EXPECT_EQ(c.peer(leader)->current_epoch(), epoch) << "a new epoch for a newcomer";
      EXPECT_EQ(c.role_changes(1), 1) << report(c);
      EXPECT_EQ(c.role_changes(2), 1) << report(c);
      EXPECT_EQ(c.role_changes(newcomer), 1) << report(c);
      EXPECT_EQ(c.applied(newcomer), c.committed());
      write(c, 5);
    }
    expect_live(c, 10'000);
    if (testing::Test::HasFailure()) return;
  }
}

// ---------------------------------------------------------------- (f) zxid overflow

TEST(ZabSim, NewEpochAfterHistoryNearCounterOverflow) {
  // Every peer starts from a log whose last zxid is near the end of epoch 7's
  // counter space; the next leader starts epoch 8 and counts from 1.
  const int64_t epoch = 7;
  ZabCluster c(reliable(800, 3));
  for (int64_t id : c.ids()) {
    SimStorage s;
    s.accepted_epoch = s.current_epoch = epoch;
    for (int64_t k = 0; k < 4; ++k)
      s.log.push_back({(epoch << 32) | (0xfffffff0ll + k), "/old" + std::to_string(k), "x"});
    s.durable = s.log.size();
    c.set_storage(id, s);
  }
  c.start_all();
  ASSERT_TRUE(c.run_until([&] { return c.serving_leader().has_value(); }, 10'000)) << report(c);
  write(c, 20);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  ASSERT_EQ(c.committed().size(), 24u) << report(c);
  EXPECT_EQ(c.committed()[4].zxid, ((epoch + 1) << 32) | 1);
  for (size_t i = 1; i < c.committed().size(); ++i)
    EXPECT_LE(epoch_of(c.committed()[i - 1].zxid), epoch_of(c.committed()[i].zxid));
  expect_live(c, 10'000);
}

TEST(ZabSim, ZxidCounterOverflowForcesNewEpoch) {
  // A leader whose counter would run out steps down (as ZooKeeper's
  // Leader.propose does when the low 32 bits reach 0xffffffff); the next
  // leader starts a new epoch and nothing committed is lost. Reaching 2^32
  // takes a lower limit in PeerConfig.
  {
    ZabClusterOptions o = reliable(810, 3);
    o.max_zxid_counter = 20;
    ZabCluster c(o);
    c.start_all();
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
    const int64_t first_epoch = c.peer(*c.serving_leader())->current_epoch();
    int refused = 0;
    while (c.acknowledged().size() < 70) {
      if (!c.propose()) {
        ++refused;
        ASSERT_TRUE(c.run_until([&] { return c.serving_leader().has_value(); }, 10'000))
            << report(c);
      }
      c.run_for(2);
      ASSERT_TRUE(c.violations().empty()) << report(c);
    }
    EXPECT_GE(refused, 3) << "the counter limit never stopped a leader";
    EXPECT_GE(c.peer(*c.serving_leader())->current_epoch(), first_epoch + 3);
    for (const auto& t : c.committed())
      EXPECT_LE(t.zxid & 0xffffffffll, 20) << "zxid " << zxid_text(t.zxid) << " past the limit";
    expect_live(c, 10'000);
  }
}

// ---------------------------------------------------------------- (g) failover time

/// Kills the leader of a busy ensemble and returns the simulated time from
/// the kill to the next write a new leader commits.
int64_t failover_ms(uint64_t seed, int voters, bool silent) {
  ZabClusterOptions o;
  o.seed = seed;
  o.voters = voters;
  o.tick_ms = 50;
  o.init_limit = 5;
  o.sync_limit = 2;
  o.tick_interval_ms = 1;
  o.faults.min_delay_ms = o.faults.max_delay_ms = 1;
  o.faults.min_fsync_ms = o.faults.max_fsync_ms = 1;
  ZabCluster c(o);
  c.start_all();
  EXPECT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  c.set_client_interval(1);
  c.run_for(200);
  const int64_t leader = *c.serving_leader();
  const int64_t old_epoch = c.peer(leader)->current_epoch();
  const int64_t killed_at = c.now_ms();
  c.crash(leader, silent);
  auto new_write = [&] {
    return !c.acknowledged().empty() && epoch_of(c.acknowledged().rbegin()->first) > old_epoch;
  };
  EXPECT_TRUE(c.run_until(new_write, 10'000)) << report(c);
  EXPECT_TRUE(c.violations().empty()) << report(c);
  return c.now_ms() - killed_at;
}

TEST(ZabSim, FailoverToNextCommittedWriteUnder150Ms) {
  for (int voters : {3, 5}) {
    int64_t worst = 0;
    for (uint64_t seed : seeds(900, 10)) worst = std::max(worst, failover_ms(seed, voters, false));
    std::printf(
        "[ zab sim ] %d voters: leader killed -> next committed write: worst %lld ms "
        "(crash noticed through closed connections)\n",
        voters, static_cast<long long>(worst));
    EXPECT_LT(worst, 150);
  }
}

TEST(ZabSim, FailoverWithSilentCrashIsBoundedBySyncLimit) {
  // A machine that vanishes closes no connection: the followers find out
  // after syncLimit ticks (100 ms here), then elect.
  for (int voters : {3, 5}) {
    int64_t worst = 0;
    for (uint64_t seed : seeds(950, 10)) worst = std::max(worst, failover_ms(seed, voters, true));
    std::printf("[ zab sim ] %d voters: leader vanished -> next committed write: worst %lld ms\n",
                voters, static_cast<long long>(worst));
    EXPECT_LT(worst, 100 + 150);
  }
}

}  // namespace
}  // namespace corral::sim
