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
  reader.read_log_range(after, upto, [&](Txn t) { zxids.push_back(t.zxid); });
  return zxids;
}

TEST(LogReader, FloorIsTheHighestLoggedZxidAtOrBelow) {
  TempDir dir;
  Database writer(dir.file("db"), false);
  auto reader = Database::open_reader(dir.file("db"));
  EXPECT_EQ(reader->log_floor(zx(1, 5)), std::nullopt) << "an empty log";
  writer.append({error_txn(zx(1, 3)), error_txn(zx(1, 4)), error_txn(zx(2, 1))});
  EXPECT_EQ(reader->log_floor(zx(1, 2)), std::nullopt) << "before the log's start";
  EXPECT_EQ(reader->log_floor(zx(1, 3)), zx(1, 3));
  EXPECT_EQ(reader->log_floor(zx(1, 9)), zx(1, 4)) << "a zxid of an epoch this log left";
  EXPECT_EQ(reader->log_floor(zx(7, 1)), zx(2, 1));
}

TEST(LogReader, ReadsARangeTheWriterLoggedAndRefusesOneWhoseStartIsGone) {
  TempDir dir;
  Database writer(dir.file("db"), false);
  auto reader = Database::open_reader(dir.file("db"));
  std::vector<Txn> txns;
  for (int64_t c = 1; c <= 6; ++c) txns.push_back(error_txn(zx(1, c)));
  writer.append(txns);
  EXPECT_EQ(read_range(*reader, zx(1, 2), zx(1, 5)),
            (std::vector<int64_t>{zx(1, 3), zx(1, 4), zx(1, 5)}));
  EXPECT_TRUE(read_range(*reader, zx(1, 6), zx(1, 6)).empty());
  // A start that is not logged: the txns after it could not follow what the learner holds.
  EXPECT_THROW(read_range(*reader, zx(1, 0), zx(1, 3)), StorageError);
  writer.append({error_txn(zx(2, 1))});
  EXPECT_EQ(read_range(*reader, zx(1, 6), zx(2, 1)), (std::vector<int64_t>{zx(2, 1)}))
      << "the writer's newer rows are seen";
  writer.truncate_after(zx(1, 4));
  EXPECT_THROW(read_range(*reader, zx(1, 5), zx(2, 1)), StorageError);
}

TEST(LogReader, CannotWrite) {
  TempDir dir;
  { Database writer(dir.file("db"), false); }
  auto reader = Database::open_reader(dir.file("db"));
  EXPECT_THROW(reader->append({error_txn(zx(1, 1))}), StorageError);
  EXPECT_THROW(Database::open_reader(dir.file("missing")), StorageError);
}

}  // namespace
}  // namespace corral::storage
