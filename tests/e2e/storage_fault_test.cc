// End to end: a real corral-server process and its SQLite database. A server
// killed with SIGKILL while taking snapshots recovers every acknowledged node
// exactly; a server whose database was damaged (truncated, overwritten, a gap
// in the log, snapshots lost after the log was purged, not a database at all)
// refuses to start, saying what is wrong and in which file, instead of serving
// a tree that lost data.
//
// Requests are encoded by hand, as in bad_input_test.cc, so a codec bug in the
// server cannot hide itself here.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/wait_until.h"

namespace {

using namespace corral::e2e;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;
constexpr auto kStartDeadline = 20s;

// ---- The database, opened directly (as a user would with the sqlite3 CLI) ----

/// Runs SQL on `file`; SQLite's error message, or "" on success.
std::string sql(const fs::path& file, const std::string& statements) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    return msg;
  }
  char* err = nullptr;
  std::string msg;
  if (sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err) != SQLITE_OK)
    msg = err ? err : "error";
  sqlite3_free(err);
  sqlite3_close(db);
  return msg;
}

/// The integers of a query's first column.
std::vector<int64_t> sql_ints(const fs::path& file, const std::string& query) {
  std::vector<int64_t> out;
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK)
      while (sqlite3_step(stmt) == SQLITE_ROW) out.push_back(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

std::string hex(int64_t zxid) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(zxid));
  return buf;
}

// ---- Fixture ----

constexpr const char* kSnapshotConfig =
    "snapCount=50\nautopurge.purgeInterval=1\nautopurge.snapRetainCount=3\n";

class StorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        "corral-storage-e2e", ServerProcess::Options{.output = ServerProcess::Output::kSplit,
                                                     .tick_ms = 200,
                                                     .start_timeout = kStartDeadline,
                                                     .stop_timeout = kDeadline});
    ASSERT_FALSE(server_->dir().empty());
  }

  void TearDown() override {
    if (HasFailure()) {
      server_->keep_dir();
      std::fprintf(stderr, "kept %s for inspection\n", server_->dir().c_str());
    }
    server_.reset();
  }

  /// Starts the server, runs `writes` changes through one session, and returns every path
  /// touched (including deleted ones).
  std::vector<std::string> populate(const std::string& config, int writes) {
    EXPECT_TRUE(server_->start(config)) << server_->log() << server_->err();
    RawClient c(server_->port(), kDeadline);
    EXPECT_TRUE(c.handshake());
    std::mt19937 rng(7);
    std::vector<std::string> touched;
    std::vector<std::string> live;
    for (int p = 0; p < 5; ++p) {
      std::string parent = "/p" + std::to_string(p);
      EXPECT_EQ(c.create(parent, "parent"), kOk);
      touched.push_back(parent);
    }
    for (int i = 0; i < writes; ++i) {
      int kind = static_cast<int>(rng() % 10);
      std::string data(static_cast<size_t>(rng() % 400), static_cast<char>('a' + i % 26));
      if (kind < 5 || live.empty()) {
        std::string path = "/p" + std::to_string(rng() % 5) + "/n" + std::to_string(i);
        int32_t flags = rng() % 4 == 0 ? 2 : 0;  // some sequential
        std::string created;
        EXPECT_EQ(c.create(path, data, flags, &created), kOk) << path;
        path = created;
        touched.push_back(path);
        live.push_back(path);
      } else if (kind < 8) {
        EXPECT_EQ(c.set_data(live[rng() % live.size()], data), kOk);
      } else {
        size_t at = rng() % live.size();
        EXPECT_EQ(c.remove(live[at]), kOk) << live[at];
        live.erase(live.begin() + static_cast<long>(at));
      }
    }
    return touched;
  }

  /// getData and exists of every path, as the server answers now.
  std::map<std::string, std::pair<NodeView, NodeView>> read_all(
      const std::vector<std::string>& paths) {
    std::map<std::string, std::pair<NodeView, NodeView>> out;
    RawClient c(server_->port(), kDeadline);
    EXPECT_TRUE(c.handshake());
    for (const auto& p : paths) {
      auto data = c.get_data(p);
      auto stat = c.exists(p);
      EXPECT_TRUE(data && stat) << p;
      if (data && stat) out[p] = {*data, *stat};
    }
    return out;
  }

  /// After a clean stop, the main file holds everything (no -wal/-shm files).
  void stop_cleanly() {
    ASSERT_TRUE(server_->terminate()) << server_->log() << server_->err();
    // Closing the database checkpoints the WAL into the main file and deletes it.
    fs::path wal = server_->db_file().string() + "-wal";
    EXPECT_TRUE(!fs::exists(wal) || fs::file_size(wal) == 0) << "the WAL outlived a clean stop";
    for (const char* suffix : {"-wal", "-shm"}) {
      std::error_code ec;
      fs::remove(server_->db_file().string() + suffix, ec);
    }
  }

  /// Starts the server over the damaged data; it must exit non-zero in time, saying on
  /// stderr that it refuses, naming the database file and containing `problem`.
  void expect_refusal(const std::vector<std::string>& problems) {
    auto status = server_->start_expecting_exit("");
    ASSERT_TRUE(status.has_value()) << "the server did not exit; log:\n" << server_->log();
    EXPECT_NE(*status, 0);
    std::string err = server_->err();
    std::printf("the server said: %s", err.c_str());
    EXPECT_NE(err.find("refusing to start"), std::string::npos) << err;
    EXPECT_NE(err.find(server_->db_file().string()), std::string::npos) << err;
    for (const auto& p : problems) EXPECT_NE(err.find(p), std::string::npos) << p << "\n" << err;
    EXPECT_EQ(server_->log().find("serving on"), std::string::npos);
  }

  std::unique_ptr<ServerProcess> server_;
};

