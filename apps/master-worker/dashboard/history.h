// The archive of finished tasks: a SQLite database (`history` table, DESIGN.md), kept across
// restarts of the dashboard, with an in-memory index of each archived task's state for the
// summary counts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apps/master-worker/dashboard/task_view.h"

struct sqlite3;

namespace corral::mw {

/// The history database. Thread-safe.
class History {
 public:
  /// Opens (creating if needed) the database at `path`; null with `error` set on failure.
  static std::unique_ptr<History> open(const std::string& path, std::string& error);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  /// Stores `task` (finished) as archived at `archived_ms`, replacing an earlier row of the
  /// same id. False with `error` set on failure.
  bool archive(const TaskView& task, int64_t archived_ms, std::string& error);
  /// The archived task `id`, if any.
  std::optional<TaskView> get(const std::string& id);
  /// True if `id` is archived.
  bool contains(const std::string& id) const;

  /// Rows with the given state (any when empty), newest (highest id) first.
  std::vector<TaskView> list(const std::string& state, int64_t limit, int64_t offset);
  /// How many rows have the given state (any when empty).
  int64_t count(const std::string& state) const;
  /// How many rows with the given state (any when empty) have an id above `id`.
  int64_t count_newer(const std::string& id, const std::string& state);

  /// What the summary needs from the archive.
  struct Totals {
    int64_t done = 0;
    int64_t failed = 0;
    int64_t reassigned = 0;
    int64_t ran_twice = 0;
  };
  /// The counts over every archived task.
  Totals totals() const;

 private:
  struct Entry {
    std::string state;
    int64_t reassignments = 0;
    bool ran_twice = false;
  };

  explicit History(sqlite3* db) : db_(db) {}
  bool load_index(std::string& error);
  void index(const std::string& id, const Entry& entry);

  mutable std::mutex mu_;
  sqlite3* db_;
  std::map<std::string, Entry> index_;
  Totals totals_;
};

}  // namespace corral::mw
