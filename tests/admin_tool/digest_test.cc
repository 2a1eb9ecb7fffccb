// corral-admin digest against a 3-member Corral ensemble: the members agree after writes,
// and after one member's database was altered offline (one logged create's data changed,
// as a disk or an operator could) the restarted ensemble is reported as differing: that
// member replays the altered txn, and a peer already at the leader's zxid gets no resync.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "ensemble/txn/txn_codec.h"
#include "tests/admin_tool/command_run.h"
#include "tests/e2e/ensemble.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"

namespace corral::admin_test {
namespace {

using namespace std::chrono_literals;
using e2e::Ensemble;
using e2e::RawClient;

constexpr int32_t kSequential = 2;

/// Changes the data of the newest logged create under /d in the database `path`; the
/// zxid changed, or 0 with `error` set.
int64_t alter_newest_create(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    error = "cannot open " + path;
    sqlite3_close(db);
    return 0;
  }
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT zxid, record FROM txn_log ORDER BY zxid DESC", -1, &q, nullptr);
  int64_t zxid = 0;
  std::string record;
  while (zxid == 0 && sqlite3_step(q) == SQLITE_ROW) {
    std::string bytes(static_cast<const char*>(sqlite3_column_blob(q, 1)),
                      static_cast<size_t>(sqlite3_column_bytes(q, 1)));
    tree::Txn txn = txn::decode_txn(bytes);
    if (txn.ops.size() != 1 || !txn.ops[0].path.starts_with("/d/")) continue;
    txn.ops[0].data = "altered offline";
    zxid = txn.zxid;
    record = txn::encode_txn(txn);
  }
  sqlite3_finalize(q);
  if (zxid == 0) error = "no create under /d in the log";
  sqlite3_prepare_v2(db, "UPDATE txn_log SET record = ? WHERE zxid = ?", -1, &q, nullptr);
  sqlite3_bind_blob(q, 1, record.data(), static_cast<int>(record.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 2, zxid);
  if (zxid != 0 && sqlite3_step(q) != SQLITE_DONE) error = sqlite3_errmsg(db);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return error.empty() ? zxid : 0;
}

TEST(Digest, AgreesOnAHealthyEnsembleAndFindsAnAlteredMember) {
  Ensemble ensemble(Ensemble::Options{});
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  ASSERT_TRUE(ensemble.start_all(60s)) << ensemble.describe();
  {
    RawClient client(ensemble.client_port(0));
    ASSERT_TRUE(client.handshake());
    ASSERT_EQ(client.create("/d", ""), e2e::kOk);
    for (int i = 0; i < 50; ++i)
      ASSERT_EQ(client.create("/d/n-", "v" + std::to_string(i), kSequential), e2e::kOk);
  }
  ToolRun healthy = admin({"digest", ensemble.connect_string()});
  EXPECT_EQ(healthy.exit_code, 0) << healthy.output;
  EXPECT_NE(healthy.output.find("AGREE: 3 members at zxid"), std::string::npos) << healthy.output;

  ensemble.stop_all();
  std::string error;
  int64_t zxid =
      alter_newest_create((ensemble.member_dir(1) / "data" / "corral.db").string(), error);
  ASSERT_NE(zxid, 0) << error;
  ASSERT_TRUE(ensemble.start_all(60s)) << ensemble.describe();
  ToolRun altered = admin({"digest", ensemble.connect_string()});
  EXPECT_EQ(altered.exit_code, 1) << altered.output;
  EXPECT_NE(altered.output.find("DIFFER: members at zxid"), std::string::npos) << altered.output;
  std::printf("%s", altered.output.c_str());
}

TEST(Digest, UnderWriteLoadItNeverReportsAFalseDifference) {
  Ensemble ensemble(Ensemble::Options{});
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  ASSERT_TRUE(ensemble.start_all(60s)) << ensemble.describe();
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread writer([&] {
    RawClient client(ensemble.client_port(0));
    if (!client.handshake() || client.create("/w", "") != e2e::kOk) return;
    while (!stop && client.create("/w/n-", "x", kSequential) == e2e::kOk) ++acked;
  });
  // Members that answer at the same zxid must agree even while they apply writes: AGREE or
  // INCONCLUSIVE, never DIFFER.
  int rounds = 0, agreed = 0;
  for (auto end = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < end;
       ++rounds) {
    ToolRun r = admin({"digest", ensemble.connect_string(), "--timeout-ms", "300"});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.output;
    agreed += r.exit_code == 0;
  }
  stop = true;
  writer.join();
  EXPECT_GT(acked.load(), 100) << "no write load";
  std::printf(
      "%d digest runs under load (%d found a common zxid and agreed), %d writes "
      "acknowledged\n",
      rounds, agreed, acked.load());
}

TEST(Digest, NamesAMemberThatCannotAnswer) {
  // Nothing listens on a freshly picked port.
  uint16_t port = e2e::pick_listen_port();
  ToolRun r = admin({"digest", "127.0.0.1:" + std::to_string(port), "--timeout-ms", "2000"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("127.0.0.1:" + std::to_string(port) + ": "), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace corral::admin_test
