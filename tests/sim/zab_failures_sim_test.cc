// ZooKeeper's classic failure cases, scripted on the simulated ensemble
// (tests/sim/zab_cluster.h checks the safety invariants after every step):
// a former leader's uncommitted proposal, learners behind by a little or a
// lot, crashes in the middle of a sync, a whole-ensemble restart, a leader that
// loses its quorum, and the cases that once broke zab::Peer.
//
// To study one seed: ZAB_SEED=N ZAB_TRACE=1 zab_sim_test --gtest_filter=ZabSim.<test>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/sim/zab_cluster.h"
#include "tests/sim/zab_sim_support.h"

namespace corral::sim {
namespace {

using zab::MessageType;
using zab::PeerState;

// ---------------------------------------------------------------- (c) classic failures

TEST(ZabSim, FormerLeaderWithUncommittedProposalIsTruncatedAfterRestart) {
  for (uint64_t seed : seeds(100, 10)) {
    ZabCluster c(reliable(seed, 3));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 5);
    const int64_t old_leader = *c.serving_leader();
    const int64_t before = c.committed().back().zxid;
    // The leader is cut off, logs X, and dies before anyone got X.
    c.partition({{old_leader}, others(c, old_leader)});
    std::optional<int64_t> x = c.propose(old_leader);
    ASSERT_TRUE(x) << report(c);
    ASSERT_TRUE(c.run_until([&] { return c.storage(old_leader).durable == 6; }, 100)) << report(c);
    c.crash(old_leader, true);
    c.heal();
    ASSERT_TRUE(c.run_until([&] { return c.serving_leader().has_value(); }, 10'000)) << report(c);
    write(c, 3);
    c.start(old_leader);
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
    EXPECT_FALSE(holds(c.committed(), *x)) << report(c);
    EXPECT_FALSE(holds(c.storage(old_leader).log, *x)) << "X is still in the old leader's log";
    EXPECT_FALSE(holds(c.applied(old_leader), *x));
    std::optional<SyncEvent> s = last_sync(c, old_leader);
    ASSERT_TRUE(s) << report(c);
    EXPECT_STREQ(sync_mode_name(s->mode), "TRUNC") << report(c);
    EXPECT_EQ(s->trunc_zxid, before);
    expect_live(c, 10'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabSim, FormerLeaderWithUncommittedProposalIsTruncatedWithoutRestart) {
  for (uint64_t seed : seeds(200, 10)) {
    ZabCluster c(reliable(seed, 3));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 5);
    const int64_t old_leader = *c.serving_leader();
    const int64_t before = c.committed().back().zxid;
    c.partition({{old_leader}, others(c, old_leader)});
    // Clients keep writing to the isolated leader: none of it may commit.
    std::vector<int64_t> lost;
    for (int i = 0; i < 3; ++i) {
      if (std::optional<int64_t> x = c.propose(old_leader)) lost.push_back(*x);
      c.run_for(5);
    }
    ASSERT_FALSE(lost.empty());
    const auto rest = others(c, old_leader);
    ASSERT_TRUE(c.run_until([&] { return leader_among(c, rest).has_value(); }, 10'000))
        << report(c);
    write(c, 3);
    c.heal();
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
    for (int64_t x : lost) {
      EXPECT_FALSE(holds(c.committed(), x)) << zxid_text(x) << "\n" << report(c);
      EXPECT_FALSE(holds(c.storage(old_leader).log, x)) << zxid_text(x);
      EXPECT_EQ(c.acknowledged().count(x), 0u);
    }
    std::optional<SyncEvent> s = last_sync(c, old_leader);
    ASSERT_TRUE(s) << report(c);
    EXPECT_STREQ(sync_mode_name(s->mode), "TRUNC") << report(c);
    EXPECT_EQ(s->trunc_zxid, before);
    expect_live(c, 10'000);
    if (testing::Test::HasFailure()) return;
  }
}

/// How a learner down while the leader committed 30 txns (10 kept in memory) syncs once it
/// restarts, after `lose_log` (if set) emptied its log; the ensemble then settles with the
/// learner holding every committed txn.
std::optional<SyncEvent> sync_after_missing_30(uint64_t seed, bool log_diffs, bool lose_log = false,
                                               bool log_fails = false) {
  ZabClusterOptions o = reliable(seed, 3);
  o.history_txns = 10;
  o.log_diffs = log_diffs;
  o.log_diffs_fail = log_fails;
  ZabCluster c(o);
  warm_up(c, 5);
  const int64_t learner = others(c, *c.serving_leader())[0];
  c.crash(learner);
  write(c, 30);
  if (lose_log) {
    // The epochs stay (the checker holds them to never go back); nothing in the leader's
    // log is at or below the learner's zxid 0 for a DIFF to follow.
    SimStorage blank;
    blank.accepted_epoch = c.storage(learner).accepted_epoch;
    blank.current_epoch = c.storage(learner).current_epoch;
    c.set_storage(learner, std::move(blank));
  }
  c.start(learner);
  EXPECT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  std::optional<SyncEvent> s = last_sync(c, learner);
  EXPECT_TRUE(s) << report(c);
  EXPECT_EQ(c.applied(learner), c.committed());
  EXPECT_EQ(c.storage(learner).log, c.committed());
  expect_live(c, 10'000);
  return s;
}

TEST(ZabSim, LearnerFarBehindGetsSnap) {
  std::optional<SyncEvent> s = sync_after_missing_30(300, false);
  ASSERT_TRUE(s);
  EXPECT_STREQ(sync_mode_name(s->mode), "SNAP");
}

TEST(ZabSim, LearnerFarBehindGetsADiffFromTheLeadersLog) {
  std::optional<SyncEvent> s = sync_after_missing_30(301, true);
  ASSERT_TRUE(s);
  EXPECT_STREQ(sync_mode_name(s->mode), "DIFF");
  EXPECT_GE(s->txns, 30u) << "more than the leader's 10 in memory: the rest from its log";
}

TEST(ZabSim, LearnerWhoseDiffFromTheLogFailsGetsSnapNext) {
  std::optional<SyncEvent> s = sync_after_missing_30(303, true, false, true);
  ASSERT_TRUE(s);
  EXPECT_STREQ(sync_mode_name(s->mode), "SNAP") << "not the failing DIFF again and again";
}

TEST(ZabSim, LearnerWithAnEmptyLogGetsSnapEvenFromALeaderWithALog) {
  std::optional<SyncEvent> s = sync_after_missing_30(302, true, true);
  ASSERT_TRUE(s);
  EXPECT_STREQ(sync_mode_name(s->mode), "SNAP");
}

TEST(ZabSim, LearnerSlowToInstallASnapshotIsGivenInitLimit) {
  // Decoding and storing a large SNAP keeps a server from answering for longer than syncLimit
  // (1,000,000 znodes: about 9 s). A leader gives a learner that is still syncing initLimit,
  // as ZooKeeper's LearnerHandler does; dropping it at syncLimit made it wait out its own
  // limit, then sync all over again.
  ZabClusterOptions o = reliable(310, 3);
  o.history_txns = 10;
  o.snapshot_install_ms = (o.sync_limit + 2) * o.tick_ms;  // past syncLimit, within initLimit
  ASSERT_LT(o.snapshot_install_ms, o.init_limit * o.tick_ms);
  ZabCluster c(o);
  warm_up(c, 5);
  const int64_t leader = *c.serving_leader();
  const int64_t learner = others(c, leader)[0];
  c.crash(learner);
  write(c, 30);
  const size_t syncs_before = c.syncs().size();
  const int leader_roles = c.role_changes(leader);
  const int64_t started = c.now_ms();
  c.start(learner);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  std::vector<SyncEvent> to_learner;
  for (size_t i = syncs_before; i < c.syncs().size(); ++i)
    if (c.syncs()[i].learner == learner) to_learner.push_back(c.syncs()[i]);
  ASSERT_EQ(to_learner.size(), 1u) << "synced again: dropped while installing\n" << report(c);
  EXPECT_STREQ(sync_mode_name(to_learner[0].mode), "SNAP");
  EXPECT_LT(c.now_ms() - started, o.snapshot_install_ms + o.sync_limit * o.tick_ms) << report(c);
  EXPECT_EQ(c.role_changes(leader), leader_roles) << report(c);
  EXPECT_EQ(c.applied(learner), c.committed());
  expect_live(c, 10'000);
}

TEST(ZabSim, LearnerTheLeaderGivesUpOnIsToldAtOnce) {
  // A learner whose acks and pings stop reaching the leader is dropped after syncLimit; the
  // leader closes the connection (as ZooKeeper closes the LearnerHandler's socket), so the
  // learner looks for a leader now instead of after its own syncLimit of missing pings.
  ZabClusterOptions o = reliable(311, 3);
  ZabCluster c(o);
  warm_up(c, 5);
  const int64_t leader = *c.serving_leader();
  const int64_t learner = others(c, leader)[0];
  bool mute = true;
  c.on_deliver(
      [&](const zab::Message& m) { return !(mute && m.from == learner && m.to == leader); });
  const int roles = c.role_changes(learner);
  const int64_t muted_at = c.now_ms();
  ASSERT_TRUE(c.run_until([&] { return c.role_changes(learner) != roles; }, 10'000)) << report(c);
  const int64_t limit_ms = o.sync_limit * o.tick_ms;
  // The leader drops it just past syncLimit; the learner, hearing pings until then, would
  // wait up to another syncLimit on its own.
  EXPECT_LT(c.now_ms() - muted_at, limit_ms + 4 * o.tick_interval_ms + 10) << report(c);
  EXPECT_EQ(c.peer(learner)->state(), PeerState::kLooking) << report(c);
  mute = false;
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  EXPECT_EQ(c.applied(learner), c.committed());
}

TEST(ZabSim, LearnerLittleBehindGetsDiff) {
  ZabClusterOptions o = reliable(301, 3);
  o.history_txns = 10;
  ZabCluster c(o);
  warm_up(c, 5);
  const int64_t leader = *c.serving_leader();
  const int64_t learner = others(c, leader)[0];
  c.crash(learner);
  write(c, 3);
  c.start(learner);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  std::optional<SyncEvent> s = last_sync(c, learner);
  ASSERT_TRUE(s) << report(c);
  EXPECT_STREQ(sync_mode_name(s->mode), "DIFF") << report(c);
  EXPECT_EQ(s->txns, 3u);
  EXPECT_EQ(c.applied(learner), c.committed());
  expect_live(c, 10'000);
}

/// A learner that crashes while syncing: when NEWLEADER arrives (the sync
/// data may not be durable yet) or when it ACKs NEWLEADER (it is durable).
void crash_while_syncing(MessageType at, uint64_t seed) {
  ZabClusterOptions o = reliable(seed, 3);
  o.faults.min_fsync_ms = 3;
  o.faults.max_fsync_ms = 8;
  o.history_txns = 50;
  ZabCluster c(o);
  SCOPED_TRACE(std::string("crash at ") + message_type_name(at) +
               "; reproduce with seed=" + std::to_string(seed));
  warm_up(c, 5);
  const int64_t leader = *c.serving_leader();
  const int64_t learner = others(c, leader)[0];
  c.crash(learner);
  write(c, 20);
  bool fired = false;
  auto hook = [&](const zab::Message& m) {
    const int64_t who = at == MessageType::kNewLeader ? m.to : m.from;
    if (fired || m.type != at || who != learner) return true;
    fired = true;
    c.crash_soon(learner);
    return false;
  };
  if (at == MessageType::kNewLeader)
    c.on_deliver(hook);
  else
    c.on_send(hook);
  c.start(learner);
  ASSERT_TRUE(c.run_until([&] { return fired && !c.up(learner); }, 5'000)) << report(c);
  EXPECT_TRUE(c.violations().empty()) << report(c);
  c.run_for(50);
  c.start(learner);
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  EXPECT_EQ(c.applied(learner), c.committed());
  EXPECT_EQ(c.storage(learner).log, c.committed()) << "lost or duplicated txns on disk";
  expect_live(c, 10'000);
}

TEST(ZabSim, CrashBeforeAckingNewLeaderThenSyncAgain) {
  for (uint64_t seed : seeds(400, 5)) {
    crash_while_syncing(MessageType::kNewLeader, seed);
    crash_while_syncing(MessageType::kAckNewLeader, seed);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabSim, CrashBeforeAckingNewLeaderOfANewEpoch) {
  // The leader dies; the new leader needs the one other survivor's ACK of
  // NEWLEADER to establish, and that survivor dies just before sending it.
  for (uint64_t seed : seeds(450, 10)) {
    ZabClusterOptions o = reliable(seed, 3);
    o.faults.max_fsync_ms = 6;
    ZabCluster c(o);
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 10);
    c.set_client_interval(3);
    c.run_for(100);
    const int64_t old_leader = *c.serving_leader();
    int64_t victim = 0;
    c.on_send([&](const zab::Message& m) {
      if (victim != 0 || m.type != MessageType::kAckNewLeader) return true;
      victim = m.from;
      c.crash_soon(victim);
      return false;
    });
    c.crash(old_leader);
    ASSERT_TRUE(c.run_until([&] { return victim != 0 && !c.up(victim); }, 10'000)) << report(c);
    c.on_send(nullptr);
    c.run_for(200);
    c.start(victim);
    c.start(old_leader);
    c.set_client_interval(0);
    expect_live(c, 20'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabSim, WholeEnsembleRestartKeepsCommittedHistory) {
  for (uint64_t seed : seeds(500, 10)) {
    for (int voters : {3, 5}) {
      ZabClusterOptions o = reliable(seed, voters, 1);
      o.faults.max_fsync_ms = 10;  // some appends are not durable when the power goes
      ZabCluster c(o);
      SCOPED_TRACE(std::to_string(voters) + " voters; reproduce with seed=" + std::to_string(seed));
      warm_up(c, 5);
      c.set_client_interval(2);
      c.run_for(300 + static_cast<int64_t>(seed % 50));
      const int64_t old_epoch = c.peer(*c.serving_leader())->current_epoch();
      const std::vector<SimTxn> before = c.committed();
      for (int64_t id : c.ids()) c.crash(id, true);
      c.set_client_interval(0);
      c.run_for(100);
      c.start_all();
      ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 20'000)) << report(c);
      EXPECT_GT(c.peer(*c.serving_leader())->current_epoch(), old_epoch);
      ASSERT_GE(c.committed().size(), before.size());
      EXPECT_TRUE(std::equal(before.begin(), before.end(), c.committed().begin()));
      expect_live(c, 10'000);
      if (testing::Test::HasFailure()) return;
    }
  }
}

TEST(ZabSim, CurrentEpochIsPersistedOnlyAfterTheSyncedTxns) {
  // ZOOKEEPER-4643: a learner that records the new currentEpoch before the
  // txns it got in sync are durable, then crashes, comes back with a newer
  // epoch and an older log; it then wins an election and truncates committed
  // txns everywhere. ZooKeeper persists the txns, then the epoch, then ACKs.
  for (uint64_t seed : seeds(1000, 5)) {
    ZabClusterOptions o = reliable(seed, 3);
    o.faults.min_fsync_ms = 5;
    o.faults.max_fsync_ms = 10;
    ZabCluster c(o);
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 2);
    const int64_t old_leader = *c.serving_leader();
    const int64_t behind = others(c, old_leader)[0];
    const int64_t survivor = others(c, old_leader)[1];
    c.crash(behind);
    write(c, 10);
    ASSERT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
    // The leader dies; `behind` syncs with `survivor`, the new leader, and
    // dies right after taking NEWLEADER, before its disk caught up.
    c.crash(old_leader);
    bool fired = false;
    c.on_deliver([&](const zab::Message& m) {
      if (!fired && m.type == MessageType::kNewLeader && m.to == behind) {
        fired = true;
        c.crash_soon(behind);
      }
      return true;
    });
    c.start(behind);
    ASSERT_TRUE(c.run_until([&] { return fired && !c.up(behind); }, 10'000)) << report(c);
    c.on_deliver(nullptr);
    // Now the survivor is gone and the old leader, which holds every
    // committed txn, comes back next to `behind`.
    c.crash(survivor);
    c.start(old_leader);
    c.start(behind);
    ASSERT_TRUE(c.run_until([&] { return c.serving_leader().has_value(); }, 10'000)) << report(c);
    c.run_for(200);
    EXPECT_TRUE(c.violations().empty()) << report(c);
    c.start(survivor);
    expect_live(c, 10'000);
    EXPECT_GE(c.committed().size(), 12u);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabSim, ProposalLoggedBetweenNewLeaderAckAndUpToDateIsAcked) {
  // A learner that logs a proposal after ACKing NEWLEADER but before UPTODATE
  // must still ACK it: here the leader needs that ACK for its quorum.
  ZabClusterOptions o = reliable(1100, 3);
  o.faults.min_delay_ms = o.faults.max_delay_ms = 5;
  o.faults.min_fsync_ms = o.faults.max_fsync_ms = 1;
  ZabCluster c(o);
  warm_up(c, 2);
  const int64_t leader = *c.serving_leader();
  const int64_t joiner = others(c, leader)[0];
  const int64_t other = others(c, leader)[1];
  c.crash(joiner);
  write(c, 3);
  bool fired = false;
  std::optional<int64_t> x;
  c.on_send([&](const zab::Message& m) {
    if (!fired && m.type == MessageType::kAckNewLeader && m.from == joiner) {
      fired = true;
      x = c.propose(leader);
      c.crash_soon(other, true);
    }
    return true;
  });
  c.start(joiner);
  ASSERT_TRUE(c.run_until([&] { return fired && !c.up(other); }, 5'000)) << report(c);
  ASSERT_TRUE(x.has_value()) << report(c);
  c.on_send(nullptr);
  EXPECT_TRUE(c.run_until([&] { return c.acknowledged().count(*x) > 0; }, 2'000))
      << "txn " << zxid_text(*x) << " logged by the joiner was never acknowledged\n"
      << report(c);
  EXPECT_TRUE(c.violations().empty()) << report(c);
}

TEST(ZabSim, RestartedLearnerDoesNotServeUncommittedTxns) {
  // A follower logs a proposal that no one else gets, restarts (applying its
  // whole log, as ZooKeeper does) and rejoins the same leader. ZooKeeper's
  // leader sends a learner that is ahead of its last committed zxid a TRUNC to
  // that zxid (LearnerHandler.syncFollower), then forwards the outstanding
  // proposals, so the learner serves committed txns only.
  for (uint64_t seed : seeds(1200, 5)) {
    ZabCluster c(reliable(seed, 5));
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 3);
    const int64_t leader = *c.serving_leader();
    const int64_t a = others(c, leader)[0];
    // Only `a` gets x (the leader dies before it could matter, see below).
    bool dropping = true;
    c.on_send([&](const zab::Message& m) {
      return !dropping || m.type != MessageType::kProposal || m.to == a;
    });
    std::optional<int64_t> x = c.propose(leader);
    dropping = false;
    ASSERT_TRUE(x) << report(c);
    ASSERT_TRUE(c.run_until([&] { return c.peer(a)->last_logged_zxid() == *x; }, 100)) << report(c);
    c.crash(a, true);
    c.start(a);
    ASSERT_TRUE(c.run_until([&] { return c.peer(a)->serving(); }, 1'000)) << report(c);
    EXPECT_EQ(c.peer(a)->leader(), leader);
    EXPECT_FALSE(holds(c.applied(a), *x))
        << "peer " << a << " serves uncommitted " << zxid_text(*x) << "\n"
        << report(c);
    EXPECT_TRUE(c.violations().empty()) << report(c);
    // The leader, the only other holder of x, dies: x may be committed by a
    // new leader or dropped, but never lost once committed.
    c.on_send(nullptr);
    c.crash(leader);
    c.run_for(500);
    c.start(leader);
    expect_live(c, 10'000);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ZabSim, FollowersStillLoggingWhenTheLeaderDies) {
  // The leader dies while its followers' disks are still logging its last
  // proposals: x1 reached both followers, x2 only `holder`. Whichever of them
  // leads next, nothing may diverge:
  //  - a follower describes its log with what it appended, not only what is
  //    durable (ZooKeeper flushes its log when a follower stops, then reports
  //    its last zxid), or the new leader's DIFF leaves x2 on `holder`, which
  //    later commits a txn nobody else has;
  //  - a TRUNC copes with appends still in flight below the truncation point;
  //  - a new leader counts itself in the NEWLEADER quorum only once its own
  //    history is durable.
  for (uint64_t seed : seeds(1300, 5)) {
    for (bool holder_first : {false, true}) {
      ZabClusterOptions o = reliable(seed, 3);
      o.faults.min_delay_ms = o.faults.max_delay_ms = 1;
      // A slow disk: the election is over before x1 and x2 are durable.
      o.faults.min_fsync_ms = o.faults.max_fsync_ms = 100;
      ZabCluster c(o);
      SCOPED_TRACE(std::string(holder_first ? "holder" : "the other follower") +
                   " has the higher id; reproduce with seed=" + std::to_string(seed));
      warm_up(c, 3);
      const int64_t leader = *c.serving_leader();
      const int64_t holder = others(c, leader)[holder_first ? 1 : 0];
      const int64_t next = others(c, leader)[holder_first ? 0 : 1];
      bool dropping = false;
      c.on_send([&](const zab::Message& m) {
        return !dropping || m.type != MessageType::kProposal || m.to != next;
      });
      std::optional<int64_t> x1 = c.propose(leader);
      dropping = true;
      std::optional<int64_t> x2 = c.propose(leader);
      c.crash(leader);  // before anything else leaves it
      c.on_send(nullptr);
      ASSERT_TRUE(x1 && x2) << report(c);
      ASSERT_TRUE(c.run_until([&] { return c.serving_leader().has_value(); }, 10'000)) << report(c);
      // Votes count what a server appended, durable or not, as ZooKeeper's do.
      EXPECT_EQ(*c.serving_leader(), holder) << report(c);
      write(c, 3);
      c.start(leader);
      expect_live(c, 10'000);
      if (testing::Test::HasFailure()) return;
    }
  }
}

TEST(ZabSim, RestartedLeaderWithShorterLogDoesNotLeadItsFormerFollowers) {
  // The leader commits x with its followers' ACKs before its own fsync, dies
  // without a trace and is back before they notice. Still following it, they
  // tell it that it leads (FastLeaderElection: "if everyone else thinks I'm
  // the leader, I must be"), but its log lacks x. ZooKeeper's leader refuses
  // a follower more recent than itself (Leader.waitForEpochAck); leading on
  // would TRUNC x away on the followers that join it.
  int hits = 0;
  for (uint64_t seed : seeds(1400, 40)) {
    ZabClusterOptions o = reliable(seed, 3);
    o.faults.min_delay_ms = o.faults.max_delay_ms = 1;
    o.faults.min_fsync_ms = 5;
    o.faults.max_fsync_ms = 40;
    ZabCluster c(o);
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 3);
    const int64_t leader = *c.serving_leader();
    std::optional<int64_t> x = c.propose(leader);
    ASSERT_TRUE(x) << report(c);
    ASSERT_TRUE(c.run_until([&] { return c.acknowledged().count(*x) > 0; }, 1'000)) << report(c);
    const SimStorage& disk = c.storage(leader);
    if (log_holds(disk.log, disk.durable, c.acknowledged().at(*x))) continue;  // fsync won
    ++hits;
    c.crash(leader, true);
    c.start(leader);
    ASSERT_TRUE(c.run_until([&] { return c.peer(leader)->state() == PeerState::kLeading; }, 200))
        << "the followers did not elect their former leader again\n"
        << report(c);
    // One follower restarts: it joins the "leader" its peer still follows.
    const int64_t joiner = others(c, leader)[0];
    c.crash(joiner);
    c.start(joiner);
    expect_live(c, 10'000);
    EXPECT_TRUE(holds(c.committed(), *x));
    if (testing::Test::HasFailure()) return;
  }
  EXPECT_GT(hits, 0) << "no seed made the leader commit before its own fsync";
}

TEST(ZabSim, LeaderSyncsNobodyBeforeAQuorumAckedItsEpoch) {
  // As above, with 5 voters: the restarted leader lacks committed x, and of
  // the two followers that come back to it, 1 lacks x too and 2 has it. If the
  // leader synced 1 as soon as 1 acked the epoch, 1 would take the new epoch
  // as current with a log without x, then win the next election on that
  // epoch and truncate x everywhere. ZooKeeper syncs no one before a quorum
  // acked the epoch and none of them is ahead of the leader.
  int hits = 0;
  for (uint64_t seed : seeds(1500, 40)) {
    ZabClusterOptions o = reliable(seed, 5);
    o.faults.min_delay_ms = o.faults.max_delay_ms = 1;
    o.faults.min_fsync_ms = 5;
    o.faults.max_fsync_ms = 40;
    ZabCluster c(o);
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    warm_up(c, 3);
    const int64_t leader = *c.serving_leader();
    const std::vector<int64_t> rest = others(c, leader);
    const int64_t lacking = rest[0], ahead = rest[1];
    bool dropping = true;
    c.on_send([&](const zab::Message& m) {
      return !dropping || m.type != MessageType::kProposal || m.to != lacking;
    });
    std::optional<int64_t> x = c.propose(leader);
    dropping = false;
    ASSERT_TRUE(x) << report(c);
    ASSERT_TRUE(c.run_until([&] { return c.acknowledged().count(*x) > 0; }, 1'000)) << report(c);
    c.on_send(nullptr);
    const SimStorage& disk = c.storage(leader);
    if (log_holds(disk.log, disk.durable, c.acknowledged().at(*x))) continue;  // fsync won
    ++hits;
    c.crash(leader, true);
    c.start(leader);
    ASSERT_TRUE(c.run_until([&] { return c.peer(leader)->state() == PeerState::kLeading; }, 200))
        << report(c);
    for (int64_t id : {lacking, ahead}) {
      c.crash(id);
      c.start(id);
      ASSERT_TRUE(c.run_until([&] { return c.peer(id)->state() == PeerState::kFollowing; }, 200))
          << report(c);
    }
    expect_live(c, 10'000);
    EXPECT_TRUE(holds(c.committed(), *x));
    if (testing::Test::HasFailure()) return;
  }
  EXPECT_GT(hits, 0) << "no seed made the leader commit before its own fsync";
}

// ---------------------------------------------------------------- (d) lost quorum

TEST(ZabSim, LeaderWithoutQuorumStepsDownWithinSyncLimit) {
  for (uint64_t seed : seeds(600, 10)) {
    for (int voters : {3, 5}) {
      ZabCluster c(reliable(seed, voters));
      SCOPED_TRACE(std::to_string(voters) + " voters; reproduce with seed=" + std::to_string(seed));
      warm_up(c, 5);
      const int64_t old_leader = *c.serving_leader();
      const int64_t old_epoch = c.peer(old_leader)->current_epoch();
      const auto rest = others(c, old_leader);
      const int64_t cut_at = c.now_ms();
      c.partition({{old_leader}, rest});
      std::vector<int64_t> orphans;
      if (std::optional<int64_t> x = c.propose(old_leader)) orphans.push_back(*x);
      ASSERT_TRUE(c.run_until([&] { return !c.peer(old_leader)->serving(); }, 10'000)) << report(c);
      const int64_t limit = c.options().sync_limit * c.options().tick_ms;
      EXPECT_LE(c.now_ms() - cut_at, limit + c.options().tick_ms)
          << "the leader served " << c.now_ms() - cut_at << " ms without a quorum\n"
          << report(c);
      ASSERT_TRUE(c.run_until([&] { return leader_among(c, rest).has_value(); }, 10'000))
          << report(c);
      EXPECT_GT(c.peer(*leader_among(c, rest))->current_epoch(), old_epoch);
      write(c, 3);
      c.heal();
      expect_live(c, 10'000);
      for (int64_t x : orphans) EXPECT_FALSE(holds(c.committed(), x));
      if (testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace corral::sim
