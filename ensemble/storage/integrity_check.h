// SQLite's quick_check of a server's database, at open or beside recovery. It reads every page
// (about 1 s per GB here), so the server runs it on a connection of its own while it recovers.
#pragma once

#include <string>

struct sqlite3;

namespace corral::storage {

/// SQLite's quick_check of the open database `db`: empty when it passes, else what is wrong on
/// one line: "integrity check failed: <SQLite's error>" or "database is corrupt: <findings>".
std::string quick_check_problem(sqlite3* db);

/// quick_check_problem on a connection of its own to the database file `path`, so it can run
/// on another thread while a Database uses the file; the problem starts with `path`.
std::string quick_check_file(const std::string& path);

}  // namespace corral::storage
