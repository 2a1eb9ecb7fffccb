#include "ensemble/storage/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "ensemble/storage/database.h"

namespace corral::storage {
namespace {

using Handle = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;

Handle open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  Handle handle(db, &sqlite3_close);
  if (rc != SQLITE_OK)
    throw StorageError(path + ": cannot open: " + (db ? sqlite3_errmsg(db) : "out of memory"));
  sqlite3_busy_timeout(db, 5000);
  return handle;
}

void exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StorageError(path + ": " + msg);
  }
}

int64_t last_zxid(sqlite3* db) {
  sqlite3_stmt* q = nullptr;
  int64_t zxid = 0;
  if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(zxid), 0) FROM txn_log", -1, &q, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    zxid = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return zxid;
}

// fsync of a file or directory, so that a rename is durable too.
void sync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw StorageError(path + ": cannot open to sync");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw StorageError(path + ": fsync failed");
}

// Copies inside the source's read transaction: every step sees the same snapshot, so a
// writer on another connection neither blocks the copy nor makes it start over.
BackupResult copy(sqlite3* src, const std::string& source, sqlite3* dst, const std::string& tmp,
                  BackupPacing pacing) {
  BackupResult out;
  exec(src, source, "BEGIN");
  // A read transaction starts at the first read.
  out.last_zxid = last_zxid(src);
  sqlite3_backup* backup = sqlite3_backup_init(dst, "main", src, "main");
  if (!backup) throw StorageError(tmp + ": cannot start the backup: " + sqlite3_errmsg(dst));
  int rc;
  while ((rc = sqlite3_backup_step(backup, pacing.pages_per_step)) == SQLITE_OK ||
         rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    std::this_thread::sleep_for(pacing.pause);
  out.pages = sqlite3_backup_pagecount(backup);
  sqlite3_backup_finish(backup);
  exec(src, source, "COMMIT");
  if (rc != SQLITE_DONE) throw StorageError(source + ": backup failed: " + sqlite3_errstr(rc));
  return out;
}

}  // namespace

std::string database_file(const std::string& dir_or_file) {
  return std::filesystem::is_directory(dir_or_file) ? dir_or_file + "/corral.db" : dir_or_file;
}

BackupResult backup_database(const std::string& source, const std::string& target,
                             BackupPacing pacing) {
  auto started = std::chrono::steady_clock::now();
  if (!std::filesystem::is_regular_file(source)) throw StorageError(source + ": no such database");
  std::string tmp = target + ".tmp";
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(tmp + suffix, ignored);
  BackupResult out;
  {
    // Read-write: a reader of a WAL database may need to recover its index (-shm).
    Handle src = open(source, SQLITE_OPEN_READWRITE);
    Handle dst = open(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    out = copy(src.get(), source, dst.get(), tmp, pacing);
    // One self-contained file: no -wal beside it that a copy by hand could leave behind.
    exec(dst.get(), tmp, "PRAGMA journal_mode=DELETE");
  }
  sync_path(tmp);
  // A -wal left beside an older `target` would be applied to the new file when it opens.
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    std::filesystem::remove(target + suffix, ignored);
  std::filesystem::rename(tmp, target);
  std::filesystem::path dir = std::filesystem::absolute(target).parent_path();
  sync_path(dir.string());
  out.bytes = static_cast<int64_t>(std::filesystem::file_size(target));
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace corral::storage