// ---- Recovery of acknowledged writes ----

TEST_F(StorageFaultTest, SigkillDuringSnapshotsRecoversEveryAcknowledgedNode) {
  auto paths = populate(kSnapshotConfig, 400);
  ASSERT_FALSE(HasFailure());
  auto before = read_all(paths);
  // Snapshots were taken while writing, and old ones purged.
  std::string log = server_->log();
  size_t snapshots = 0;
  for (size_t at = 0; (at = log.find("snapshot of", at)) != std::string::npos; ++at) ++snapshots;
  EXPECT_GE(snapshots, 3u) << log;

  server_->kill_now();
  ASSERT_TRUE(server_->start(kSnapshotConfig)) << server_->log() << server_->err();
  // Recovery used a snapshot plus the log after it.
  const std::string recovered = server_->log();
  ASSERT_NE(recovered.find("recovered "), std::string::npos) << recovered;
  EXPECT_EQ(recovered.find("snapshot at zxid 0x0 ("), std::string::npos) << recovered;
  auto after = read_all(paths);
  ASSERT_EQ(before.size(), after.size());
  size_t present = 0;
  for (const auto& [path, views] : before) {
    EXPECT_EQ(views.first, after[path].first) << path << " (getData)";
    EXPECT_EQ(views.second, after[path].second) << path << " (exists)";
    if (views.first.err == kOk) ++present;
  }
  EXPECT_GT(present, 100u);
  EXPECT_LT(present, before.size());  // some were deleted
  // The parents' Stats (cversion, pzxid, numChildren) came back too.
  for (int p = 0; p < 5; ++p) {
    std::string parent = "/p" + std::to_string(p);
    EXPECT_EQ(before[parent].first, after[parent].first) << parent;
  }

  // And again after a clean stop, with writes after the restart.
  {
    RawClient c(server_->port(), kDeadline);
    ASSERT_TRUE(c.handshake());
    ASSERT_EQ(c.create("/after-restart", "x"), kOk);
  }
  paths.push_back("/after-restart");
  before = read_all(paths);
  ASSERT_TRUE(server_->terminate());
  ASSERT_TRUE(server_->start(kSnapshotConfig)) << server_->log() << server_->err();
  EXPECT_EQ(read_all(paths), before);
  ASSERT_TRUE(server_->terminate());
  EXPECT_LE(sql_ints(server_->db_file(), "SELECT count(*) FROM snapshots WHERE complete = 1")[0],
            3);
}

// ---- Damaged databases ----

