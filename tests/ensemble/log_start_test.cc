// Where the txn log starts (Database::kLogStartKey): a purge and an installed snapshot record
// it, a truncation that leaves no snapshot drops a log that lacks its start, and recovery
// refuses one, even when it starts at an epoch's first txn.
#include <gtest/gtest.h>

#include "ensemble/storage/recovery.h"
#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

int64_t zx(int64_t epoch, int64_t counter) { return epoch << 32 | counter; }

class LogStart : public ::testing::Test {
 protected:
  /// Logs txns of `epoch` with counters `first` to `last`.
  void log(int64_t epoch, int64_t first, int64_t last) {
    std::vector<Txn> txns;
    for (int64_t c = first; c <= last; ++c) txns.push_back(error_txn(zx(epoch, c)));
    db->append(txns);
  }
  /// A complete snapshot without nodes that holds every txn up to `start`, taken while txns up
  /// to `end` were applied.
  void snapshot(int64_t start, int64_t end) {
    const int64_t id = db->begin_snapshot(start, {});
    db->finish_snapshot(id, end, 0);
  }
  TempDir dir;
  std::unique_ptr<Database> db = std::make_unique<Database>(dir.file("db"), false);
};

TEST_F(LogStart, AFreshDatabaseStartsAtTheBeginning) { EXPECT_EQ(db->log_starts_after(), 0); }

TEST_F(LogStart, APurgeRecordsWhereTheLogNowStarts) {
  log(1, 1, 10);
  snapshot(zx(1, 4), zx(1, 4));
  snapshot(zx(1, 8), zx(1, 8));
  db->purge(1);
  EXPECT_EQ(db->first_logged_zxid(), zx(1, 9));
  EXPECT_EQ(db->log_starts_after(), zx(1, 8));
}

TEST_F(LogStart, AnInstalledSnapshotRecordsItsStart) {
  log(1, 1, 3);
  const int64_t id = db->stage_snapshot(zx(3, 7), {}, {});
  db->install_snapshot(id, 0);
  EXPECT_EQ(db->first_logged_zxid(), 0);
  EXPECT_EQ(db->log_starts_after(), zx(3, 7));
}

TEST_F(LogStart, ATruncationLeavingNoSnapshotDropsAPurgedLogThatStartsAtAnEpochsFirstTxn) {
  log(1, 1, 10);
  log(2, 1, 5);
  snapshot(zx(1, 5), zx(1, 5));
  snapshot(zx(1, 10), zx(2, 3));  // fuzzy: txns of epoch 2 were applied while it was written
  snapshot(zx(2, 3), zx(2, 3));
  db->purge(2);  // epoch 1 is now only in the snapshots
  ASSERT_EQ(db->first_logged_zxid(), zx(2, 1));
  db->truncate_after(zx(2, 2));  // both snapshots hold txns after (2, 2): they go
  ASSERT_TRUE(db->snapshots().empty());
  // Kept, (2, 1) and (2, 2) would rebuild a state without epoch 1.
  EXPECT_EQ(db->first_logged_zxid(), 0);
  // A TRUNC's DIFF follows in the same sync: logged before the server repairs itself, it
  // cannot be taken for a log that starts at the beginning.
  EXPECT_EQ(db->log_starts_after(), zx(2, 2));
  db->truncate_after(0);
  EXPECT_EQ(db->log_starts_after(), 0) << "truncated to nothing, history starts anew";
}

TEST_F(LogStart, ATruncationLeavingNoSnapshotKeepsALogThatWasNeverPurged) {
  log(1, 1, 10);
  snapshot(zx(1, 8), zx(1, 9));
  db->truncate_after(zx(1, 7));
  ASSERT_TRUE(db->snapshots().empty());
  EXPECT_EQ(db->first_logged_zxid(), zx(1, 1));
}

TEST_F(LogStart, AnOlderCorralsDatabaseIsJudgedByItsFirstTxn) {
  log(1, 1, 10);
  snapshot(zx(1, 5), zx(1, 9));
  db.reset();
  raw_sql(dir.file("db"), "DELETE FROM meta WHERE key = 'log_starts_after'");
  db = std::make_unique<Database>(dir.file("db"), false);
  EXPECT_EQ(db->log_starts_after(), std::nullopt) << "a database that holds txns says nothing";
  db->truncate_after(zx(1, 6));
  EXPECT_EQ(db->first_logged_zxid(), zx(1, 1)) << "kept: it starts at an epoch's first txn";
}

TEST_F(LogStart, ADatabaseThatHoldsNothingIsAtTheBeginningOnceOpened) {
  log(1, 3, 10);
  snapshot(zx(1, 5), zx(1, 9));
  db->truncate_after(zx(1, 4));  // the snapshot goes, and the log without its start
  ASSERT_EQ(db->first_logged_zxid(), 0);
  ASSERT_EQ(db->log_starts_after(), zx(1, 4)) << "for the DIFF of the same sync";
  // Stopped before its sync went on: it recovers to zxid 0, and a DIFF from 0 is all history.
  db.reset();
  db = std::make_unique<Database>(dir.file("db"), false);
  EXPECT_EQ(db->log_starts_after(), 0);
}

TEST_F(LogStart, RecoveryRefusesAPurgedLogWithoutASnapshot) {
  log(1, 1, 10);
  log(2, 1, 5);
  snapshot(zx(1, 5), zx(1, 5));
  snapshot(zx(1, 10), zx(1, 10));
  db->purge(1);
  ASSERT_EQ(db->first_logged_zxid(), zx(2, 1));
  raw_sql(dir.file("db"), "DELETE FROM snapshots");  // lost, by hand or damage
  DataTree tree;
  try {
    recover(*db, tree, nullptr);
    FAIL() << "recovered a state without epoch 1";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("up to zxid 0x10000000a were purged"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace corral::storage
