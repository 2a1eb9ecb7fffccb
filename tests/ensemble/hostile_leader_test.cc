// Issue 11: what a hostile or broken leader can do to a follower (a real QuorumPeer with its
// database, see hostile_leader_fixture.h). Each of these once stopped the follower's process
// (an abort in DataTree::apply or in the storage thread) or left a restart with state the
// leader had truncated. The follower must survive: it leaves that leader (LOOKING), keeps a
// tree and a database that agree, and syncs again.
#include <gtest/gtest.h>

#include "ensemble/zab/wire.pb.h"
#include "tests/ensemble/hostile_leader_fixture.h"

namespace corral::server::test {
namespace {

using wire::OpCode;

/// Member 1 following the fake leader in epoch 1, with /a committed at 0x100000001.
class SyncedFollowerTest : public HostileLeaderTest {
 protected:
  void SetUp() override {
    start_member();
    follow(1);
    sync(sync_message(zab::SyncMode::kDiff), 1);
    commit(one_op(zxid(1, 1), OpCode::kCreate, "/a"));
    ASSERT_TRUE(run_until([&] { return has("/a"); }));
  }
};

/// A committed txn whose precondition fails on the follower's tree.
struct Misfit {
  const char* name;
  tree::Txn txn;
};

class MisfitTest : public SyncedFollowerTest, public ::testing::WithParamInterface<Misfit> {};

// ZooKeeper's DataTree.processTxn answers these with NONODE / NODEEXISTS and goes on with a
// tree that is no longer the leader's (see QuorumPeer::apply_committed). Here the txn is not
// applied, the log is cut back to the state the follower holds, it leaves the leader,
// abstains from elections (it had acknowledged the txn it dropped), asks for a SNAP, and the
// SNAP repairs it.
TEST_P(MisfitTest, FollowerLeavesTheLeaderAndResyncsBySnapshot) {
  answer_votes(false);
  commit(GetParam().txn);
  ASSERT_TRUE(left_the_leader());
  EXPECT_TRUE(has("/a"));
  EXPECT_FALSE(has("/m1")) << "half of a multi was applied";
  EXPECT_EQ(core_->tree().last_zxid(), zxid(1, 1));
  EXPECT_TRUE(next_notification().abstaining);

  Message info = follow(2);
  EXPECT_TRUE(info.wants_snapshot);
  EXPECT_EQ(info.zxid, zxid(1, 1));
  std::vector<tree::Txn> leader_tree = {one_op(zxid(1, 1), OpCode::kCreate, "/a"),
                                        one_op(zxid(1, 2), OpCode::kCreate, "/healed")};
  sync(sync_message(zab::SyncMode::kSnap, zxid(1, 2),
                    std::make_shared<zab::SnapshotData>(
                        zab::SnapshotData{zxid(1, 2), image_of(leader_tree, zxid(1, 2))})),
       2);
  EXPECT_TRUE(has("/healed"));
  EXPECT_EQ(core_->tree().last_zxid(), zxid(1, 2));

  // What a restart would load: the snapshot, no trace of the txn that did not fit.
  stop_member();
  storage::Database db(db_path(), false);
  tree::DataTree tree;
  EXPECT_EQ(storage::recover(db, tree).last_zxid, zxid(1, 2));
  EXPECT_NE(tree.find("/healed"), nullptr);
  EXPECT_EQ(db.meta(storage::Database::kAbstainingKey, -1), 0) << "still abstains";
}

/// Member 1 after a committed txn it had acknowledged did not fit its tree.
class MisfitAbstentionTest : public SyncedFollowerTest {
 protected:
  /// Member 1's notifications say it abstains, and votes of both others for it (a member
  /// that may lead takes them at once) leave it looking at its next resend.
  void expect_abstains() {
    zab::Notification n = next_notification();
    EXPECT_TRUE(n.abstaining);
    EXPECT_NE(n.vote.leader, 1) << "an abstainer proposed itself";
    offer_leadership();
    n = next_notification();
    EXPECT_TRUE(n.abstaining);
    EXPECT_EQ(quorum_->mode(), "looking");
  }
};

// The acknowledged write the abstention protects: with 3 voters, L and this member ack Z, Z
// commits, this member finds Z misfits and drops it; if L then dies, this member and the
// third (which never got Z) must not elect a leader without Z. So from the misfit until a
// SNAP repairs it, and across a restart, this member's votes count for no one and it does
// not lead even when both others vote for it; after the SNAP it votes and can lead again.
TEST_F(MisfitAbstentionTest, AbstainsUntilASnapshotEvenAcrossARestart) {
  answer_votes(false);
  commit(one_op(zxid(1, 2), OpCode::kCreate, "/missing/x"));
  ASSERT_TRUE(left_the_leader());
  expect_abstains();

  stop_member();
  {
    storage::Database db(db_path(), false);
    EXPECT_EQ(db.meta(storage::Database::kAbstainingKey, 0), 1);
  }
  start_member();
  expect_abstains();

  // It follows the leader the others follow, asking for the SNAP that repairs it.
  Message info = follow(2);
  EXPECT_TRUE(info.wants_snapshot);
  std::vector<tree::Txn> leader_tree = {one_op(zxid(1, 1), OpCode::kCreate, "/a"),
                                        one_op(zxid(1, 2), OpCode::kCreate, "/missing")};
  sync(sync_message(zab::SyncMode::kSnap, zxid(1, 2),
                    std::make_shared<zab::SnapshotData>(
                        zab::SnapshotData{zxid(1, 2), image_of(leader_tree, zxid(1, 2))})),
       2);
  EXPECT_TRUE(has("/missing"));

  answer_votes(false);
  stop_member();
  start_member();
  EXPECT_FALSE(next_notification().abstaining);
  offer_leadership();
  EXPECT_TRUE(run_until([&] { return quorum_->mode() == "leader"; }))
      << "repaired by the SNAP, it still does not lead";
}

tree::Txn multi_with_a_misfit() {
  tree::Txn t = one_op(zxid(1, 2), OpCode::kCreate, "/m1");
  t.type = OpCode::kMulti;
  t.ops.push_back(one_op(0, OpCode::kDelete, "/nope").ops[0]);
  return t;
}

INSTANTIATE_TEST_SUITE_P(
    HostileLeader, MisfitTest,
    ::testing::Values(
        Misfit{"CreateUnderAMissingParent", one_op(zxid(1, 2), OpCode::kCreate, "/missing/x")},
        Misfit{"CreateOfAnExistingNode", one_op(zxid(1, 2), OpCode::kCreate, "/a")},
        Misfit{"DeleteOfAMissingNode", one_op(zxid(1, 2), OpCode::kDelete, "/nope")},
        Misfit{"SetDataOfAMissingNode", one_op(zxid(1, 2), OpCode::kSetData, "/nope")},
        Misfit{"MultiWithALaterOpThatDoesNotFit", multi_with_a_misfit()}),
    [](const auto& info) { return std::string(info.param.name); });

// A SNAP whose state does not decode, or decodes to a tree no server can hold, used to abort
// the follower in its storage thread (after it had already dropped its history for it).
TEST_F(HostileLeaderTest, AnUninstallableSnapshotDropsTheLeader) {
  start_member();
  const std::vector<std::string> bad = {
      "not a state image",
      image_of({one_op(zxid(1, 1), OpCode::kCreate, "/a")}, zxid(1, 1)).substr(0, 40),
      // Decodes, but /x/y comes without /x.
      [] {
        storage::StateImage image;
        image.zxid = zxid(1, 1);
        tree::DataTree t;
        t.apply(one_op(zxid(1, 1), OpCode::kCreate, "/x"));
        t.apply(one_op(zxid(1, 2), OpCode::kCreate, "/x/y"));
        image.nodes = storage::capture_image(t, {}).nodes;
        std::erase_if(image.nodes, [](const auto& row) { return row.path == "/x"; });
        return storage::encode_image(image);
      }(),
  };
  int64_t epoch = 0;
  for (const auto& bytes : bad) {
    follow(++epoch);
    answer_votes(false);
    disconnects_ = 0;
    send(sync_message(zab::SyncMode::kSnap, 0,
                      std::make_shared<zab::SnapshotData>(zab::SnapshotData{zxid(1, 1), bytes})));
    ASSERT_TRUE(left_the_leader()) << bytes.size() << "-byte image";
    EXPECT_FALSE(has("/a"));
    EXPECT_EQ(core_->tree().last_zxid(), 0);
  }
  // A good SNAP from the same leader is installed.
  follow(++epoch);
  std::string good = image_of({one_op(zxid(1, 1), OpCode::kCreate, "/a")}, zxid(1, 1));
  sync(sync_message(zab::SyncMode::kSnap, zxid(1, 1),
                    std::make_shared<zab::SnapshotData>(zab::SnapshotData{zxid(1, 1), good})),
       epoch);
  EXPECT_TRUE(has("/a"));
}

// A frame with a txn record that does not decode (in a DIFF, TRUNC or PROPOSAL) used to be
// skipped with a warning: a follower then acknowledged NEWLEADER without that history, or
// logged the next PROPOSAL after a gap that recovery refuses at the next start.
TEST_F(SyncedFollowerTest, AnUndecodableTxnDropsTheLeader) {
  answer_votes(false);
  zab::pb::PeerFrame frame;
  frame.mutable_message()->set_type(static_cast<int>(MessageType::kProposal));
  frame.mutable_message()->add_txns("\xff\xff\xff not a txn record");
  send_raw(frame.SerializeAsString());
  ASSERT_TRUE(left_the_leader());
  EXPECT_EQ(core_->tree().last_zxid(), zxid(1, 1));
}

// corral.quorum.maxFrameBytes: a longer frame closes the connection before it is buffered,
// even a SNAP that would install (3 MiB of node data; the limit here is 2 MiB).
TEST_F(HostileLeaderTest, AFrameOverTheLimitDropsTheLeader) {
  start_member("corral.quorum.maxFrameBytes=2097152\n");
  follow(1);
  answer_votes(false);
  std::vector<tree::Txn> big;
  for (int i = 1; i <= 3; ++i) {
    big.push_back(one_op(zxid(1, i), OpCode::kCreate, "/big" + std::to_string(i)));
    big.back().ops[0].data = std::string(1 << 20, 'x');
  }
  std::string image = image_of(big, zxid(1, 3));
  ASSERT_GT(image.size(), 3u << 20);
  send(sync_message(zab::SyncMode::kSnap, zxid(1, 3),
                    std::make_shared<zab::SnapshotData>(zab::SnapshotData{zxid(1, 3), image})));
  send(message(MessageType::kNewLeader, 1));
  ASSERT_TRUE(left_the_leader());
  EXPECT_FALSE(has("/big1"));
  EXPECT_EQ(core_->tree().last_zxid(), 0);
}

// A TRUNC below the follower's newest snapshot: after it, a restart must not load the
// snapshot's state (the leader truncated it), as it did when the snapshot was kept.
TEST_F(HostileLeaderTest, TruncBelowASnapshotSurvivesARestart) {
  {
    storage::Database db(db_path(), false);
    std::vector<tree::Txn> txns = {one_op(zxid(1, 1), OpCode::kCreate, "/a"),
                                   one_op(zxid(1, 2), OpCode::kCreate, "/b"),
                                   one_op(zxid(1, 3), OpCode::kCreate, "/c")};
    db.append(txns);
    tree::DataTree tree;
    for (const auto& t : txns) tree.apply(t);
    storage::write_snapshot(db, tree, {});
    db.set_meta("acceptedEpoch", 1);
    db.set_meta("currentEpoch", 1);
  }
  start_member();
  ASSERT_TRUE(has("/c"));
  EXPECT_EQ(follow(2).zxid, zxid(1, 3));
  Message trunc = sync_message(zab::SyncMode::kTrunc, zxid(1, 1));
  trunc.trunc_zxid = zxid(1, 1);
  sync(std::move(trunc), 2);
  EXPECT_TRUE(has("/a"));
  EXPECT_FALSE(has("/b"));
  EXPECT_FALSE(has("/c"));

  stop_member();
  storage::Database db(db_path(), false);
  tree::DataTree tree;
  storage::Recovered rec = storage::recover(db, tree);
  EXPECT_EQ(rec.last_zxid, zxid(1, 1));
  EXPECT_NE(tree.find("/a"), nullptr);
  EXPECT_EQ(tree.find("/b"), nullptr);
  EXPECT_EQ(tree.find("/c"), nullptr);
  EXPECT_TRUE(db.snapshots().empty());
}

// A TRUNC below the oldest snapshot, whose log was purged: storage can rebuild nothing up to
// the zxid, so the follower must not acknowledge that history (it used to, and then logged
// the leader's next txns after a gap): it drops the leader and asks for a SNAP.
TEST_F(HostileLeaderTest, TruncStorageCannotReachAsksForASnapshot) {
  {
    storage::Database db(db_path(), false);
    std::vector<tree::Txn> txns = {one_op(zxid(1, 1), OpCode::kCreate, "/a"),
                                   one_op(zxid(1, 2), OpCode::kCreate, "/b")};
    db.append(txns);
    tree::DataTree tree;
    tree.apply(txns[0]);
    storage::write_snapshot(db, tree, {});
    tree.apply(txns[1]);
    storage::write_snapshot(db, tree, {}, 2000, 1);  // keeps this one: the log up to it goes
    ASSERT_EQ(db.first_logged_zxid(), 0);
    db.set_meta("acceptedEpoch", 1);
    db.set_meta("currentEpoch", 1);
  }
  start_member();
  ASSERT_TRUE(has("/b"));
  follow(2);
  answer_votes(false);
  Message trunc = sync_message(zab::SyncMode::kTrunc, zxid(1, 1));
  trunc.trunc_zxid = zxid(1, 1);
  send(std::move(trunc));
  send(message(MessageType::kNewLeader, 2));
  ASSERT_TRUE(left_the_leader());
  EXPECT_FALSE(has("/a"));
  EXPECT_EQ(core_->tree().last_zxid(), 0);
  Message info = follow(3);
  EXPECT_TRUE(info.wants_snapshot);
  EXPECT_EQ(info.zxid, 0);
  EXPECT_EQ(acks_of_newleader(), 0) << "acknowledged a history it does not hold";
}

TEST(QuorumFrameConfig, MaxFrameBytesIsParsedAndBounded) {
  auto parse = [](const std::string& value) {
    return parse_config(
               "dataDir=/tmp\nclientPort=2181\ncorral.quorum.maxFrameBytes=" + value + "\n",
               "zoo.cfg")
        .quorum_max_frame_bytes;
  };
  EXPECT_EQ(parse_config("dataDir=/tmp\nclientPort=2181\n", "zoo.cfg").quorum_max_frame_bytes,
            int64_t{1} << 30);
  EXPECT_EQ(parse("4194304"), 4194304);
  EXPECT_EQ(parse("4294967295"), 4294967295);
  for (const char* bad : {"1048576", "4294967296", "-1", "lots"}) {
    try {
      parse(bad);
      ADD_FAILURE() << bad << " was taken";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("zoo.cfg:3"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("corral.quorum.maxFrameBytes"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace corral::server::test
