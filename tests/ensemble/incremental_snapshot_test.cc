// Snapshots that write again by reference the runs of the last snapshot in which nothing
// changed: the preorder the runs are found by, a walk resumed after a path, and trees of many
// runs changed between and during snapshots, where a snapshot must hold what a full walk would
// (when nothing changes while it is taken) and recovery must rebuild the live tree.
#include "ensemble/storage/incremental_snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ensemble/storage/checksum.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/snapshot_runs.h"
#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

using wire::OpCode;

/// A create of an empty, open node at `path`.
Txn create_txn(int64_t zxid, const std::string& path) {
  Txn t;
  t.zxid = zxid;
  t.type = OpCode::kCreate;
  TxnOp op;
  op.type = OpCode::kCreate;
  op.path = path;
  op.acl = kOpenAcl;
  t.ops.push_back(op);
  return t;
}

/// A tree with names that sort differently in byte order and in preorder ('-' and '.' come
/// before '/'), and bytes above 0x7f.
DataTree tricky_tree() {
  DataTree tree;
  int64_t zxid = 0;
  for (const char* p : {"/a", "/a/b", "/a-b", "/a.b", "/ab", "/a/b/c", "/a/b-c", "/a/b0", "/a-b/x",
                        "/\xc3\xa9", "/\xc3\xa9/z", "/b", "/ zero", "/a/ b"})
    tree.apply(create_txn(++zxid, p));
  return tree;
}

TEST(SnapshotRunsTest, PreorderIsTheOrderOfTheTreesWalk) {
  DataTree tree = tricky_tree();
  std::vector<std::string> walked = tree.paths();
  std::vector<std::string> sorted = walked;
  std::shuffle(sorted.begin(), sorted.end(), std::mt19937(7));
  std::sort(sorted.begin(), sorted.end(),
            [](const std::string& a, const std::string& b) { return preorder_less(a, b); });
  EXPECT_EQ(sorted, walked);
  EXPECT_FALSE(preorder_less("/a", "/a"));
  EXPECT_TRUE(preorder_less("/", "/a"));
  EXPECT_TRUE(preorder_less("/a/z", "/a-b"));
  EXPECT_FALSE(preorder_less("/ab", "/a/b"));
}

TEST(SnapshotRunsTest, AChangeMarksTheRunThatHoldsIt) {
  SnapshotRuns runs;
  for (const char* last : {"/a/b", "/a.b", "/c"}) runs.add({last, nullptr, 1, 0, false});
  auto marked = [&] {
    std::string out;
    for (size_t i = 0; i < runs.size(); ++i) out += runs[i].changed ? '1' : '0';
    return out;
  };
  runs.mark_changed("/a-b");  // after /a/b's subtree, before /a.b
  EXPECT_EQ(marked(), "010");
  runs.mark_changed("/");
  EXPECT_EQ(marked(), "110");
  runs.mark_changed("/d");  // after the last run: no run holds it
  EXPECT_EQ(marked(), "110");
  runs.mark_changed("/c");
  EXPECT_EQ(marked(), "111");
  EXPECT_EQ(runs.ending_at("/a.b"), 1u);
  EXPECT_EQ(runs.ending_at("/a-b"), runs.size());
}

TEST(SnapshotRunsTest, AWalkSoughtAfterAPathGoesOnAsAFullWalkDoes) {
  DataTree tree = tricky_tree();
  const std::vector<std::string> all = tree.paths();
  for (size_t k = 0; k < all.size(); ++k) {
    SnapshotWalk walk;
    walk.seek_after(all[k]);
    EXPECT_EQ(walk.last_path(), all[k]);
    std::vector<std::string> rest;
    while (!walk.done())
      walk.next(tree, 3, [&](std::string_view path, const tree::Node&) {
        rest.emplace_back(path);
        return true;
      });
    EXPECT_EQ(rest, std::vector<std::string>(all.begin() + static_cast<long>(k) + 1, all.end()))
        << "after " << all[k];
  }
}

/// A path under `parent` that ends a run (snapshot_chunk.h: its hash says so).
std::string run_end_under(const std::string& parent) {
  for (int k = 0;; ++k) {
    std::string path = parent + "/x" + std::to_string(k);
    if (xxh3(path) % kNodesPerRun == 0) return path;
  }
}

/// A tree of /p and its children m0..m9, then `parent` (which ends a run) and its children
/// m0..m9, then /q.
DataTree tree_with_run_end_at(const std::string& parent) {
  DataTree tree;
  int64_t zxid = 0;
  for (const std::string& dir : {std::string("/p"), parent, std::string("/q")}) {
    tree.apply(create_txn(++zxid, dir));
    for (int c = 0; c < 10; ++c) tree.apply(create_txn(++zxid, dir + "/m" + std::to_string(c)));
  }
  return tree;
}

