// Dynamic reconfiguration (zab::Peer with reconfig_enabled) on the simulated
// ensemble: scripted membership changes (the first leader's version bump,
// 3 -> 5 with two spares, 5 -> 3 removing the leader, an observer added and
// removed, a participant turned observer by remove + add, one refused for
// unsynced voters) and ZooKeeper's recovery cases (a reconfig completed by the
// next leader, no leader while the pending config has no majority up,
// observers the pending config promotes, a write behind a pending reconfig).
// Random membership changes under faults are in
// zab_reconfig_random_sim_test.cc.
// ZabCluster checks after every step that each commit is durable on a
// majority of every config its proposal was tagged with, that an established
// leader is backed by majorities of its configs, that activations never go
// back and agree per version, and that roles fit each peer's own config.
//
// To study one seed:
//   ZAB_SEED=N ZAB_TRACE=1 zab_reconfig_sim_test --gtest_filter=ZabReconfigSim.<test>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/sim/zab_cluster.h"
#include "tests/sim/zab_sim_support.h"

namespace corral::sim {
namespace {

using zab::PeerState;
using zab::QuorumConfig;
using zab::QuorumRole;

/// A reliable ensemble with reconfig on and `spares` peers outside the config.
ZabClusterOptions reconfigurable(uint64_t seed, int voters, int observers, int spares) {
  ZabClusterOptions o = reliable(seed, voters, observers);
  o.reconfig_enabled = true;
  o.spares = spares;
  return o;
}

/// The serving leader's active config.
QuorumConfig leader_config(const ZabCluster& c) {
  return *c.peer(*c.serving_leader())->active_config();
}

/// Proposes `next` at the serving leader and runs until the ensemble settled
/// under it: every up peer acts under that config, nothing pending.
int64_t reconfigure(ZabCluster& c, const QuorumConfig& next) {
  std::optional<int64_t> zxid = c.reconfig(next);
  EXPECT_TRUE(zxid) << "reconfig refused\n" << report(c);
  if (!zxid) return 0;
  EXPECT_TRUE(c.run_until(
      [&] { return c.settled() && c.peer(*c.serving_leader())->active_config()->version == *zxid; },
      10'000))
      << "not settled under config " << zxid_text(*zxid) << "\n"
      << report(c);
  EXPECT_TRUE(c.violations().empty()) << report(c);
  return *zxid;
}

/// Whether a write proposed now commits within `ms`.
bool write_commits(ZabCluster& c, int64_t ms) {
  std::optional<int64_t> zxid = c.propose();
  if (!zxid) return false;
  return c.run_until([&] { return c.acknowledged().count(*zxid) > 0; }, ms);
}

/// A settled, warmed-up ensemble (the spares follow as non-members).
void warm_up_all(ZabCluster& c, int txns) {
  c.start_all();
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  write(c, txns);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
}

// ---------------------------------------------------------------- scripted

TEST(ZabReconfigSim, FirstLeaderReissuesVersionZeroAtItsEpoch) {
  // ZOOKEEPER-1783: with reconfig on, the first config a client sees has the
  // first leader's epoch as its version (kazoo sees version=100000000).
  ZabCluster c(reconfigurable(1000, 3, 0, 0));
  warm_up_all(c, 1);
  const int64_t leader = *c.serving_leader();
  const int64_t epoch = c.peer(leader)->current_epoch();
  for (int64_t id : c.ids()) {
    EXPECT_EQ(c.peer(id)->active_config()->version, epoch << 32) << "peer " << id << report(c);
    EXPECT_EQ(c.peer(id)->active_config()->voters(), c.initial_config().voters());
  }
  EXPECT_TRUE(c.violations().empty()) << report(c);
}

TEST(ZabReconfigSim, GrowFromThreeToFiveByAddingTwoSpares) {
  for (uint64_t seed : seeds(1100, 5)) {
    ZabCluster c(reconfigurable(seed, 3, 0, 2));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 5);
    const int64_t leader = *c.serving_leader();
    // The spares follow without a vote.
    for (int64_t spare : {4, 5}) {
      EXPECT_EQ(c.peer(spare)->state(), PeerState::kFollowing) << report(c);
      EXPECT_EQ(c.applied(spare), c.committed());
    }
    QuorumConfig next = with_server(leader_config(c), 4, QuorumRole::kParticipant);
    next = with_server(next, 5, QuorumRole::kParticipant);
    const int64_t zxid = reconfigure(c, next);
    ASSERT_NE(zxid, 0);
    EXPECT_EQ(*c.serving_leader(), leader) << "the leader stays: a voter at the same address";
    for (int64_t id : c.ids())
      EXPECT_EQ(c.peer(id)->active_config()->voters(), (std::vector<int64_t>{1, 2, 3, 4, 5}))
          << "peer " << id;
    write(c, 5);
    // The new majority is 3 of 5: with both newcomers and one old follower
    // down, the two old members left cannot commit any more.
    const int64_t follower = others(c, leader)[0];
    c.crash(4);
    c.crash(5);
    c.crash(follower);
    EXPECT_FALSE(write_commits(c, 2'000)) << "committed with 2 of 5 voters\n" << report(c);
    c.start(4);
    c.start(5);
    c.start(follower);
    expect_live(c, 20'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, ShrinkFromFiveToThreeRemovingTheLeader) {
  for (uint64_t seed : seeds(1200, 5)) {
    ZabCluster c(reconfigurable(seed, 5, 0, 0));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 5);
    const int64_t old_leader = *c.serving_leader();
    const int64_t old_epoch = c.peer(old_leader)->current_epoch();
    const int64_t removed = others(c, old_leader)[0];
    const QuorumConfig next = without_server(without_server(leader_config(c), old_leader), removed);
    const int64_t zxid = reconfigure(c, next);
    ASSERT_NE(zxid, 0);
    const int64_t new_leader = *c.serving_leader();
    EXPECT_NE(new_leader, old_leader);
    EXPECT_EQ(next.role_of(new_leader), QuorumRole::kParticipant);
    EXPECT_GT(c.peer(new_leader)->current_epoch(), old_epoch);
    // The removed servers keep following, without a vote.
    for (int64_t id : {old_leader, removed}) {
      EXPECT_EQ(c.peer(id)->state(), PeerState::kFollowing) << "peer " << id << report(c);
      EXPECT_EQ(c.peer(id)->leader(), new_leader);
    }
    EXPECT_TRUE(c.acknowledged().count(zxid)) << "the reconfig was not acknowledged";
    write(c, 5);
    // Two of the three remaining voters down: the removed followers, though
    // up and acknowledging, must not make a quorum.
    std::vector<int64_t> rest;
    for (int64_t v : next.voters())
      if (v != new_leader) rest.push_back(v);
    c.crash(rest[0]);
    c.crash(rest[1]);
    EXPECT_FALSE(write_commits(c, 2'000)) << "removed servers counted\n" << report(c);
    c.start(rest[0]);
    c.start(rest[1]);
    expect_live(c, 20'000);
    expect_acknowledged_kept(c);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, ObserverAddedAndRemoved) {
  for (uint64_t seed : seeds(1300, 5)) {
    ZabCluster c(reconfigurable(seed, 3, 0, 1));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 3);
    const int64_t leader = *c.serving_leader();
    reconfigure(c, with_server(leader_config(c), 4, QuorumRole::kObserver));
    EXPECT_EQ(c.peer(4)->state(), PeerState::kObserving) << report(c);
    EXPECT_EQ(c.peer(4)->leader(), leader);
    write(c, 3);
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
    EXPECT_EQ(c.applied(4), c.committed());
    // An observer never counts: with two voters down nothing commits.
    const auto followers = others(c, leader);
    c.crash(followers[0]);
    c.crash(followers[1]);
    EXPECT_FALSE(write_commits(c, 2'000)) << "an observer counted\n" << report(c);
    c.start(followers[0]);
    c.start(followers[1]);
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 20'000)) << report(c);
    reconfigure(c, without_server(leader_config(c), 4));
    EXPECT_EQ(c.peer(4)->state(), PeerState::kFollowing) << report(c);
    EXPECT_EQ(c.peer(4)->active_config()->role_of(4), QuorumRole::kAbsent);
    expect_live(c, 20'000);
    EXPECT_EQ(c.applied(4), c.committed()) << "the removed observer stops learning";
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, ParticipantTurnedObserverByRemoveAndAdd) {
  for (uint64_t seed : seeds(1400, 5)) {
    ZabCluster c(reconfigurable(seed, 3, 0, 1));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 3);
    const int64_t leader = *c.serving_leader();
    reconfigure(c, with_server(leader_config(c), 4, QuorumRole::kParticipant));
    const int64_t turned = others(c, leader)[0];
    reconfigure(c, without_server(leader_config(c), turned));
    EXPECT_EQ(c.peer(turned)->state(), PeerState::kFollowing) << report(c);
    reconfigure(c, with_server(leader_config(c), turned, QuorumRole::kObserver));
    EXPECT_EQ(c.peer(turned)->state(), PeerState::kObserving) << report(c);
    EXPECT_EQ(*c.serving_leader(), leader);
    write(c, 3);
    // It no longer counts: two of the three voters down stop commits.
    std::vector<int64_t> rest;
    for (int64_t v : leader_config(c).voters())
      if (v != leader) rest.push_back(v);
    ASSERT_EQ(rest.size(), 2u) << report(c);
    c.crash(rest[0]);
    c.crash(rest[1]);
    EXPECT_FALSE(write_commits(c, 2'000)) << "the observer counted\n" << report(c);
    c.start(rest[0]);
    c.start(rest[1]);
    expect_live(c, 20'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, UnsyncedNewVotersAreRefused) {
  // Leader.isQuorumSynced: a config whose voters are not synced with the
  // leader gets NEWCONFIGNOQUORUM, and nothing is proposed.
  ZabCluster c(reconfigurable(1500, 3, 0, 2));
  warm_up_all(c, 2);
  const int64_t leader = *c.serving_leader();
  c.crash(4);
  c.crash(5);
  const int64_t follower = others(c, leader)[0];
  c.crash(follower);
  ASSERT_TRUE(c.run_until([&] { return c.peer(leader)->learner_count() == 1; }, 1'000))
      << report(c);
  QuorumConfig next = with_server(leader_config(c), 4, QuorumRole::kParticipant);
  next = with_server(next, 5, QuorumRole::kParticipant);
  const size_t proposed = c.proposed().size();
  EXPECT_FALSE(c.reconfig(next)) << report(c);
  EXPECT_EQ(c.proposed().size(), proposed);
  c.start(follower);
  c.start(4);
  c.start(5);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  EXPECT_TRUE(c.reconfig(next)) << report(c);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  EXPECT_EQ(c.current_config().voters().size(), 5u);
  EXPECT_TRUE(c.violations().empty()) << report(c);
}

TEST(ZabReconfigSim, NextLeaderCompletesAReconfigItsPredecessorDidNotCommit) {
  // ReconfigRecoveryTest: the leader dies after its reconfig is logged on
  // majorities of both configs but before anyone hears the commit; the next
  // leader commits it, and every peer ends up under the new config.
  for (uint64_t seed : seeds(1600, 5)) {
    ZabCluster c(reconfigurable(seed, 3, 0, 2));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 3);
    const int64_t leader = *c.serving_leader();
    QuorumConfig next = with_server(leader_config(c), 4, QuorumRole::kParticipant);
    next = with_server(next, 5, QuorumRole::kParticipant);
    int64_t reconfig_zxid = 0;
    bool crashed = false;
    c.on_send([&](const zab::Message& m) {
      if (m.from != leader || m.type != zab::MessageType::kCommit || m.zxid != reconfig_zxid)
        return true;
      if (!crashed) c.crash_soon(leader, true);
      crashed = true;
      return false;
    });
    std::optional<int64_t> zxid = c.reconfig(next);
    ASSERT_TRUE(zxid) << report(c);
    reconfig_zxid = *zxid;
    ASSERT_TRUE(c.run_until([&] { return crashed && !c.up(leader); }, 5'000)) << report(c);
    c.on_send(nullptr);
    ASSERT_TRUE(c.run_until(
        [&] {
          return c.settled() && c.peer(*c.serving_leader())->active_config()->version == *zxid;
        },
        20'000))
        << report(c);
    EXPECT_TRUE(holds(c.committed(), *zxid)) << report(c);
    c.start(leader);
    expect_live(c, 20'000);
    EXPECT_EQ(c.peer(leader)->active_config()->version, *zxid) << report(c);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, NoLeaderWhileThePendingConfigHasNoMajorityUp) {
  // ReconfigRecoveryTest: {1,2,3} -> {3,4,5} is logged everywhere, then 3, 4
  // and 5 die before anyone hears the commit. 1 and 2 hold the old majority,
  // but a leader must also be backed by the pending config: nothing is served
  // until 4 and 5 are back; then the reconfig completes and 1 and 2 follow
  // without a vote.
  for (uint64_t seed : seeds(1800, 5)) {
    ZabCluster c(reconfigurable(seed, 3, 0, 2));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 2);
    const int64_t leader = *c.serving_leader();
    ASSERT_EQ(leader, 3) << report(c);
    int64_t reconfig_zxid = -1;
    c.on_send([&](const zab::Message& m) {
      return !(m.from == leader && m.type == zab::MessageType::kCommit && m.zxid >= reconfig_zxid);
    });
    QuorumConfig next = without_server(without_server(leader_config(c), 1), 2);
    next = with_server(with_server(next, 4, QuorumRole::kParticipant), 5, QuorumRole::kParticipant);
    std::optional<int64_t> r = c.reconfig(next);
    ASSERT_TRUE(r) << report(c);
    reconfig_zxid = *r;
    ASSERT_TRUE(c.run_until(
        [&] {
          for (int64_t id : c.ids())
            if (!holds(c.storage(id).log, *r) || c.storage(id).durable < c.storage(id).log.size())
              return false;
          return true;
        },
        1'000))
        << report(c);
    for (int64_t id : {3, 4, 5}) c.crash(id, true);
    c.on_send(nullptr);
    EXPECT_FALSE(c.run_until([&] { return c.serving_leader().has_value(); }, 3'000))
        << "a leader without a majority of the pending config\n"
        << report(c);
    c.start(4);
    c.start(5);
    ASSERT_TRUE(c.run_until(
        [&] { return c.settled() && c.peer(*c.serving_leader())->active_config()->version == *r; },
        20'000))
        << report(c);
    EXPECT_EQ(next.role_of(*c.serving_leader()), QuorumRole::kParticipant);
    for (int64_t id : {1, 2}) EXPECT_EQ(c.peer(id)->state(), PeerState::kFollowing) << report(c);
    c.start(3);
    expect_live(c, 20'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, ObserversPromotedByThePendingConfigHelpCompleteIt) {
  // ReconfigRecoveryTest.testCurrentObserverIsParticipantInNewConfig: 4 and
  // 5 observe {1,2,3}; the reconfig making all five participants is logged
  // by the voters (observers only hear of commits), then the leader dies
  // uncommitted. 1 and 2 are a majority of
  // the old config but not of the new one: the next leader needs the acks of
  // the observers the pending config promotes.
  for (uint64_t seed : seeds(1900, 5)) {
    ZabCluster c(reconfigurable(seed, 3, 2, 0));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up_all(c, 2);
    const int64_t leader = *c.serving_leader();
    int64_t reconfig_zxid = -1;
    c.on_send([&](const zab::Message& m) {
      if (m.from != leader) return true;
      if (m.type == zab::MessageType::kInform) return m.txns[0]->zxid < reconfig_zxid;
      return m.type != zab::MessageType::kCommit || m.zxid < reconfig_zxid;
    });
    QuorumConfig next = with_server(leader_config(c), 4, QuorumRole::kParticipant);
    next = with_server(next, 5, QuorumRole::kParticipant);
    std::optional<int64_t> r = c.reconfig(next);
    ASSERT_TRUE(r) << report(c);
    reconfig_zxid = *r;
    ASSERT_TRUE(c.run_until(
        [&] {
          for (int64_t id : {1, 2, 3})
            if (!holds(c.storage(id).log, *r) || c.storage(id).durable < c.storage(id).log.size())
              return false;
          return true;
        },
        1'000))
        << report(c);
    c.crash(leader, true);
    c.on_send(nullptr);
    ASSERT_TRUE(c.run_until(
        [&] { return c.settled() && c.peer(*c.serving_leader())->active_config()->version == *r; },
        20'000))
        << report(c);
    for (int64_t id : {4, 5})
      EXPECT_NE(c.peer(id)->state(), PeerState::kObserving) << "peer " << id << report(c);
    c.start(leader);
    expect_live(c, 20'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabReconfigSim, WriteProposedWhileAReconfigIsPendingNeedsBothMajorities) {
  // Leader.propose tags a proposal made while a reconfig is pending with the
  // active config and the last-seen one, and tryToCommit waits for a majority
  // of each (hasAllQuorums), also once the reconfig itself has committed.
  // Here {1,2,3} -> {3,4,5} with 3 leading: the write P that follows the
  // reconfig reaches only 4 and 5, and the leader dies before anyone hears a
  // commit. P may not be acknowledged on {3,4,5} alone, and whatever was
  // acknowledged survives.
  ZabCluster c(reconfigurable(1700, 3, 0, 2));
  warm_up_all(c, 2);
  const int64_t leader = *c.serving_leader();
  ASSERT_EQ(leader, 3) << report(c);
  int64_t reconfig_zxid = -1, write_zxid = -1;
  c.on_send([&](const zab::Message& m) {
    if (m.from != leader) return true;
    if (m.type == zab::MessageType::kCommit) return m.zxid < reconfig_zxid;
    return !(m.type == zab::MessageType::kProposal && m.txns[0]->zxid == write_zxid && m.to < 3);
  });
  QuorumConfig next = without_server(without_server(leader_config(c), 1), 2);
  next = with_server(with_server(next, 4, QuorumRole::kParticipant), 5, QuorumRole::kParticipant);
  std::optional<int64_t> r = c.reconfig(next);
  ASSERT_TRUE(r) << report(c);
  reconfig_zxid = *r;
  write_zxid = c.peer(leader)->next_zxid();
  ASSERT_EQ(c.propose(leader), write_zxid) << report(c);
  c.run_until([&] { return c.acknowledged().count(write_zxid) > 0; }, 100);
  EXPECT_EQ(c.acknowledged().count(write_zxid), 0u)
      << "acknowledged on a majority of the new config only\n"
      << report(c);
  c.crash(leader, true);
  c.on_send(nullptr);
  c.run_for(1'000);
  c.start(leader);
  expect_live(c, 20'000);
  EXPECT_TRUE(c.violations().empty()) << report(c);
}

}  // namespace
}  // namespace corral::sim
