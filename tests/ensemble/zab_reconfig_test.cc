// Dynamic reconfiguration in the ZAB core (docs/design/reconfig.md 3.3), with scripted Peers
// wired directly: a reconfig and everything after it commit only on majorities of both
// configs, activation happens at commit, the leader's successor is the new voter that acked
// the most (Leader.getDesignatedLeader), every role hands off without an election, a pending
// reconfig is completed by the next leader only with both majorities, the first leader
// re-issues the version-0 config at its epoch (ZOOKEEPER-1783), a learner with a newer
// config than its leader's is refused, a SNAP drops an uncommitted reconfig, a declared
// observer never counts toward the active config, reconfig off keeps membership static, and a
// leader that is not kept never designates itself.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>

#include "ensemble/zab/peer.h"
#include "ensemble/zab/quorum_config.h"
#include "tests/ensemble/zab_reconfig_cluster.h"

namespace corral::zab {
namespace {

using namespace reconfig_test;  // NOLINT: the test vocabulary

// Leader.tryToCommit: a reconfig's proposal (and each one after it) carries both configs and
// needs a majority of each. Server 2 is removed, joiners 4 and 5 are added: the old majority
// {1, 3} acks, but without 4 or 5 the new config {1, 3, 4, 5} has no majority.
TEST(ZabReconfig, AReconfigAndEverythingAfterItCommitOnlyOnBothMajorities) {
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3, 4, 5});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  EXPECT_EQ(c.peer(4).state(), PeerState::kFollowing) << "a non-member follows, unlisted";
  // The prep's NEWCONFIGNOQUORUM check: synced non-members count, absent servers do not.
  EXPECT_TRUE(c.peer(3).quorum_synced(members({{1, P}, {3, P}, {4, P}, {5, P}})));
  EXPECT_FALSE(c.peer(3).quorum_synced(members({{3, P}, {6, P}, {7, P}})));

  bool cut = true;
  c.drop = [&](const Message& m) {
    return cut && m.type == MessageType::kAck && (m.from == 4 || m.from == 5);
  };
  const QuorumConfig next = members({{1, P}, {3, P}, {4, P}, {5, P}});
  const int64_t r = c.propose(3, [&](int64_t z) { return reconfig_txn(next, z); });
  EXPECT_TRUE(c.peer(3).reconfig_pending());
  const int64_t a = c.propose(3, [](int64_t) { return write_txn(); });
  c.run_for(2'000);
  ASSERT_TRUE(c.disk(3).next) << "the last-seen config is persisted at proposal";
  EXPECT_EQ(c.disk(3).next->version, r);
  EXPECT_TRUE(c.logged(1, r) && c.logged(2, a)) << "the old members acked both";
  ASSERT_TRUE(c.peer(1).last_seen_config()) << "a follower sees it at PROPOSAL";
  EXPECT_EQ(c.peer(1).last_seen_config()->version, r);
  EXPECT_FALSE(c.applied(3, r)) << "committed on the old config's majority alone";
  EXPECT_FALSE(c.applied(3, a)) << "a proposal after the reconfig committed before it";

  cut = false;
  // The next ack of 4 or 5 vouches for everything before it too.
  const int64_t b = c.propose(3, [](int64_t) { return write_txn(); });
  ASSERT_TRUE(c.run_until([&] { return c.applied(3, b) && c.all_active(r); }));
  EXPECT_TRUE(c.applied(1, r) && c.applied(5, a) && c.applied(2, b));
  EXPECT_EQ(c.disk(1).active->version, r);
  EXPECT_FALSE(c.peer(3).reconfig_pending());
  // The leader stays (still a voter at the same address); 2 serves on without a vote.
  EXPECT_TRUE(c.all_serve(3));
}

// Leader.getDesignatedLeader: the leader leaves, so it designates the new voter that acked the
// reconfig and the most proposals after it (1 acked the reconfig only, 2 everything), and
// every server (followers, the joiner, the observer, the old leader) moves to it without an
// election.
TEST(ZabReconfig, ARemovedLeaderDesignatesTheVoterThatAckedTheMostAndEveryoneHandsOff) {
  Cluster c(members({{1, P}, {2, P}, {3, P}, {5, O}}), {1, 2, 3, 4, 5});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  int64_t r = 0;
  bool cut = true;
  bool old_leader_committed_past = false;
  c.drop = [&](const Message& m) {
    old_leader_committed_past |= m.from == 3 && m.type == MessageType::kCommit && m.zxid > r;
    return cut && m.type == MessageType::kProposal && m.to == 1 && m.txns[0]->zxid > r;
  };
  const int64_t elections = c.looking_notifications();
  r = c.propose(3, [&](int64_t z) {
    return reconfig_txn(members({{1, P}, {2, P}, {4, P}, {5, O}}), z);
  });
  c.flush(3);  // 1 is to get the reconfig's PROPOSAL, not the next one
  const int64_t a = c.propose(3, [](int64_t) { return write_txn(); });
  const int64_t b = c.propose(3, [](int64_t) { return write_txn(); });
  ASSERT_TRUE(c.run_until([&] {
    return !c.disk(3).activations.empty() && c.disk(3).activations.back().config->version == r;
  }));
  EXPECT_EQ(c.disk(3).activations.back().designated_leader, 2);
  EXPECT_TRUE(c.disk(3).activations.back().from_txn);

  cut = false;
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(2) && c.applied(4, b) && c.applied(3, b); }));
  EXPECT_EQ(c.looking_notifications(), elections) << "a hand-off ran an election";
  EXPECT_FALSE(old_leader_committed_past) << "the old leader committed past its reconfig";
  EXPECT_EQ(c.peer(3).state(), PeerState::kFollowing) << "the old leader follows, unlisted";
  EXPECT_EQ(c.peer(5).state(), PeerState::kObserving);
  EXPECT_TRUE(c.applied(5, b));
  EXPECT_TRUE(c.applied(1, a) && c.applied(2, b));
  EXPECT_TRUE(c.all_active(r));
}

