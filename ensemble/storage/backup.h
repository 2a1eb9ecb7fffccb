// Copies of a live database: SQLite's online backup API reads a consistent image of the
// source (one read transaction: in WAL mode the server keeps writing meanwhile) and writes
// it to a new file, which only appears, renamed into place, once it is complete and synced.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace corral::storage {

/// How a copy paces itself, so that it does not monopolise the disk the server fsyncs on.
struct BackupPacing {
  /// Pages copied per step.
  int pages_per_step = 1024;
  /// Pause between steps.
  std::chrono::milliseconds pause{1};
};

/// What a copy did.
struct BackupResult {
  int64_t pages = 0;
  int64_t bytes = 0;
  /// The last logged zxid in the copy (0 when its log is empty).
  int64_t last_zxid = 0;
  std::chrono::milliseconds elapsed{0};
};

/// Copies the SQLite database `source` (a server's corral.db, running or not) to `target`
/// (replaced if it exists, with any -wal beside it: no server may have it open) as of one
/// instant. `target` is written as `target`.tmp, synced,
/// then renamed. Throws StorageError naming the file and SQLite's reason.
BackupResult backup_database(const std::string& source, const std::string& target,
                             BackupPacing pacing = {});

/// The database file in `dir_or_file`: `dir_or_file`/corral.db for a directory (a server's
/// dataLogDir, or its dataDir when that is not set), else `dir_or_file` itself.
std::string database_file(const std::string& dir_or_file);

}  // namespace corral::storage
