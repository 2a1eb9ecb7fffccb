// The WAL's checkpoints (wal_checkpointer.h): they still run once the WAL holds enough frames,
// and the pages they add to the database file leave the page cache.
#include "ensemble/storage/wal_checkpointer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

constexpr int64_t kEpoch1 = int64_t{1} << 32;

/// A create of a node with 1 KiB of data: a batch of 100 adds about 25 pages to the WAL.
Txn create_txn(int64_t zxid) {
  Txn t;
  t.zxid = zxid;
  t.type = wire::OpCode::kCreate;
  t.session_id = 7;
  tree::TxnOp op;
  op.type = wire::OpCode::kCreate;
  op.path = "/n" + std::to_string(zxid);
  op.data.assign(1024, 'x');
  t.ops.push_back(std::move(op));
  return t;
}

int64_t size_of(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

/// How many of the file's pages in [from, to) the page cache holds. (Its descriptor closes while
/// the Database is open, which releases SQLite's locks: harmless with one connection.)
int resident_pages(const std::string& path, int64_t from, int64_t to) {
  const long page = sysconf(_SC_PAGESIZE);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  void* map = ::mmap(nullptr, static_cast<size_t>(to), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  EXPECT_NE(map, MAP_FAILED);
  if (map == MAP_FAILED) return -1;
  std::vector<unsigned char> in_core(static_cast<size_t>((to + page - 1) / page));
  EXPECT_EQ(::mincore(map, static_cast<size_t>(to), in_core.data()), 0);
  ::munmap(map, static_cast<size_t>(to));
  int resident = 0;
  // From the first page wholly past `from`: one it shares with older bytes may stay cached.
  for (int64_t p = (from + page - 1) / page; p < (to + page - 1) / page; ++p)
    resident += in_core[p] & 1;
  return resident;
}

TEST(WalCheckpointer, PagesACheckpointAppendsLeaveThePageCache) {
  // In the working directory (ctest's: the build tree), not /tmp, which may be tmpfs: a tmpfs
  // file's pages are its only copy, and the page cache cannot let them go.
  std::string tmpl = (std::filesystem::current_path() / "wal_checkpointer_test.XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } scratch{tmpl};
  const std::string path = tmpl + "/db";
  struct statfs fs;
  ASSERT_EQ(::statfs(tmpl.c_str(), &fs), 0);
  ASSERT_NE(fs.f_type, TMPFS_MAGIC) << tmpl << " is on tmpfs: run the test from a disk";
  Database db(path, /*force_sync=*/true);  // a checkpoint syncs the file only with sync on
  const int64_t before = size_of(path);
  // Batches until the database file grows, which in WAL mode only a checkpoint does. SQLite
  // checkpoints after a commit that leaves WalCheckpointer::kFrames frames or more; the
  // batches of the loop's bound hold about twice that.
  int64_t zxid = kEpoch1;
  for (int batch = 0; batch < 2 * WalCheckpointer::kFrames / 25 && size_of(path) == before;
       ++batch) {
    std::vector<Txn> txns;
    for (int i = 0; i < 100; ++i) txns.push_back(create_txn(++zxid));
    db.append(txns);
  }
  const int64_t after = size_of(path);
  ASSERT_GT(after, before) << "no checkpoint ran";
  ASSERT_GT(after - before, 1 << 20) << "a checkpoint copies about kFrames pages";
  // The page cache kept none of what the checkpoint appended (SQLite's own checkpoint leaves
  // all of it there: this fails with the hook not installed).
  EXPECT_EQ(resident_pages(path, before, after), 0);
  // And what was logged reads back (from the disk).
  int64_t read = 0;
  db.read_log(0, [&](Txn t) { EXPECT_EQ(t.zxid, kEpoch1 + ++read); });
  EXPECT_EQ(read, zxid - kEpoch1);
}

}  // namespace
}  // namespace corral::storage
