#include "ensemble/storage/wal_checkpointer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace corral::storage {

WalCheckpointer::WalCheckpointer(sqlite3* db, const std::string& path) : db_(db) {
  // Without the file the checkpoints still run; only their pages stay cached.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  cached_from_ = file_size();
  sqlite3_wal_hook(db_, &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  if (fd_ >= 0) ::close(fd_);
}

int WalCheckpointer::on_commit(void* self, sqlite3*, const char* schema, int frames) {
  if (frames >= kFrames && std::strcmp(schema, "main") == 0)
    static_cast<WalCheckpointer*>(self)->checkpoint();
  // As SQLite's own hook: a checkpoint that could not run (a reader holds old frames, an I/O
  // error) is not the commit's failure, which is durable in the WAL already; the next one
  // tries again.
  return SQLITE_OK;
}

void WalCheckpointer::checkpoint() {
  int logged = 0, copied = 0;
  if (sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &logged, &copied) !=
          SQLITE_OK ||
      copied != logged || fd_ < 0)
    return;  // pages of a checkpoint that stopped short may be dirty: the next one drops them
  const int64_t size = file_size();
  if (size > cached_from_ && cached_from_ >= 0)
    ::posix_fadvise(fd_, cached_from_, size - cached_from_, POSIX_FADV_DONTNEED);
  // Pages reused from SQLite's free list (a purged log's) are rewritten below this and stay
  // cached: the cache then holds no more than the file.
  cached_from_ = size;
}

int64_t WalCheckpointer::file_size() const {
  struct stat st;
  return fd_ >= 0 && ::fstat(fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace corral::storage