// A listed observer made a participant, and a participant made an observer: each hands off
// to the same leader in its new role; the promoted one's acks then count.
TEST(ZabReconfig, AnObserverPromotedAndAFollowerDemotedChangeRolesUnderTheSameLeader) {
  Cluster c(members({{1, P}, {2, P}, {3, P}, {4, O}}), {1, 2, 3, 4});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  ASSERT_EQ(c.peer(4).state(), PeerState::kObserving);
  const int64_t elections = c.looking_notifications();
  const int64_t r = c.propose(3, [](int64_t z) {
    return reconfig_txn(members({{1, O}, {2, P}, {3, P}, {4, P}}), z);
  });
  ASSERT_TRUE(c.run_until([&] {
    return c.all_active(r) && c.all_serve(3) && c.peer(4).state() == PeerState::kFollowing &&
           c.peer(1).state() == PeerState::kObserving;
  }));
  EXPECT_EQ(c.looking_notifications(), elections) << "a hand-off ran an election";
  // Without 2, the new voters {2, 3, 4} commit only if 4's acks count.
  c.crash(2);
  const int64_t x = c.propose(3, [](int64_t) { return write_txn(); });
  EXPECT_TRUE(c.run_until([&] { return c.applied(3, x) && c.applied(1, x); }));
}

// A server outside the config follows without a vote and acks; once a reconfig adds it, its
// acks count (they are kept from every learner; membership decides which count).
TEST(ZabReconfig, AJoinersAcksCountOnceTheReconfigAddsIt) {
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3, 4});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  c.crash(1);
  const int64_t r = c.propose(3, [](int64_t z) {
    return reconfig_txn(members({{2, P}, {3, P}, {4, P}}), z);
  });
  ASSERT_TRUE(c.run_until([&] { return c.all_active(r); }));
  // Without 2, the leader keeps its quorum and commits only if 4's acks count.
  c.crash(2);
  c.run_for(1'000);
  EXPECT_TRUE(c.all_serve(3)) << "3 lost its quorum";
  const int64_t x = c.propose(3, [](int64_t) { return write_txn(); });
  EXPECT_TRUE(c.run_until([&] { return c.applied(3, x) && c.applied(4, x); }));
}