TEST(SnapshotRunsTest, AChildMadeBeforeTheFirstWhileTheWalkStandsAtItsParentIsWalked) {
  const std::string parent = run_end_under("");
  // Stopped at the parent by its visitor (a run's end), or by the count of nodes.
  for (bool by_count : {false, true}) {
    SCOPED_TRACE(by_count ? "stopped by the count" : "stopped by the visitor");
    DataTree tree = tree_with_run_end_at(parent);
    const std::vector<std::string> before = tree.paths();
    const size_t at =
        static_cast<size_t>(std::find(before.begin(), before.end(), parent) - before.begin());
    SnapshotWalk walk;
    std::vector<std::string> walked;
    auto collect = [&](std::string_view path, const tree::Node&) {
      walked.emplace_back(path);
      return by_count || path != parent;
    };
    walk.next(tree, by_count ? at + 1 : SIZE_MAX, collect);
    ASSERT_EQ(walk.last_path(), parent);
    tree.apply(create_txn(100, parent + "/a"));  // before m0
    while (!walk.done()) walk.next(tree, SIZE_MAX, collect);
    EXPECT_EQ(walked, tree.paths());
  }
}

/// A tree of thousands of nodes (tens of runs), changed at random: every txn logged, then
/// applied, as the server does.
class ChangingTree {
 public:
  ChangingTree(uint32_t seed, Database& db) : rng_(seed), db_(db) {
    for (int d = 0; d < kDirs; ++d) {
      std::string dir = "/d" + std::to_string(d);
      create(dir);
      for (int c = 0; c < 500; ++c) create(dir + "/n" + std::to_string(c));
    }
    flush();
  }

  DataTree live;

  /// Creates `path` (its parent exists), logged and applied.
  void add(const std::string& path) {
    create(path);
    flush();
  }

  /// `n` random creates, deletes, sets of data and of ACLs, logged and applied: most in the
  /// first few directories, so most runs stay as they were.
  void change(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string dir = "/d" + std::to_string(pick(0, chance(80) ? 3 : kDirs - 1));
      const Node* d = live.find(dir);
      switch (pick(0, 4)) {
        case 0: {
          static const char* kNames[] = {"n", "n-", "n.", "m"};
          std::string name = std::string(kNames[pick(0, 3)]) + std::to_string(pick(0, 999));
          if (!live.find(dir + "/" + name)) create(dir + "/" + name);
          break;
        }
        case 4: {
          // A child of a child, named before its siblings: parents end runs too.
          if (d->children.empty()) break;
          std::string path = dir + "/" + nth_child(*d) + "/a" + std::to_string(pick(0, 9));
          if (!live.find(path)) create(path);
          break;
        }
        case 1:
          if (!d->children.empty()) remove(dir + "/" + nth_child(*d));
          break;
        case 2:
          if (!d->children.empty()) set_data(dir + "/" + nth_child(*d));
          break;
        default:
          set_acl(d->children.empty() ? dir : dir + "/" + nth_child(*d));
          break;
      }
    }
    flush();
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }

 private:
  static constexpr int kDirs = 40;
  using Node = tree::Node;

  std::string nth_child(const Node& dir) {
    auto it = dir.children.begin();
    for (int k = pick(0, static_cast<int>(dir.children.size()) - 1); k > 0; --k) ++it;
    return std::string(*it);
  }

  Txn txn(OpCode type, TxnOp op) {
    Txn t;
    t.zxid = ++zxid_;
    t.time_ms = 1'700'000'000'000 + zxid_;
    t.type = type;
    op.type = type;
    t.ops.push_back(std::move(op));
    return t;
  }

  void create(const std::string& path) {
    TxnOp op;
    op.path = path;
    op.data = "v" + std::to_string(zxid_);
    op.acl = kOpenAcl;
    op.parent_cversion = live.find(wire::parent_path(path))->cversion + 1;
    push(txn(OpCode::kCreate, std::move(op)));
  }
  void remove(const std::string& path) {
    if (!live.find(path)->children.empty()) return;
    TxnOp op;
    op.path = path;
    push(txn(OpCode::kDelete, std::move(op)));
  }
  void set_data(const std::string& path) {
    TxnOp op;
    op.path = path;
    op.data = "set at " + std::to_string(zxid_);
    op.version = live.find(path)->version + 1;
    push(txn(OpCode::kSetData, std::move(op)));
  }
  void set_acl(const std::string& path) {
    TxnOp op;
    op.path = path;
    op.acl = {{wire::perms::kRead | (chance(50) ? wire::perms::kWrite : 0), {"world", "anyone"}}};
    op.version = live.find(path)->aversion + 1;
    push(txn(OpCode::kSetAcl, std::move(op)));
  }
  /// Applies a txn at once (the next one is made against the tree it leaves) and logs the
  /// batch at flush(), before anything reads the log.
  void push(Txn t) {
    live.apply(t);
    batch_.push_back(std::move(t));
  }
  void flush() {
    if (!batch_.empty()) db_.append(batch_);
    batch_.clear();
  }

  std::mt19937 rng_;
  Database& db_;
  std::vector<Txn> batch_;
  int64_t zxid_ = int64_t{1} << 32;
};

