// SQLite's quick_check of a server's database, at open or beside recovery, and its full
// integrity_check for `corral-admin verify`. Each reads every page (about 1 s per GB here), so
// the server runs it on a connection of its own while it recovers.
#pragma once

#include <string>

struct sqlite3;

namespace corral::storage {

/// Which of SQLite's checks: quick_check reads every page; integrity_check also matches each
/// index against its table (slower: `corral-admin verify`).
enum class PageCheck { kQuick, kFull };

/// SQLite's `check` of the open database `db`: empty when it passes, else what is wrong on one
/// line: "integrity check failed: <SQLite's error>" or "database is corrupt: <findings>".
std::string page_check_problem(sqlite3* db, PageCheck check);

/// page_check_problem on a connection of its own to the database file `path`, so it can run
/// on another thread while a Database uses the file; the problem starts with `path`.
std::string page_check_file(const std::string& path, PageCheck check);

}  // namespace corral::storage