// Leader.startZkServer: a leader elected while a reconfig is pending needs NEWLEADER acks
// from majorities of both configs, and completes (activates) it at establishment.
TEST(ZabReconfig, APendingReconfigIsCompletedByTheNextLeaderOnlyWithBothMajorities) {
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3, 4});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  bool acks_to_3 = false;
  c.drop = [&](const Message& m) { return !acks_to_3 && m.to == 3 && m.type == MessageType::kAck; };
  const int64_t r = c.propose(3, [](int64_t z) {
    return reconfig_txn(members({{1, P}, {2, P}, {3, P}, {4, P}}), z);
  });
  ASSERT_TRUE(c.run_until([&] { return c.logged(1, r) && c.logged(2, r) && c.logged(4, r); }));
  ASSERT_TRUE(c.disk(4).next) << "the joiner persisted the proposed config";
  EXPECT_EQ(c.disk(4).next->version, r);
  c.crash(3);
  // 1 and 2 elect 2; without 4 the new config {1, 2, 3, 4} has no majority.
  bool cut_4 = true;
  c.drop = [&](const Message& m) { return cut_4 && (m.to == 4 || m.from == 4); };
  c.run_for(3'000);
  EXPECT_FALSE(c.peer(2).serving()) << "established on the old config's majority alone";
  EXPECT_FALSE(c.applied(2, r));
  cut_4 = false;
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(2) && c.all_active(r); }));
  EXPECT_TRUE(c.applied(1, r) && c.applied(4, r));
  EXPECT_EQ(c.disk(2).active->version, r);
}

// ZOOKEEPER-1783: with reconfig on, the first leader re-issues the version-0 config at its
// epoch (kazoo then reads version=100000000); with reconfig off nothing changes.
TEST(ZabReconfig, TheFirstLeaderReissuesVersionZeroAtItsEpochOnlyWithReconfigOn) {
  for (bool enabled : {true, false}) {
    Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3}, enabled);
    ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
    const int64_t expected = enabled ? int64_t{1} << 32 : 0;
    EXPECT_TRUE(c.all_active(expected)) << "enabled " << enabled;
    for (int64_t id : {1, 2, 3}) {
      EXPECT_EQ(c.disk(id).activations.size(), enabled ? 1u : 0u) << id;
      if (!enabled || c.disk(id).activations.empty()) continue;
      EXPECT_FALSE(c.disk(id).activations[0].from_txn) << "no txn carries the re-issue";
      EXPECT_TRUE(c.disk(id).activations[0].config->text().ends_with("\nversion=100000000"));
    }
  }
}

