// What a corrupt or malicious ensemble member can make a ZAB peer do: found by
// tests/fuzz/peer_fuzzer, each of these once crashed a server or broke an invariant it
// relies on (epochs never go back, the log grows in zxid order).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>

#include "ensemble/zab/peer.h"

namespace corral::zab {
namespace {

constexpr int64_t kNow = 1'000'000;

PeerConfig config(int64_t my_id) {
  PeerConfig c;
  c.my_id = my_id;
  c.members = {{1, true}, {2, true}, {3, true}, {4, false}};
  return c;
}

Message from(int64_t sender, MessageType type, int64_t epoch = 0, int64_t zxid = 0) {
  Message m;
  m.from = sender;
  m.type = type;
  m.epoch = epoch;
  m.zxid = zxid;
  return m;
}

tree::Txn txn(int64_t zxid) {
  tree::Txn t;
  t.zxid = zxid;
  t.type = wire::OpCode::kCreateSession;
  return t;
}

/// Servers 2 and 3 tell `p` that `leader` leads (round 1).
void elect(Peer& p, int64_t leader) {
  for (int64_t id : {2, 3}) {
    Vote v{leader, 5, 0};
    PeerState state = id == leader ? PeerState::kLeading : PeerState::kFollowing;
    p.step_election(Notification{id, state, v, 1}, kNow);
  }
}

/// Server 1 following server 3, synced in epoch 1 with txns 1 and 2 of that epoch.
std::unique_ptr<Peer> synced_follower() {
  auto p = std::make_unique<Peer>(config(1), PeerHistory{}, kNow);
  elect(*p, 3);
  EXPECT_EQ(p->state(), PeerState::kFollowing);
  p->step(from(3, MessageType::kLeaderInfo, 1), kNow);
  Message sync = from(3, MessageType::kSync);
  sync.txns = {tree::share(txn(int64_t{1} << 32 | 1)), tree::share(txn(int64_t{1} << 32 | 2))};
  sync.committed_zxid = int64_t{1} << 32 | 2;
  p->step(sync, kNow);
  p->step(from(3, MessageType::kNewLeader, 1), kNow);
  p->logged(int64_t{1} << 32 | 2, kNow);
  p->step(from(3, MessageType::kUpToDate, 1), kNow);
  EXPECT_TRUE(p->serving());
  p->take_ready();
  return p;
}

// ZooKeeper's FastLeaderElection ignores votes for non-voters (validVoter(n.leader)).
TEST(ZabHostilePeer, VotesForAnObserverOrAStrangerAreIgnored) {
  Peer observer(config(4), PeerHistory{}, kNow);
  elect(observer, 4);  // two voters claim the observer leads
  EXPECT_EQ(observer.state(), PeerState::kLooking);
  EXPECT_EQ(observer.leader(), 0);

  Peer voter(config(1), PeerHistory{}, kNow);
  // A stranger with a better history: adopting it would stall every election.
  voter.step_election(Notification{2, PeerState::kLooking, Vote{99, 1000, 7}, 1}, kNow);
  voter.step_election(Notification{3, PeerState::kLooking, Vote{99, 1000, 7}, 1}, kNow);
  voter.tick(kNow + 10'000);
  EXPECT_EQ(voter.state(), PeerState::kLooking);
  for (const auto& [to, n] : voter.take_ready().notifications) EXPECT_NE(n.vote.leader, 99);
}

// ZooKeeper's Learner takes the new epoch from LEADERINFO, whatever NEWLEADER says.
TEST(ZabHostilePeer, NewLeaderNamingAnotherEpochIsRefused) {
  Peer p(config(1), PeerHistory{}, kNow);
  elect(p, 3);
  p.step(from(3, MessageType::kLeaderInfo, 1), kNow);
  p.step(from(3, MessageType::kSync), kNow);
  p.step(from(3, MessageType::kNewLeader, -1), kNow);
  EXPECT_EQ(p.state(), PeerState::kLooking);
  EXPECT_EQ(p.current_epoch(), 0);
  EXPECT_FALSE(p.take_ready().current_epoch.has_value());
}

TEST(ZabHostilePeer, ProposalOfALoggedZxidIsNotLoggedAgain) {
  auto p = synced_follower();
  Message old = from(3, MessageType::kProposal);
  old.txns = {tree::share(txn(int64_t{1} << 32 | 2)), tree::share(txn(int64_t{1} << 32 | 1))};
  p->step(old, kNow);
  EXPECT_TRUE(p->take_ready().to_log.empty());
  EXPECT_EQ(p->last_appended_zxid(), int64_t{1} << 32 | 2);
}

TEST(ZabHostilePeer, SnapWithoutASnapshotIsRefused) {
  Peer p(config(1), PeerHistory{}, kNow);
  elect(p, 3);
  p.step(from(3, MessageType::kLeaderInfo, 1), kNow);
  Message snap = from(3, MessageType::kSync);
  snap.sync_mode = SyncMode::kSnap;  // and no snapshot: used to dereference null
  p.step(snap, kNow);
  EXPECT_EQ(p.state(), PeerState::kLooking);
  EXPECT_EQ(p.take_ready().install_snapshot, nullptr);
}

TEST(ZabHostilePeer, EpochsPastTheZxidsBitsAreRefused) {
  Peer leader(config(1), PeerHistory{}, kNow);
  elect(leader, 1);
  ASSERT_EQ(leader.state(), PeerState::kLeading);
  // The new epoch is the learners' highest + 1: INT64_MAX + 1 overflowed.
  leader.step(from(2, MessageType::kFollowerInfo, std::numeric_limits<int64_t>::max()), kNow);
  leader.step(from(3, MessageType::kFollowerInfo, 0), kNow);
  Ready r = leader.take_ready();
  ASSERT_TRUE(r.accepted_epoch.has_value());
  EXPECT_EQ(*r.accepted_epoch, 1);

  Peer learner(config(1), PeerHistory{}, kNow);
  elect(learner, 3);
  learner.step(from(3, MessageType::kLeaderInfo, int64_t{1} << 40), kNow);
  EXPECT_EQ(learner.state(), PeerState::kLooking);
  EXPECT_EQ(learner.accepted_epoch(), 0);
}

// Logged as a learner, a later epoch's zxid would come again when this peer leads that epoch.
TEST(ZabHostilePeer, TxnsOfALaterEpochAreRefused) {
  auto p = synced_follower();
  Message future = from(3, MessageType::kProposal);
  future.txns = {tree::share(txn(int64_t{2} << 32 | 1))};
  p->step(future, kNow);
  EXPECT_EQ(p->state(), PeerState::kLooking);
  EXPECT_TRUE(p->take_ready().to_log.empty());
}

TEST(ZabHostilePeer, AnElectionRoundNoEnsembleReachesIsIgnored) {
  Peer p(config(1), PeerHistory{}, kNow);
  const int64_t huge = std::numeric_limits<int64_t>::max();
  p.step_election(Notification{2, PeerState::kLooking, Vote{3, 9, 0}, huge}, kNow);
  for (const auto& [to, n] : p.take_ready().notifications) EXPECT_EQ(n.election_epoch, 1);
  // A real newer round is still joined.
  p.step_election(Notification{2, PeerState::kLooking, Vote{3, 9, 0}, 5}, kNow);
  Ready r = p.take_ready();
  ASSERT_FALSE(r.notifications.empty());
  EXPECT_EQ(r.notifications.back().second.election_epoch, 5);
}

// Issue 11: a follower whose tree does not fit a committed txn (see QuorumPeer::apply_committed)
// keeps the log its state came from, leaves the leader and asks the next one for a SNAP. It
// may have acknowledged the txns it dropped, so until the SNAP it abstains (persisted, so a
// restart keeps it): its votes carry the mark that has every other member ignore them, and it
// votes for no one (tests/ensemble/zab_abstain_test.cc plays the whole scenario).
TEST(ZabHostilePeer, ADivergedFollowerTruncatesLooksAbstainsAndAsksForASnapshot) {
  auto p = synced_follower();
  const int64_t first = int64_t{1} << 32 | 1;
  p->diverged(first, kNow);
  EXPECT_EQ(p->state(), PeerState::kLooking);
  EXPECT_EQ(p->last_appended_zxid(), first);
  EXPECT_TRUE(p->abstaining());
  Ready r = p->take_ready();
  ASSERT_TRUE(r.truncate_after.has_value());
  EXPECT_EQ(*r.truncate_after, first);
  EXPECT_TRUE(r.committed.empty());
  ASSERT_TRUE(r.abstaining.has_value());
  EXPECT_TRUE(*r.abstaining);
  ASSERT_FALSE(r.notifications.empty());
  for (const auto& [to, n] : r.notifications) {
    EXPECT_TRUE(n.abstaining);
    EXPECT_NE(n.vote.leader, 1);
  }

  elect(*p, 3);
  ASSERT_EQ(p->state(), PeerState::kFollowing);
  r = p->take_ready();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].type, MessageType::kFollowerInfo);
  EXPECT_TRUE(r.messages[0].wants_snapshot);
  EXPECT_EQ(r.messages[0].zxid, first);
}

// A DIFF would build on the state the learner found wrong: the leader sends its snapshot.
TEST(ZabHostilePeer, ALeaderSendsASnapshotToALearnerThatAsksForOne) {
  PeerHistory history;
  history.accepted_epoch = history.current_epoch = 1;
  history.last_zxid = int64_t{1} << 32 | 1;
  history.recent = {txn(history.last_zxid)};
  Peer leader(config(1), history, kNow);
  int snapshots = 0;
  leader.set_snapshot_source([&] {
    ++snapshots;
    return std::make_shared<SnapshotData>(SnapshotData{history.last_zxid, "state"});
  });
  elect(leader, 1);
  ASSERT_EQ(leader.state(), PeerState::kLeading);
  Message info = from(2, MessageType::kFollowerInfo, 1, history.last_zxid);
  info.wants_snapshot = true;
  leader.step(info, kNow);
  leader.step(from(3, MessageType::kFollowerInfo, 1, history.last_zxid), kNow);
  leader.take_ready();
  leader.step(from(2, MessageType::kAckEpoch, 1, history.last_zxid), kNow);
  leader.step(from(3, MessageType::kAckEpoch, 1, history.last_zxid), kNow);
  std::map<int64_t, SyncMode> modes;
  for (const auto& m : leader.take_ready().messages)
    if (m.type == MessageType::kSync) modes[m.to] = m.sync_mode;
  EXPECT_EQ(modes[2], SyncMode::kSnap);
  EXPECT_EQ(modes[3], SyncMode::kDiff);  // same zxid, no request: the usual empty DIFF
  EXPECT_EQ(snapshots, 1);
}

// The driver checks its log ends where the core says after a TRUNC: where the log ends, not
// a zxid past it the leader named.
TEST(ZabHostilePeer, TruncTakesTheLowerOfItsZxidAndTheLog) {
  auto p = synced_follower();
  Message trunc = from(3, MessageType::kSync);
  trunc.sync_mode = SyncMode::kTrunc;
  trunc.trunc_zxid = int64_t{1} << 32 | 9;
  p->step(trunc, kNow);
  Ready r = p->take_ready();
  ASSERT_TRUE(r.truncate_after.has_value());
  EXPECT_EQ(*r.truncate_after, int64_t{1} << 32 | 2);

  auto q = synced_follower();
  trunc.trunc_zxid = -1;
  q->step(trunc, kNow);
  EXPECT_EQ(q->state(), PeerState::kLooking);
  EXPECT_FALSE(q->take_ready().truncate_after.has_value());
}

}  // namespace
}  // namespace corral::zab
