// Chunks shared between snapshots (chunk_store): a run of nodes that did not change since the
// last snapshot is not written again, what no snapshot holds goes, and a stored chunk damaged
// since is mended by the next snapshot that holds it.
#include <gtest/gtest.h>

#include <string>

#include "ensemble/storage/recovery.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/storage/state_image.h"
#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

/// A txn of one op of `type` on `path` with `data`.
Txn one_op(int64_t zxid, wire::OpCode type, const std::string& path, const std::string& data) {
  Txn t;
  t.zxid = zxid;
  t.type = type;
  TxnOp op;
  op.type = type;
  op.path = path;
  op.data = data;
  op.acl = {{wire::perms::kAll, {"world", "anyone"}}};
  t.ops.push_back(std::move(op));
  return t;
}

/// A tree whose snapshot takes about 20 runs.
struct SampleTree {
  SampleTree() {
    for (int p = 0; p < 20; ++p) {
      const std::string parent = "/p" + std::to_string(p);
      create(parent);
      for (int c = 0; c < 1000; ++c) create(parent + "/c" + std::to_string(c));
    }
  }
  void create(const std::string& path) {
    tree.apply(one_op(tree.last_zxid() + 1, wire::OpCode::kCreate, path, std::string(100, 'x')));
  }
  void set(const std::string& path, const std::string& data) {
    tree.apply(one_op(tree.last_zxid() + 1, wire::OpCode::kSetData, path, data));
  }
  DataTree tree;
};

class ChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = std::make_unique<Database>(path(), false); }

  std::string path() const { return dir_.file("data.db"); }
  int64_t count(const std::string& sql) { return raw_int(path(), "SELECT count(*) " + sql); }
  int64_t chunks_stored() { return count("FROM chunk_store"); }
  int64_t chunks_of(int64_t snapshot) {
    return count("FROM snapshot_chunk_refs WHERE snapshot_id = " + std::to_string(snapshot));
  }

  /// Expects snapshot `id` to hold the sample tree's paths in order, and recovery to rebuild
  /// the tree from it.
  void expect_whole_and_recovered(int64_t id) {
    std::vector<std::string> paths;
    for (const auto& row : rows_of(id)) paths.push_back(row.path);
    EXPECT_EQ(paths, big_.tree.paths());
    DataTree recovered;
    recover(*db_, recovered);
    EXPECT_TRUE(same_tree(big_.tree, recovered));
  }

  /// The rows of snapshot `id` as read back.
  std::vector<SnapshotRow> rows_of(int64_t id) {
    std::vector<SnapshotRow> rows;
    db_->read_snapshot(id, [&](SnapshotRow r) { rows.push_back(std::move(r)); });
    return rows;
  }

  TempDir dir_;
  SampleTree big_;
  std::unique_ptr<Database> db_;
};

TEST_F(ChunkStoreTest, AnUnchangedTreeIsStoredOnce) {
  const int64_t first = write_snapshot_in_runs(*db_, big_.tree);
  const int64_t stored = chunks_stored();
  ASSERT_GE(chunks_of(first), 10);
  EXPECT_EQ(stored, chunks_of(first));
  const int64_t second = write_snapshot_in_runs(*db_, big_.tree);
  EXPECT_EQ(chunks_stored(), stored);
  EXPECT_EQ(chunks_of(second), chunks_of(first));
  EXPECT_EQ(rows_of(second).size(), big_.tree.node_count());
  DataTree recovered;
  recover(*db_, recovered);
  EXPECT_TRUE(same_tree(big_.tree, recovered));
}

// A change rewrites the runs around it only, however early in the walk it is: runs end where
// the paths say, not at a count of nodes.
TEST_F(ChunkStoreTest, AChangeStoresOnlyTheRunsAroundIt) {
  write_snapshot_in_runs(*db_, big_.tree);
  const int64_t stored = chunks_stored();
  const std::string early = big_.tree.paths().at(5);
  big_.create(early + "/new");
  big_.set(big_.tree.paths().at(big_.tree.node_count() / 2), "changed");
  const int64_t second = write_snapshot_in_runs(*db_, big_.tree);
  EXPECT_GE(chunks_stored(), stored + 1);
  EXPECT_LE(chunks_stored(), stored + 4);
  expect_whole_and_recovered(second);
}