/// What a snapshot taken by IncrementalSnapshot did.
struct Taken {
  int64_t id = 0;
  size_t reused_nodes = 0;
  size_t walked_nodes = 0;
};

/// Takes a snapshot as the Snapshotter does: storage jobs of up to `steps_per_job` steps, each
/// written in one transaction; `between` runs after each job.
Taken take_snapshot(Database& db, IncrementalSnapshot& snapshots, const DataTree& tree,
                    const std::function<void()>& between, size_t steps_per_job = 3) {
  Taken taken;
  taken.id = db.begin_snapshot(tree.last_zxid(), {});
  snapshots.begin();
  int64_t count = 0;
  while (true) {
    auto job = snapshots.next_job(tree, steps_per_job);
    for (const auto& step : job) {
      count += static_cast<int64_t>(step->node_count());
      taken.reused_nodes += step->reused_nodes;
      taken.walked_nodes += step->walked.node_count();
    }
    db.add_snapshot_steps(taken.id, job);
    if (snapshots.done()) break;
    between();
  }
  db.finish_snapshot(taken.id, tree.last_zxid(), count);
  snapshots.complete();
  return taken;
}

class IncrementalSnapshotTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.file("corral.db"); }

  /// The newest snapshot's nodes and checksum equal those of a full walk of `tree`.
  void expect_full_walk_of(const DataTree& tree, int64_t id) {
    Database fresh(dir_.file("full.db"), false);
    write_snapshot_in_runs(fresh, tree);
    std::vector<SnapshotRow> want = raw_snapshot_rows(dir_.file("full.db"));
    std::vector<SnapshotRow> got = raw_snapshot_rows(path(), "snapshot_id = " + std::to_string(id));
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].path, want[i].path) << i;
      ASSERT_EQ(got[i].record, want[i].record) << want[i].path;
    }
    Database db(path(), false);
    EXPECT_EQ(db.snapshots().front().checksum, fresh.snapshots().front().checksum);
    EXPECT_EQ(db.snapshots().front().id, id);
    std::filesystem::remove(dir_.file("full.db"));
  }

  /// Recovery from the database rebuilds `live`.
  void expect_recovers(const DataTree& live) {
    Database db(path(), false);
    DataTree recovered;
    recover(db, recovered);
    EXPECT_TRUE(same_tree(live, recovered));
  }

  TempDir dir_{"corral-incremental-snapshot"};
};

TEST_F(IncrementalSnapshotTest, ReusedRunsHoldWhatAFullWalkWouldAndRecoveryRebuildsTheTree) {
  size_t reused = 0, walked_again = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    // One step a job on even seeds, three on odd ones.
    const size_t steps_per_job = seed % 2 == 0 ? 1 : 3;
    SCOPED_TRACE("seed " + std::to_string(seed) + ", " + std::to_string(steps_per_job) +
                 " steps a job");
    std::filesystem::remove(path());
    Database db(path(), /*force_sync=*/false);
    ChangingTree w(seed, db);
    IncrementalSnapshot snapshots;
    w.live.set_change_listener([&](std::string_view p) { snapshots.changed(p); });
    Taken first = take_snapshot(
        db, snapshots, w.live, [] {}, steps_per_job);
    EXPECT_EQ(first.reused_nodes, 0u);
    // Quiet snapshots (nothing changes while they are taken) hold what a full walk does;
    // fuzzy ones (changes between their steps, behind and ahead of the walk) recover.
    for (int round = 0; round < 6; ++round) {
      w.change(w.pick(0, 12));
      const bool fuzzy = round % 2 == 0;
      Taken t = take_snapshot(
          db, snapshots, w.live,
          [&] {
            if (fuzzy) w.change(w.pick(0, 3));
          },
          steps_per_job);
      reused += t.reused_nodes;
      if (t.reused_nodes > 0) walked_again += t.walked_nodes;
      if (!fuzzy) {
        ASSERT_NO_FATAL_FAILURE(expect_full_walk_of(w.live, t.id));
      }
      w.change(w.pick(0, 10));
      ASSERT_NO_FATAL_FAILURE(expect_recovers(w.live));
    }
  }
  // Both ways were taken: runs reused, and changed runs walked beside them.
  EXPECT_GT(reused, 0u);
  EXPECT_GT(walked_again, 0u);
}

