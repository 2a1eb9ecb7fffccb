// The WAL's checkpoints, run by Corral instead of SQLite's automatic ones so that what they
// append to the database file does not stay in the page cache.
#pragma once

#include <cstdint>
#include <string>

struct sqlite3;

namespace corral::storage {

/// Runs the checkpoint SQLite's wal_autocheckpoint would (a PASSIVE one after a commit that
/// leaves kFrames frames or more in the WAL) and, once a checkpoint has copied every frame
/// (and with synchronous=FULL made the file durable), drops from the page cache the pages by
/// which the database file grew since the last such drop. The txn log grows the file by what
/// it logs (and snapshots by their new chunks), and those pages are read again only by a
/// restart, a DIFF from far back, or a snapshot that reads a chunk back; kept,
/// each took a fresh page of memory, which on this VM (whose host backs freed memory anew)
/// made the copy into them 36% of a member's samples by a third multi round (RESULTS.md,
/// twenty-fifth section). Pages rewritten inside the file stay cached.
class WalCheckpointer {
 public:
  /// Frames in the WAL that start a checkpoint: SQLite's default.
  static constexpr int kFrames = 1000;

  /// Takes over the checkpoints of `db` (in WAL mode, synchronous=FULL: the pages of a
  /// checkpoint that does not sync stay dirty, and dirty pages cannot be dropped), whose main
  /// file is `path`.
  WalCheckpointer(sqlite3* db, const std::string& path);
  /// Destroy only after every connection this process has to the file is closed: closing a
  /// descriptor of the database file releases every POSIX lock the process holds on it,
  /// SQLite's included.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  /// SQLite's wal hook: called after each commit with the frames in the WAL.
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void checkpoint();
  /// The database file's size in bytes, or -1.
  int64_t file_size() const;

  sqlite3* db_;
  int fd_ = -1;  // the database file, read-only: only for its size and the page cache's advice
  /// Where the file's pages not yet dropped from the page cache start.
  int64_t cached_from_ = 0;
};

}  // namespace corral::storage