// Purging a snapshot removes the chunks only it held and keeps those a kept snapshot holds.
TEST_F(ChunkStoreTest, PurgeKeepsTheChunksAKeptSnapshotHolds) {
  const int64_t first = write_snapshot_in_runs(*db_, big_.tree);
  big_.set(big_.tree.paths().at(100), "changed");
  const int64_t second = write_snapshot_in_runs(*db_, big_.tree, /*retain=*/1);
  EXPECT_EQ(chunks_of(first), 0);
  EXPECT_EQ(chunks_stored(), chunks_of(second));
  EXPECT_EQ(count("FROM chunk_store WHERE id NOT IN (SELECT chunk_id FROM snapshot_chunk_refs)"),
            0);
  EXPECT_EQ(rows_of(second).size(), big_.tree.node_count());
  db_->drop_snapshot(second);
  EXPECT_EQ(chunks_stored(), 0);
}

// A stored chunk whose bytes were damaged after it was written is not taken again as it is:
// the next snapshot that holds the run writes its bytes back, mending the older one too.
TEST_F(ChunkStoreTest, ADamagedChunkIsMendedByTheNextSnapshotThatHoldsIt) {
  const int64_t first = write_snapshot_in_runs(*db_, big_.tree);
  const std::vector<SnapshotRow> intact = rows_of(first);
  raw_sql(path(),
          "UPDATE chunk_store SET nodes = X'0a020a00' WHERE id = (SELECT chunk_id FROM "
          "snapshot_chunk_refs WHERE snapshot_id = " +
              std::to_string(first) + " AND seq = 3)");
  EXPECT_NE(rows_of(first).size(), intact.size());
  const int64_t second = write_snapshot_in_runs(*db_, big_.tree);
  EXPECT_EQ(chunks_stored(), chunks_of(first));
  for (int64_t id : {first, second}) {
    const std::vector<SnapshotRow> rows = rows_of(id);
    ASSERT_EQ(rows.size(), intact.size()) << "snapshot " << id;
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].record, intact[i].record);
  }
}

// A learner stores its leader's snapshot in the same runs as its own snapshots: its next one
// shares every chunk.
TEST_F(ChunkStoreTest, ALeadersSnapshotSharesChunksWithTheLearnersNext) {
  const StateImage image = capture_image(big_.tree, {});
  db_->install_snapshot(db_->stage_snapshot(image.zxid, image.sessions, image.nodes),
                        static_cast<int64_t>(image.nodes.size()));
  const int64_t stored = chunks_stored();
  ASSERT_GE(stored, 10);
  write_snapshot_in_runs(*db_, big_.tree);
  EXPECT_EQ(chunks_stored(), stored);
}

// Removing a snapshot while the next is being written (a purge, a TRUNC, a SNAP's install run
// between its jobs) keeps the chunks the unfinished one holds already.
TEST_F(ChunkStoreTest, ARemovalWhileASnapshotIsWrittenKeepsItsChunks) {
  const int64_t first = write_snapshot_in_runs(*db_, big_.tree);
  const int64_t second = db_->begin_snapshot(big_.tree.last_zxid(), {});
  SnapshotWalk walk;
  int64_t count = 0;
  auto write_run = [&] {
    SnapshotChunks chunks;
    walk.next_run(big_.tree, chunks);
    count += static_cast<int64_t>(chunks.node_count());
    db_->add_snapshot_chunks(second, chunks);
  };
  for (int i = 0; i < 5; ++i) write_run();
  db_->drop_snapshot(first);
  EXPECT_EQ(chunks_stored(), chunks_of(second));
  while (!walk.done()) write_run();
  db_->finish_snapshot(second, big_.tree.last_zxid(), count);
  expect_whole_and_recovered(second);
}

// A run of large nodes ends at its byte cap, whatever its paths say.
TEST_F(ChunkStoreTest, ARunOfLargeNodesEndsAtItsByteCap) {
  DataTree large;
  for (int i = 0; i < 20; ++i)
    large.apply(one_op(large.last_zxid() + 1, wire::OpCode::kCreate, "/n" + std::to_string(i),
                       std::string(300 * 1024, 'x')));
  SnapshotWalk walk;
  SnapshotChunks run;
  walk.next_run(large, run);
  EXPECT_LT(run.node_count(), 10u);
  EXPECT_LT(run.bytes(), kMaxRunBytes + 310 * 1024);
}

// A ref whose chunk is gone is named when the snapshot is read, not skipped.
TEST_F(ChunkStoreTest, ARefWithoutItsChunkIsRefused) {
  const int64_t first = write_snapshot_in_runs(*db_, big_.tree);
  raw_sql(path(),
          "DELETE FROM chunk_store WHERE id = (SELECT chunk_id FROM snapshot_chunk_refs "
          "WHERE seq = 2)");
  try {
    rows_of(first);
    FAIL() << "a snapshot without one of its chunks was read";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("chunk 2 is missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace corral::storage
