// corral-admin verify on a healthy database and on damaged copies of it: a txn_log row
// deleted (a gap), a snapshot row broken, a snapshot row missing. Each is caught with a
// message naming the file and what is wrong, and exit code 1; so is a row altered in a way
// that still loads, by the snapshot's checksum.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "tests/admin_tool/command_run.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"
#include "tests/ensemble/storage_support.h"

namespace corral::admin_test {
namespace {

using e2e::RawClient;
using e2e::ServerProcess;
using storage::raw_edit_snapshot;
using storage::raw_int;
using storage::SnapshotRow;

constexpr int32_t kSequential = 2;

/// Runs `sql` on the database file `path`; SQLite's error message, empty on success.
std::string exec_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  char* msg = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
    error = "cannot open";
  else if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK)
    error = msg ? msg : "error";
  else if (sqlite3_changes(db) == 0)
    error = "no row changed";
  sqlite3_free(msg);
  sqlite3_close(db);
  return error;
}

// Complete snapshots in the database `path` (a running server's: read-only), or -1.
int complete_snapshots(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* q = nullptr;
  int n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM snapshots WHERE complete = 1", -1, &q,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    n = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

class Verify : public testing::Test {
 protected:
  // A stopped server's database with two snapshots and a log after them.
  static void SetUpTestSuite() {
    ServerProcess::Options options;
    // The snapshotter looks once a tick; the session (no pings) lives 20 ticks.
    options.tick_ms = 250;
    server_ = new ServerProcess("admin-verify", options);
    ASSERT_TRUE(server_->start("snapCount=50\nforceSync=no\n")) << server_->log();
    RawClient client(server_->port());
    ASSERT_TRUE(client.handshake());
    ASSERT_EQ(client.create("/v", ""), e2e::kOk);
    for (int snapshots = 1; snapshots <= 2; ++snapshots) {
      for (int i = 0; i < 100; ++i) ASSERT_EQ(client.create("/v/n-", "x", kSequential), e2e::kOk);
      auto done = [&] { return complete_snapshots(server_->db_file().string()) >= snapshots; };
      ASSERT_EQ(server_->wait_until(done, std::chrono::seconds(10)), ServerProcess::Wait::kReady)
          << "no snapshot " << snapshots << " was written";
    }
    ASSERT_TRUE(server_->terminate());
  }
  static void TearDownTestSuite() { delete server_; }

  // A copy of the database to damage.
  std::string copy(const std::string& name) {
    std::string path = (server_->dir() / name).string();
    ToolRun backup = admin({"backup", server_->db_file().string(), path});
    EXPECT_EQ(backup.exit_code, 0) << backup.output;
    return path;
  }

  static ServerProcess* server_;
};

ServerProcess* Verify::server_ = nullptr;

TEST_F(Verify, HealthyDatabasePassesWithASummary) {
  ToolRun r = admin({"verify", server_->data_dir().string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OK: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no gaps"), std::string::npos) << r.output;
  // 200 children, /v, and the root with /zookeeper, /zookeeper/quota, /zookeeper/config.
  EXPECT_NE(r.output.find("205 nodes"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("with checksums, all match"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(" 0 with checksums"), std::string::npos) << r.output;
}

TEST_F(Verify, DeletedLogRowIsAGap) {
  std::string db = copy("gap.db");
  ASSERT_EQ(exec_sql(db,
                     "DELETE FROM txn_log WHERE zxid = (SELECT zxid FROM txn_log "
                     "ORDER BY zxid LIMIT 1 OFFSET 100)"),
            "");
  ToolRun r = admin({"verify", db});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED: " + db + ": gap in the txn log between zxid"), std::string::npos)
      << r.output;
}

TEST_F(Verify, BrokenSnapshotRowDoesNotDecode) {
  std::string db = copy("broken.db");
  // The oldest snapshot: recovery never reads it, verify must.
  raw_edit_snapshot(db, raw_int(db, "SELECT MIN(id) FROM snapshots WHERE complete = 1"),
                    [](std::vector<SnapshotRow>& rows) { rows.at(2).record = "\xff\x01"; });
  ToolRun r = admin({"verify", db});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("does not decode"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("FAILED: " + db + ": snapshot "), std::string::npos) << r.output;
}

TEST_F(Verify, AlteredSnapshotRowThatStillLoadsFailsItsChecksum) {
  std::string db = copy("renamed.db");
  // A valid path under an existing parent: the tree loads, only the checksum can tell.
  bool renamed = false;
  raw_edit_snapshot(db, raw_int(db, "SELECT MAX(id) FROM snapshots WHERE complete = 1"),
                    [&](std::vector<SnapshotRow>& rows) {
                      for (auto& row : rows)
                        if (row.path == "/v/n-0000000003")
                          row.path = "/v/n-9999999999", renamed = true;
                    });
  ASSERT_TRUE(renamed);
  ToolRun r = admin({"verify", db});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("its rows do not match its checksum"), std::string::npos) << r.output;
}

TEST_F(Verify, MissingSnapshotRowBreaksTheCount) {
  std::string db = copy("short.db");
  raw_edit_snapshot(db, raw_int(db, "SELECT MAX(id) FROM snapshots WHERE complete = 1"),
                    [](std::vector<SnapshotRow>& rows) { rows.pop_back(); });
  ToolRun r = admin({"verify", db});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nodes, expected"), std::string::npos) << r.output;
}

TEST_F(Verify, RestoreRefusesADamagedBackup) {
  std::string db = copy("gap2.db");
  ASSERT_EQ(exec_sql(db,
                     "DELETE FROM txn_log WHERE zxid = (SELECT zxid FROM txn_log "
                     "ORDER BY zxid LIMIT 1 OFFSET 20)"),
            "");
  std::string target = (server_->dir() / "restored").string();
  ToolRun r = admin({"restore", db, target});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the backup does not verify"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(target + "/corral.db"));
}

}  // namespace
}  // namespace corral::admin_test
