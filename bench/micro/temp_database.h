// A database file in a fresh temp directory for the microbenchmarks, removed afterwards.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "ensemble/storage/database.h"

namespace corral::bench {

/// A fresh database file in $TMPDIR (forceSync on, as in production), removed afterwards.
class TempDatabase {
 public:
  TempDatabase() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "corral-micro.XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    db_ = std::make_unique<storage::Database>((dir_ / "corral.db").string(), true);
  }
  ~TempDatabase() {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  /// The database.
  storage::Database& db() { return *db_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
};

}  // namespace corral::bench