TEST_F(StorageFaultTest, TruncatedDatabase) {
  populate("", 300);
  stop_cleanly();
  auto size = fs::file_size(server_->db_file());
  ASSERT_GT(size, 64u * 1024);
  fs::resize_file(server_->db_file(), size / 2);
  expect_refusal({"malformed"});
}

TEST_F(StorageFaultTest, RandomBytesInTheMiddle) {
  populate("", 300);
  stop_cleanly();
  auto size = fs::file_size(server_->db_file());
  ASSERT_GT(size, 64u * 1024);
  // One page in the middle (SQLite's default page size is 4096) gets random bytes.
  std::mt19937 rng(11);
  std::string junk(4096, '\0');
  for (auto& ch : junk) ch = static_cast<char>(rng());
  {
    std::fstream f(server_->db_file(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  expect_refusal({"corrupt"});
}

TEST_F(StorageFaultTest, GapInTheLog) {
  populate("", 100);
  stop_cleanly();
  auto zxids = sql_ints(server_->db_file(), "SELECT zxid FROM txn_log ORDER BY zxid");
  ASSERT_GT(zxids.size(), 50u);
  size_t mid = zxids.size() / 2;
  ASSERT_EQ(
      sql(server_->db_file(), "DELETE FROM txn_log WHERE zxid = " + std::to_string(zxids[mid])),
      "");
  expect_refusal({"gap", hex(zxids[mid - 1]), hex(zxids[mid + 1])});
}

// A purge that frees more of the log than one batch (Database::kLogPurgeBatch, 1,000 txns)
// removes the rest in storage jobs of their own, between the writes that keep coming: the log
// ends up starting right after the oldest kept snapshot, as when it went in one transaction.
TEST_F(StorageFaultTest, APurgeLargerThanABatchFinishesInLaterJobs) {
  // Snapshots every 1,500 txns, 3 kept: the fourth frees the first 3,000 or so, three batches.
  populate("snapCount=1500\nautopurge.purgeInterval=1\nautopurge.snapRetainCount=3\n", 7000);
  auto log_starts_after_the_oldest_kept = [&] {
    auto snaps = sql_ints(server_->db_file(),
                          "SELECT min(start_zxid) FROM snapshots WHERE complete = 1 "
                          "GROUP BY complete HAVING count(*) = 3");
    auto first = sql_ints(server_->db_file(), "SELECT min(zxid) FROM txn_log");
    return snaps.size() == 1 && first.size() == 1 && first[0] == snaps[0] + 1;
  };
  EXPECT_TRUE(wait_until(kDeadline, log_starts_after_the_oldest_kept))
      << "the log before the oldest kept snapshot is purged";
  stop_cleanly();
  EXPECT_TRUE(log_starts_after_the_oldest_kept());
}

// A start with autopurge on purges what the stored snapshots no longer need at once, not only
// when its next snapshot finishes: a purge a stop cut short goes on. Here the snapshots were
// taken with autopurge off, and no write follows the start.
TEST_F(StorageFaultTest, AStartWithAutopurgeOnPurgesTheLogTheSnapshotsNoLongerNeed) {
  populate("snapCount=1500\n", 4000);
  stop_cleanly();
  const auto oldest =
      sql_ints(server_->db_file(), "SELECT min(start_zxid) FROM snapshots WHERE complete = 1");
  const auto first_logged = [&] {
    auto first = sql_ints(server_->db_file(), "SELECT min(zxid) FROM txn_log");
    return first.empty() ? int64_t{-1} : first[0];
  };
  ASSERT_EQ(oldest.size(), 1u);
  ASSERT_GT(oldest[0], 0) << "a snapshot was taken";
  ASSERT_LT(first_logged(), oldest[0] - 1000) << "more than a batch to purge";
  ASSERT_TRUE(
      server_->start("snapCount=1500\nautopurge.purgeInterval=1\n"
                     "autopurge.snapRetainCount=3\n"))
      << server_->err();
  EXPECT_TRUE(wait_until(kDeadline, [&] { return first_logged() == oldest[0] + 1; }))
      << "the log starts at " << hex(first_logged()) << ", the oldest snapshot at "
      << hex(oldest[0]);
}

TEST_F(StorageFaultTest, SnapshotsLostAfterTheLogWasPurged) {
  populate(kSnapshotConfig, 400);
  stop_cleanly();
  auto snaps = sql_ints(server_->db_file(),
                        "SELECT start_zxid FROM snapshots WHERE complete = 1 ORDER BY start_zxid");
  ASSERT_EQ(snaps.size(), 3u) << "autopurge keeps 3";
  auto first = sql_ints(server_->db_file(), "SELECT min(zxid) FROM txn_log");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0], snaps[0] + 1) << "the log before the oldest kept snapshot is purged";

  // Losing only the newest snapshot is survivable: the next one and the log still meet.
  fs::path copy = server_->dir() / "copy.db";
  fs::copy_file(server_->db_file(), copy);
  ASSERT_EQ(
      sql(server_->db_file(),
          "DELETE FROM snapshot_chunk_refs WHERE snapshot_id = (SELECT max(id) FROM snapshots); "
          "DELETE FROM snapshots WHERE id = (SELECT max(id) FROM snapshots)"),
      "");
  ASSERT_TRUE(server_->start("")) << server_->err();
  {
    RawClient c(server_->port(), kDeadline);
    ASSERT_TRUE(c.handshake());
    auto v = c.get_data("/p0");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->err, kOk);
  }
  ASSERT_TRUE(server_->terminate());

  // Losing all of them is not: the log no longer reaches back to an empty tree.
  fs::copy_file(copy, server_->db_file(), fs::copy_options::overwrite_existing);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(server_->db_file().string() + suffix);
  ASSERT_EQ(sql(server_->db_file(),
                "DELETE FROM snapshot_chunk_refs; DELETE FROM chunk_store; DELETE FROM "
                "snapshot_sessions; "
                "DELETE FROM snapshots"),
            "");
  expect_refusal({"no snapshot", hex(first[0])});
}