// LearnerHandler refuses a follower whose active config is newer than the leader's: syncing it
// would take that config back.
TEST(ZabReconfig, ALeaderRefusesALearnerWithANewerConfig) {
  for (bool enabled : {true, false}) {
    PeerConfig pc;
    pc.my_id = 3;
    pc.members = {{1, true}, {2, true}, {3, true}};
    pc.reconfig_enabled = enabled;
    Peer leader(pc, PeerHistory{}, kNow);
    for (int64_t id : {1, 2})
      leader.step_election(Notification{id, PeerState::kLooking, Vote{3, 0, 0}, 1}, kNow);
    leader.tick(kNow + 1'000);
    ASSERT_EQ(leader.state(), PeerState::kLeading);
    Message ahead;
    ahead.type = MessageType::kFollowerInfo;
    ahead.from = 1;
    ahead.config_version = 7;
    Message level = ahead;
    level.from = 2;
    level.config_version = 0;
    leader.step(ahead, kNow + 1'000);
    leader.step(level, kNow + 1'000);
    std::set<int64_t> told;
    for (const auto& m : leader.take_ready().messages)
      if (m.type == MessageType::kLeaderInfo) told.insert(m.to);
    const std::set<int64_t> expected = enabled ? std::set<int64_t>{2} : std::set<int64_t>{1, 2};
    EXPECT_EQ(told, expected) << enabled;
    EXPECT_EQ(leader.learner_count(), enabled ? 1u : 2u);
  }
}

// Learner.syncWithLeader: a reconfig in the sync stream beyond the committed zxid is pending on
// the learner (ReconfigDuringLeaderSyncTest); a TRUNC that drops its txn forgets it.
TEST(ZabReconfig, ALearnerSeesAReconfigInItsSyncAndForgetsItWhenTruncated) {
  PeerConfig pc;
  pc.my_id = 1;
  pc.members = {{1, true}, {2, true}, {3, true}};
  pc.reconfig_enabled = true;
  Peer p(pc, PeerHistory{}, kNow);
  for (int64_t id : {2, 3}) {
    PeerState s = id == 3 ? PeerState::kLeading : PeerState::kFollowing;
    p.step_election(Notification{id, s, Vote{3, 0, 0}, 1}, kNow);
  }
  ASSERT_EQ(p.state(), PeerState::kFollowing);
  auto leader_message = [](MessageType type, int64_t epoch = 0) {
    Message m;
    m.type = type;
    m.from = 3;
    m.to = 1;
    m.epoch = epoch;
    return m;
  };
  p.step(leader_message(MessageType::kLeaderInfo, 1), kNow);
  const int64_t w = int64_t{1} << 32 | 1, r = int64_t{1} << 32 | 2;
  Message sync = leader_message(MessageType::kSync);
  tree::Txn first = write_txn();
  first.zxid = w;
  tree::Txn reconfig = reconfig_txn(members({{1, P}, {2, P}, {4, P}}), r);
  reconfig.zxid = r;
  sync.txns = {tree::share(first), tree::share(reconfig)};
  sync.committed_zxid = w;
  p.step(sync, kNow);
  Ready ready = p.take_ready();
  ASSERT_TRUE(ready.next_config);
  EXPECT_EQ(ready.next_config->version, r);
  EXPECT_TRUE(p.reconfig_pending());
  EXPECT_FALSE(ready.activated);

  // Re-synced by a leader that never committed it: TRUNC to w.
  p.disconnected(3, kNow);
  for (int64_t id : {2, 3}) {
    PeerState s = id == 3 ? PeerState::kLeading : PeerState::kFollowing;
    p.step_election(Notification{id, s, Vote{3, w, 1}, 2}, kNow);
  }
  ASSERT_EQ(p.state(), PeerState::kFollowing);
  p.step(leader_message(MessageType::kLeaderInfo, 2), kNow);
  Message trunc = leader_message(MessageType::kSync);
  trunc.sync_mode = SyncMode::kTrunc;
  trunc.trunc_zxid = w;
  trunc.committed_zxid = w;
  p.step(trunc, kNow);
  EXPECT_FALSE(p.reconfig_pending());
  EXPECT_EQ(p.active_config()->version, 0);
}

// A logged reconfig the leader never committed does not survive a SNAP, even when the snapshot
// is newer than it; the SNAPping learner ends up with the leader's (newer) active config, which
// NEWLEADER carries.
TEST(ZabReconfig, ASnapForgetsAnUncommittedReconfigAndBringsTheLeadersActiveConfig) {
  PeerConfig pc;
  pc.my_id = 1;
  pc.members = {{1, true}, {2, true}, {3, true}};
  pc.reconfig_enabled = true;
  Peer p(pc, PeerHistory{}, kNow);
  auto follow = [&](int64_t round, int64_t zxid, int64_t epoch) {
    for (int64_t id : {2, 3}) {
      PeerState s = id == 3 ? PeerState::kLeading : PeerState::kFollowing;
      p.step_election(Notification{id, s, Vote{3, zxid, epoch}, round}, kNow);
    }
    ASSERT_EQ(p.state(), PeerState::kFollowing);
  };
  auto from_leader = [](MessageType type, int64_t epoch = 0) {
    Message m;
    m.type = type;
    m.from = 3;
    m.to = 1;
    m.epoch = epoch;
    return m;
  };
  follow(1, 0, 0);
  p.step(from_leader(MessageType::kLeaderInfo, 1), kNow);
  const int64_t w = int64_t{1} << 32 | 1, r = int64_t{1} << 32 | 2;
  tree::Txn first = write_txn();
  first.zxid = w;
  tree::Txn reconfig = reconfig_txn(members({{1, P}, {2, P}, {4, P}}), r);
  reconfig.zxid = r;
  Message sync = from_leader(MessageType::kSync);
  sync.txns = {tree::share(first), tree::share(reconfig)};
  sync.committed_zxid = w;
  p.step(sync, kNow);
  ASSERT_TRUE(p.reconfig_pending());

  // Leader 3 moved on without r: its active config is version 2<<32, its snapshot newer than r.
  p.disconnected(3, kNow);
  follow(2, w, 1);
  p.step(from_leader(MessageType::kLeaderInfo, 2), kNow);
  QuorumConfig leaders = members({{1, P}, {2, P}, {3, P}});
  leaders.version = int64_t{2} << 32;
  Message snap = from_leader(MessageType::kSync);
  snap.sync_mode = SyncMode::kSnap;
  snap.snapshot = std::make_shared<SnapshotData>(SnapshotData{int64_t{2} << 32 | 5, ""});
  snap.committed_zxid = snap.snapshot->zxid;
  p.step(snap, kNow);
  EXPECT_FALSE(p.reconfig_pending()) << "the uncommitted reconfig survived the SNAP";
  Message newleader = from_leader(MessageType::kNewLeader, 2);
  newleader.config = leaders.text();
  p.step(newleader, kNow);
  p.step(from_leader(MessageType::kUpToDate, 2), kNow);
  EXPECT_EQ(p.active_config()->version, leaders.version);
  EXPECT_FALSE(p.reconfig_pending());
  EXPECT_TRUE(p.serving());
}

// LearnerHandler counts only participant-type learners: one that declares itself an observer
// (it never acks proposals) does not help a leader start its epoch, even if the config lists
// it as a voter, reconfig on or off.
TEST(ZabReconfig, ADeclaredObserverDoesNotCountTowardTheActiveConfig) {
  for (bool enabled : {true, false}) {
    PeerConfig pc;
    pc.my_id = 3;
    pc.members = {{1, true}, {2, true}, {3, true}};
    pc.reconfig_enabled = enabled;
    Peer leader(pc, PeerHistory{}, kNow);
    for (int64_t id : {1, 2})
      leader.step_election(Notification{id, PeerState::kLooking, Vote{3, 0, 0}, 1}, kNow);
    leader.tick(kNow + 1'000);
    ASSERT_EQ(leader.state(), PeerState::kLeading);
    leader.take_ready();
    auto info = [](int64_t from, bool observer) {
      Message m;
      m.type = MessageType::kFollowerInfo;
      m.from = from;
      m.to = 3;
      m.observer = observer;
      return m;
    };
    auto leader_infos = [&] {
      size_t n = 0;
      for (const auto& m : leader.take_ready().messages) n += m.type == MessageType::kLeaderInfo;
      return n;
    };
    leader.step(info(1, true), kNow + 1'000);
    EXPECT_EQ(leader_infos(), 0u) << "a declared observer made a quorum; reconfig " << enabled;
    leader.step(info(2, false), kNow + 1'000);
    EXPECT_EQ(leader_infos(), 2u) << "a follower did not; reconfig " << enabled;
  }
}

// With reconfigEnabled=false membership is static: a reconfig txn commits as data but is
// neither seen nor activated.
TEST(ZabReconfig, WithReconfigOffAReconfigTxnIsNeverActivated) {
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3}, false);
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  const int64_t r = c.propose(3, [](int64_t z) {
    return reconfig_txn(members({{1, P}, {2, P}}), z);
  });
  EXPECT_FALSE(c.peer(3).reconfig_pending());
  ASSERT_TRUE(c.run_until([&] { return c.applied(1, r) && c.applied(2, r) && c.applied(3, r); }));
  for (int64_t id : {1, 2, 3}) {
    EXPECT_TRUE(c.disk(id).activations.empty()) << id;
    EXPECT_EQ(c.peer(id).active_config()->version, 0) << id;
    EXPECT_FALSE(c.peer(id).reconfig_pending()) << id;
  }
  EXPECT_TRUE(c.all_serve(3));
}

// Leader.getDesignatedLeader: a leader whose quorum address changes is not kept, and it is
// removed from the candidates even though it acked the most proposals after the reconfig.
TEST(ZabReconfig, ALeaderThatMovesItsQuorumAddressDesignatesAnother) {
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  QuorumConfig moved = members({{1, P}, {2, P}, {3, P}});
  moved.servers[3].quorum_port = 2999;
  const int64_t r = c.propose(3, [&](int64_t z) { return reconfig_txn(moved, z); });
  c.flush(3);  // the followers are to get the reconfig's PROPOSAL, not w's
  const int64_t w = c.propose(3, [](int64_t) { return write_txn(); });
  // Only the leader holds w: the proposal after the reconfig narrows the candidates to it.
  c.drop = [w](const Message& m) {
    return m.type == MessageType::kProposal && !m.txns.empty() && m.txns[0]->zxid == w;
  };
  auto activated = [&](int64_t id) {
    for (const auto& a : c.disk(id).activations)
      if (a.config->version == r) return true;
    return false;
  };
  ASSERT_TRUE(c.run_until([&] { return activated(3); }));
  const Activation& a = c.disk(3).activations.back();
  EXPECT_EQ(a.config->version, r);
  EXPECT_NE(a.designated_leader, 3) << "the moved leader designated itself";
  EXPECT_EQ(a.designated_leader, 1);
}

}  // namespace
}  // namespace corral::zab
