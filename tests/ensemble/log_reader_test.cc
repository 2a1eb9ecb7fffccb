// The txn log read for a DIFF beside the writer: a reader connection finds where the log can
// serve a DIFF from (log_floor) and reads a range of it in one transaction that fails when the
// range's start is gone (purged after it was chosen).
#include <gtest/gtest.h>

#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

int64_t zx(int64_t epoch, int64_t counter) { return epoch << 32 | counter; }

std::vector<int64_t> read_range(const Database& reader, int64_t after, int64_t upto) {
  std::vector<int64_t> zxids;
  reader.read_log_range(after, upto, SIZE_MAX, [&](Txn t) { zxids.push_back(t.zxid); });
  return zxids;
}

/// A database written by one connection and read by another.
class LogReader : public ::testing::Test {
 protected:
  /// Logs txns of `epoch` with counters `first` to `last`.
  void log(int64_t epoch, int64_t first, int64_t last) {
    std::vector<Txn> txns;
    for (int64_t c = first; c <= last; ++c) txns.push_back(error_txn(zx(epoch, c)));
    writer.append(txns);
  }
  TempDir dir;
  Database writer{dir.file("db"), false};
  std::unique_ptr<Database> reader = Database::open_reader(dir.file("db"));
};

TEST_F(LogReader, FloorIsTheHighestLoggedZxidAtOrBelow) {
  EXPECT_EQ(reader->log_floor(zx(1, 5)), std::nullopt) << "an empty log";
  log(1, 3, 4);
  log(2, 1, 1);
  EXPECT_EQ(reader->log_floor(zx(1, 2)), std::nullopt) << "before the log's start";
  EXPECT_EQ(reader->log_floor(zx(1, 3)), zx(1, 3));
  EXPECT_EQ(reader->log_floor(zx(1, 9)), zx(1, 4)) << "a zxid of an epoch this log left";
  EXPECT_EQ(reader->log_floor(zx(7, 1)), zx(2, 1));
}

TEST_F(LogReader, ReadsARangeTheWriterLoggedAndRefusesOneWhoseStartIsGone) {
  log(1, 1, 6);
  EXPECT_EQ(read_range(*reader, zx(1, 2), zx(1, 5)),
            (std::vector<int64_t>{zx(1, 3), zx(1, 4), zx(1, 5)}));
  EXPECT_TRUE(read_range(*reader, zx(1, 6), zx(1, 6)).empty());
  // A start that is not logged: the txns after it could not follow what the learner holds.
  EXPECT_THROW(read_range(*reader, zx(1, 0), zx(1, 3)), StorageError);
  log(2, 1, 1);
  EXPECT_EQ(read_range(*reader, zx(1, 6), zx(2, 1)), (std::vector<int64_t>{zx(2, 1)}))
      << "the writer's newer rows are seen";
  writer.truncate_after(zx(1, 4));
  EXPECT_THROW(read_range(*reader, zx(1, 5), zx(2, 1)), StorageError);
}

TEST_F(LogReader, ARangeOverItsByteLimitIsRefused) {
  log(1, 1, 100);
  size_t read = 0;
  EXPECT_THROW(reader->read_log_range(zx(1, 1), zx(1, 100), 64, [&](Txn) { ++read; }),
               StorageError);
  EXPECT_LT(read, 99u) << "it stops at the limit, not after reading everything";
  EXPECT_EQ(read_range(*reader, zx(1, 1), zx(1, 100)).size(), 99u);
}

TEST_F(LogReader, IsReadOnlyAndNeedsAnExistingFile) {
  EXPECT_THROW(reader->append({error_txn(zx(1, 1))}), StorageError);
  EXPECT_THROW(Database::open_reader(dir.file("missing")), StorageError);
}

}  // namespace
}  // namespace corral::storage