TEST_F(StorageFaultTest, NotADatabase) {
  populate("", 10);
  stop_cleanly();
  {
    std::ofstream out(server_->db_file(), std::ios::trunc);
    for (int i = 0; i < 1000; ++i) out << "this is not a database, line " << i << "\n";
  }
  expect_refusal({"not a database"});
}

// A client's ACL id may be any bytes (ZooKeeper does not read them as UTF-8): the server that
// logged a create with one starts again and answers getACL with it (its user part: without
// ADMIN, a digest's hash is shown as "x", as ZooKeeper shows it). It refused to start while the
// log's records kept ACL ids as proto3 strings, which protobuf parses only as UTF-8.
TEST_F(StorageFaultTest, AnAclIdThatIsNotUtf8SurvivesARestart) {
  const std::string id("u\xff:h\xc3", 6);
  ASSERT_TRUE(server_->start("")) << server_->err();
  {
    RawClient c(server_->port(), kDeadline);
    ASSERT_TRUE(c.handshake());
    std::string body;
    put_buffer(body, "/a");
    put_buffer(body, "x");
    put32(body, 2);   // two ACL entries
    put32(body, 31);  // ALL
    put_buffer(body, "digest");
    put_buffer(body, id);
    put32(body, 1);  // READ, so that this unauthenticated session may getACL
    put_buffer(body, "world");
    put_buffer(body, "anyone");
    put32(body, 0);  // persistent
    auto created = c.call(kOpCreate, body);
    ASSERT_TRUE(created.has_value());
    ASSERT_EQ(created->err, kOk);
  }
  stop_cleanly();
  ASSERT_TRUE(server_->start("")) << server_->err();
  RawClient c(server_->port(), kDeadline);
  ASSERT_TRUE(c.handshake());
  std::string path;
  put_buffer(path, "/a");
  auto acl = c.call(6, path);  // getACL
  ASSERT_TRUE(acl.has_value());
  EXPECT_EQ(acl->err, kOk);
  EXPECT_NE(acl->body.find(std::string("u\xff:x")), std::string::npos)
      << ::testing::PrintToString(acl->body);
  ASSERT_TRUE(server_->terminate());
}

TEST_F(StorageFaultTest, EmptyDirectoryStartsAndUndamagedRestarts) {
  populate("", 20);
  stop_cleanly();
  ASSERT_TRUE(server_->start("")) << server_->err();
  ASSERT_TRUE(server_->terminate());
}

}  // namespace
