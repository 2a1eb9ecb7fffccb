// The quorum_config table: the 'active' and 'next' configs of dynamic reconfiguration
// survive a reopen and a SIGKILL, a TRUNC drops a 'next' proposed past its cut in the same
// SQLite transaction, activating catches up with 'next', and an older database gets the table.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <future>

#include "ensemble/storage/backup.h"
#include "ensemble/storage/storage_thread.h"
#include "ensemble/storage/verify.h"
#include "tests/ensemble/storage_support.h"

namespace corral::storage {
namespace {

// A config text as zab::QuorumConfig::text() writes it, for version `v`.
std::string config_text(int64_t v, int members = 3) {
  std::string out;
  for (int id = 1; id <= members; ++id)
    out += "server." + std::to_string(id) + "=127.0.0.1:" + std::to_string(2000 + id) + ":" +
           std::to_string(3000 + id) + ":participant\n";
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(v));
  return out + "version=" + hex;
}

Txn txn_at(int64_t zxid) {
  Txn t;
  t.zxid = zxid;
  t.type = wire::OpCode::kCreate;
  TxnOp op;
  op.type = wire::OpCode::kCreate;
  op.path = "/n" + std::to_string(zxid & 0xffffffff);
  t.ops.push_back(op);
  return t;
}

TEST(ReconfigStorage, NewDatabaseHasNoConfigs) {
  TempDir dir;
  Database db(dir.file("c.db"), true);
  EXPECT_FALSE(db.config(ConfigSlot::kActive));
  EXPECT_FALSE(db.config(ConfigSlot::kNext));
}

TEST(ReconfigStorage, RowsSurviveCloseAndReopen) {
  TempDir dir;
  {
    Database db(dir.file("c.db"), true);
    db.set_config(ConfigSlot::kActive, 0x100000000, config_text(0x100000000));
    db.set_config(ConfigSlot::kNext, 0x100000003, config_text(0x100000003, 5));
  }
  Database db(dir.file("c.db"), true);
  EXPECT_EQ(db.config(ConfigSlot::kActive),
            (StoredQuorumConfig{0x100000000, config_text(0x100000000)}));
  EXPECT_EQ(db.config(ConfigSlot::kNext),
            (StoredQuorumConfig{0x100000003, config_text(0x100000003, 5)}));
  // Readable with the sqlite3 CLI, as the design guide wants.
  EXPECT_EQ(raw_int(dir.file("c.db"), "SELECT version FROM quorum_config WHERE slot = 'next'"),
            0x100000003);
}

TEST(ReconfigStorage, ASecondWriteReplacesTheSlot) {
  TempDir dir;
  Database db(dir.file("c.db"), true);
  db.set_config(ConfigSlot::kNext, 0x100000003, config_text(0x100000003));
  db.set_config(ConfigSlot::kNext, 0x200000001, config_text(0x200000001, 4));
  EXPECT_EQ(db.config(ConfigSlot::kNext)->version, 0x200000001);
  EXPECT_EQ(raw_int(dir.file("c.db"), "SELECT COUNT(*) FROM quorum_config"), 1);
}

TEST(ReconfigStorage, ActivatingRetiresTheNextItCatchesUpWith) {
  TempDir dir;
  Database db(dir.file("c.db"), true);
  db.set_config(ConfigSlot::kNext, 0x100000003, config_text(0x100000003));
  db.set_config(ConfigSlot::kActive, 0x100000003, config_text(0x100000003));
  EXPECT_FALSE(db.config(ConfigSlot::kNext));
  // A newer pending proposal stays pending.
  db.set_config(ConfigSlot::kNext, 0x100000009, config_text(0x100000009));
  db.set_config(ConfigSlot::kActive, 0x100000005, config_text(0x100000005));
  ASSERT_TRUE(db.config(ConfigSlot::kNext));
  EXPECT_EQ(db.config(ConfigSlot::kNext)->version, 0x100000009);
}

TEST(ReconfigStorage, TruncDropsANextProposedPastTheCut) {
  TempDir dir;
  Database db(dir.file("c.db"), true);
  db.append({txn_at(0x100000001), txn_at(0x100000002), txn_at(0x100000003)});
  db.set_config(ConfigSlot::kActive, 0x100000001, config_text(0x100000001));
  db.set_config(ConfigSlot::kNext, 0x100000003, config_text(0x100000003));
  db.truncate_after(0x100000003);  // the reconfig txn itself is kept: so is its 'next'
  EXPECT_TRUE(db.config(ConfigSlot::kNext));
  db.truncate_after(0x100000002);
  EXPECT_FALSE(db.config(ConfigSlot::kNext));
  EXPECT_EQ(db.last_logged_zxid(), 0x100000002);
  ASSERT_TRUE(db.config(ConfigSlot::kActive));  // committed: never truncated
  EXPECT_EQ(db.config(ConfigSlot::kActive)->version, 0x100000001);
}

TEST(ReconfigStorage, AFailedTruncKeepsTheNextRowToo) {
  TempDir dir;
  std::string path = dir.file("c.db");
  Database db(path, true);
  db.append({txn_at(0x100000001), txn_at(0x100000002)});
  db.set_config(ConfigSlot::kNext, 0x100000002, config_text(0x100000002));
  // The log's delete fails inside the transaction: nothing of the truncation may remain.
  raw_sql(path,
          "CREATE TRIGGER refuse BEFORE DELETE ON quorum_config "
          "BEGIN SELECT RAISE(ABORT, 'refused'); END");
  EXPECT_THROW(db.truncate_after(0x100000001), StorageError);
  EXPECT_EQ(db.last_logged_zxid(), 0x100000002);
  EXPECT_TRUE(db.config(ConfigSlot::kNext));
}

TEST(ReconfigStorage, AnOlderDatabaseGetsTheTable) {
  TempDir dir;
  std::string path = dir.file("c.db");
  {
    Database db(path, true);
    db.append({txn_at(0x100000001)});
  }
  raw_sql(path, "DROP TABLE quorum_config");  // as written by a Corral from before reconfig
  Database db(path, true);
  EXPECT_FALSE(db.config(ConfigSlot::kActive));
  db.set_config(ConfigSlot::kActive, 0x100000001, config_text(0x100000001));
  EXPECT_EQ(db.config(ConfigSlot::kActive)->version, 0x100000001);
  EXPECT_EQ(db.last_logged_zxid(), 0x100000001);
}

// A child stores config after config and reports each once set_config returned; the parent
// kills it with SIGKILL mid-way. What it reported is there, whole (text matching version).
TEST(ReconfigStorage, RowsReportedStoredSurviveSigkill) {
  TempDir dir;
  std::string path = dir.file("c.db");
  { Database create(path, true); }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    Database db(path, true);
    for (int64_t v = 1;; ++v) {
      db.set_config(v % 2 ? ConfigSlot::kActive : ConfigSlot::kNext, v, config_text(v, 1 + v % 5));
      if (write(fds[1], &v, sizeof v) != sizeof v) _exit(1);
    }
  }
  close(fds[1]);
  int64_t reported = 0;
  while (reported < 40 && read(fds[0], &reported, sizeof reported) == sizeof reported) {
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  Database db(path, true);
  auto active = db.config(ConfigSlot::kActive);
  ASSERT_TRUE(active);
  EXPECT_GE(active->version, reported - 1);
  EXPECT_EQ(active->text, config_text(active->version, 1 + active->version % 5));
  if (auto next = db.config(ConfigSlot::kNext)) {
    EXPECT_GT(next->version, active->version);  // an activation retires the older next
    EXPECT_EQ(next->text, config_text(next->version, 1 + next->version % 5));
  }
}

// How the ZAB driver stores Ready::next_config and Ready::activated: a job on the storage
// thread, ordered with the txns appended before it.
TEST(ReconfigStorage, StorageThreadJobsStoreConfigsInOrderWithTheLog) {
  TempDir dir;
  Database db(dir.file("c.db"), true);
  std::vector<std::function<void()>> posted;
  std::mutex mu;
  StorageThread storage(db, [&](std::function<void()> f) {
    std::lock_guard lock(mu);
    posted.push_back(std::move(f));
  });
  storage.append(tree::share(txn_at(0x100000001)), [] {});
  std::promise<std::pair<int64_t, std::optional<StoredQuorumConfig>>> seen;
  storage.run(
      [&](Database& d) {
        d.set_config(ConfigSlot::kNext, 0x100000001, config_text(0x100000001));
        seen.set_value({d.last_logged_zxid(), d.config(ConfigSlot::kNext)});
      },
      {});
  auto [logged, next] = seen.get_future().get();
  storage.stop();
  EXPECT_EQ(logged, 0x100000001);  // the proposal was durable before its config was stored
  ASSERT_TRUE(next);
  EXPECT_EQ(next->version, 0x100000001);
}

// corral-admin backup copies the file: the configs come along, and verify accepts it.
TEST(ReconfigStorage, BackupKeepsTheConfigsAndVerifyAcceptsThem) {
  TempDir dir;
  {
    Database db(dir.file("c.db"), true);
    db.append({txn_at(0x100000001), txn_at(0x100000002)});
    db.set_config(ConfigSlot::kActive, 0x100000001, config_text(0x100000001));
    db.set_config(ConfigSlot::kNext, 0x100000002, config_text(0x100000002, 4));
  }
  backup_database(dir.file("c.db"), dir.file("copy.db"));
  EXPECT_EQ(verify_database(dir.file("copy.db"), dir.file("")).problem, "");
  Database copy(dir.file("copy.db"), true);
  EXPECT_EQ(copy.config(ConfigSlot::kActive)->version, 0x100000001);
  EXPECT_EQ(copy.config(ConfigSlot::kNext)->text, config_text(0x100000002, 4));
}

}  // namespace
}  // namespace corral::storage
