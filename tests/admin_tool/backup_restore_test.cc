// corral-admin backup under write load, then restore into a new data directory: the server
// started on it serves every write acknowledged before the backup began, the copy is one
// instant of the log (the sequential nodes it holds are a prefix of those written, no hole),
// and corral-admin verify passes on it. restore refuses a data directory in use.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/admin_tool/command_run.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace corral::admin_test {
namespace {

using namespace std::chrono_literals;
using e2e::RawClient;
using e2e::ServerProcess;

constexpr int32_t kSequential = 2;  // CreateMode.PERSISTENT_SEQUENTIAL
// Enough rows that a slowly paced backup spans many steps while the writer goes on.
constexpr size_t kWritesBeforeBackup = 400;
const std::string kData(1000, 'd');

/// One client creating sequential nodes under /load until told to stop.
class Writer {
 public:
  explicit Writer(uint16_t port) : thread_([this, port] { loop(port); }) {}
  ~Writer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// Acknowledged creates so far.
  size_t acked() {
    std::lock_guard lock(mu_);
    return names_.size();
  }
  /// The created paths, in acknowledgement order.
  std::vector<std::string> names() {
    std::lock_guard lock(mu_);
    return names_;
  }
  bool failed() const { return failed_; }

 private:
  void loop(uint16_t port) {
    RawClient client(port);
    if (!client.handshake()) {
      failed_ = true;
      return;
    }
    while (!stop_) {
      std::string created;
      auto err = client.create("/load/n-", kData, kSequential, &created);
      if (!err || *err != e2e::kOk) {
        failed_ = true;
        return;
      }
      std::lock_guard lock(mu_);
      names_.push_back(created);
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::vector<std::string> names_;
  std::thread thread_;
};

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(BackupRestore, BackupUnderWriteLoadRestoresEveryAcknowledgedWrite) {
  ServerProcess source("admin-source", {});
  // Snapshots are taken while the load runs, so the copy holds some mid-way too.
  ASSERT_TRUE(source.start("snapCount=150\n4lw.commands.whitelist=*\n")) << source.log();
  {
    RawClient setup(source.port());
    ASSERT_TRUE(setup.handshake());
    ASSERT_EQ(setup.create("/load", ""), e2e::kOk);
  }
  Writer writer(source.port());
  ASSERT_TRUE(
      wait_for([&] { return writer.acked() >= kWritesBeforeBackup || writer.failed(); }, 30s));
  ASSERT_FALSE(writer.failed());
  // Acknowledged before the backup began: these must all come back.
  std::vector<std::string> before = writer.names();
  std::string out = (source.dir() / "backup.db").string();
  // Slowly paced (2 pages, then 5 ms), so the writer's commits land while it copies.
  ToolRun backup =
      admin({"backup", source.data_dir().string(), out, "--pages", "2", "--pause-ms", "5"});
  size_t during = writer.acked() - before.size();
  writer.stop();
  ASSERT_FALSE(writer.failed());
  ASSERT_EQ(backup.exit_code, 0) << backup.output;
  std::printf("backup: %s; %zu writes acknowledged before it, %zu while it ran\n",
              backup.output.c_str(), before.size(), during);
  EXPECT_GT(during, 0u) << "the writer made no progress while the backup ran: no load";
  std::vector<std::string> all = writer.names();

  ToolRun verify = admin({"verify", out});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("OK: "), std::string::npos) << verify.output;

  ServerProcess restored("admin-restored", {});
  ToolRun restore = admin({"restore", out, restored.data_dir().string()});
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  ASSERT_TRUE(restored.start("4lw.commands.whitelist=*\n")) << restored.log();
  RawClient reader(restored.port());
  ASSERT_TRUE(reader.handshake());
  // The restored nodes must be the first K written, K at least every pre-backup ack.
  size_t present = 0;
  bool hole = false;
  for (size_t i = 0; i < all.size(); ++i) {
    auto seen = reader.exists(all[i]);
    ASSERT_TRUE(seen.has_value()) << "no answer for " << all[i];
    if (seen->err == e2e::kOk) {
      hole = hole || present != i;
      ++present;
    }
  }
  EXPECT_FALSE(hole) << "the restored nodes are not a prefix of those written: not one instant";
  EXPECT_GE(present, before.size()) << "writes acknowledged before the backup began are missing";
  auto last = reader.get_data(before.back());
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->data, kData);
  std::printf(
      "restored server serves %zu of %zu written nodes (%zu acknowledged before the "
      "backup)\n",
      present, all.size(), before.size());
}

TEST(BackupRestore, RestoreRefusesADataDirectoryInUseWithoutForce) {
  ServerProcess source("admin-refuse", {});
  ASSERT_TRUE(source.start("")) << source.log();
  std::string out = (source.dir() / "backup.db").string();
  ASSERT_EQ(admin({"backup", source.data_dir().string(), out}).exit_code, 0);
  // The source's own directory holds its corral.db.
  ToolRun refused = admin({"restore", out, source.data_dir().string()});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("is not empty (it holds corral.db"), std::string::npos)
      << refused.output;
  ASSERT_TRUE(source.terminate());
  ToolRun forced = admin({"restore", out, source.data_dir().string(), "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  ToolRun missing = admin({"backup", (source.dir() / "nowhere").string(), out});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
}

}  // namespace
}  // namespace corral::admin_test