TEST_F(IncrementalSnapshotTest, AChildMadeBeforeTheFirstWhileTheWalkStandsAtItsParentIsKept) {
  // The run that follows a parent which ends a run starts with its first child: one created
  // before it while the walk stands at the parent belongs to that run, which the next snapshot
  // reuses.
  Database db(path(), false);
  ChangingTree w(1, db);
  const std::string parent = run_end_under("/d7");
  w.add(parent);
  for (int c = 0; c < 10; ++c) w.add(parent + "/m" + std::to_string(c));
  IncrementalSnapshot snapshots;
  w.live.set_change_listener([&](std::string_view p) { snapshots.changed(p); });
  take_snapshot(db, snapshots, w.live, [] {});
  w.add(parent + "/m99");  // the parent's run changed: the next walk goes through it
  bool made = false;
  // A step a job, so that the walk stands at every step's end between jobs.
  take_snapshot(
      db, snapshots, w.live,
      [&] {
        if (snapshots.position() != parent || made) return;
        w.add(parent + "/a");
        made = true;
      },
      1);
  ASSERT_TRUE(made) << "the walk never stood at " << parent;
  Taken quiet = take_snapshot(db, snapshots, w.live, [] {});
  EXPECT_GT(quiet.reused_nodes, 0u);
  ASSERT_NO_FATAL_FAILURE(expect_full_walk_of(w.live, quiet.id));
  ASSERT_NO_FATAL_FAILURE(expect_recovers(w.live));
}

TEST_F(IncrementalSnapshotTest, EveryEighthSnapshotWalksTheWholeTree) {
  Database db(path(), false);
  ChangingTree w(2, db);
  IncrementalSnapshot snapshots;
  w.live.set_change_listener([&](std::string_view p) { snapshots.changed(p); });
  std::string reused;
  for (int i = 0; i < 2 * IncrementalSnapshot::kFullWalkEvery + 1; ++i) {
    w.change(1);
    reused += take_snapshot(db, snapshots, w.live, [] {}).reused_nodes > 0 ? 'r' : 'W';
  }
  EXPECT_EQ(reused, "WrrrrrrrWrrrrrrrW");
}

TEST_F(IncrementalSnapshotTest, AReplacedTreeOrAnUnfinishedWalkLeavesNothingToReuse) {
  Database db(path(), false);
  ChangingTree w(1, db);
  IncrementalSnapshot snapshots;
  w.live.set_change_listener([&](std::string_view p) { snapshots.changed(p); });
  take_snapshot(db, snapshots, w.live, [] {});
  EXPECT_GT(take_snapshot(db, snapshots, w.live, [] {}).reused_nodes, 0u);
  snapshots.forget();
  EXPECT_EQ(take_snapshot(db, snapshots, w.live, [] {}).reused_nodes, 0u);
  // A walk begun and never completed: the next one walks everything.
  snapshots.begin();
  snapshots.next(w.live);
  EXPECT_EQ(take_snapshot(db, snapshots, w.live, [] {}).reused_nodes, 0u);
}

TEST_F(IncrementalSnapshotTest, ARefToAChunkThatIsGoneIsRefusedAndWritesNothing) {
  Database db(path(), false);
  const int64_t id = db.begin_snapshot(0, {});
  auto walked = std::make_shared<SnapshotStep>();
  walked->walked.add("/", tree::Node{});
  walked->walked_ids = std::make_shared<std::vector<int64_t>>();
  auto gone = std::make_shared<SnapshotStep>();
  gone->reused_ids = {12345};
  gone->reused_nodes = 1;
  // A run walked in the same job is not written either.
  EXPECT_THROW(db.add_snapshot_steps(id, {walked, gone}), StorageError);
  EXPECT_TRUE(walked->walked_ids->empty()) << "ids of rows rolled back";
  EXPECT_EQ(raw_int(path(), "SELECT COUNT(*) FROM chunk_store"), 0);
  EXPECT_EQ(raw_int(path(), "SELECT COUNT(*) FROM snapshot_chunk_refs"), 0);
}

}  // namespace
}  // namespace corral::storage
