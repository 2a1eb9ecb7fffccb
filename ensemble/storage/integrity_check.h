// SQLite's quick_check of a server's database, at open or beside recovery. It reads the pages it
// checks (about 1 s per GB here), so the server runs it on a connection of its own while it
// recovers.
#pragma once

#include <string>

struct sqlite3;

namespace corral::storage {

/// SQLite's quick_check of the open database `db`: empty when it passes, else what is wrong on
/// one line: "integrity check failed: <SQLite's error>" or "database is corrupt: <findings>".
std::string quick_check_problem(sqlite3* db);

/// The check the server runs beside recovery, on a connection of its own to the database file
/// `path`: SQLite's quick_check of every table recovery reads whole (the txn log, the
/// snapshots' list and sessions, meta, quorum_config), and of snapshot_nodes only when the
/// newest complete snapshot has no checksum (written by an older Corral). A checksummed
/// snapshot's rows are checked against it as recovery loads them (load_snapshot), and older
/// snapshots are not read: with every snapshot kept (autopurge off), a check of the whole file
/// grew with each one (1.65 s against 0.42 s with 7 snapshots of up to 1,000,000 znodes).
/// `corral-admin verify` still checks every page. Empty when it passes, else the problem,
/// starting with `path`.
std::string quick_check_file(const std::string& path);

}  // namespace corral::storage
