#include "ensemble/storage/database.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "ensemble/storage/checksum.h"
#include "ensemble/storage/incremental_snapshot.h"
#include "ensemble/storage/integrity_check.h"
#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/wal_checkpointer.h"
#include "ensemble/txn/txn_codec.h"

namespace corral::storage {

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v, bool blob) {
    if (blob)
      sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    else
      sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  /// Binds a blob without copying it: `v` must stay as it is until the statement is reset.
  Statement& bind_unowned(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t int_at(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  /// The column's bytes, valid until the next step() or reset().
  std::string_view view_at(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n))
             : std::string_view();
  }
  std::string bytes_at(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS txn_log (
  zxid INTEGER PRIMARY KEY,      -- epoch << 32 | counter
  type INTEGER NOT NULL,         -- ZooKeeper opcode of the txn (14 multi, -10 createSession, ...)
  session_id INTEGER NOT NULL,
  record BLOB NOT NULL           -- corral.storage.pb.Txn
);
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  start_zxid INTEGER NOT NULL,   -- every txn up to here is in the snapshot
  end_zxid INTEGER,              -- last txn applied when it finished (fuzzy range end)
  node_count INTEGER,
  complete INTEGER NOT NULL DEFAULT 0,
  -- The sum of its rows' snapshot_row_checksum, in the column of its kind: the FNV-1a one for
  -- snapshots of an older Corral (both NULL: older still). A Corral that knows only the first
  -- loads a newer snapshot unchecked rather than taking it for damaged.
  checksum INTEGER,
  xxh3_checksum INTEGER
);
-- Runs of a snapshot's nodes in preorder (corral.storage.pb.SnapshotChunk, snapshot_chunk.h),
-- each stored once however many snapshots hold it: a run whose nodes did not change since the
-- last snapshot is not written again (snapshot_chunk_refs lists a snapshot's runs).
CREATE TABLE IF NOT EXISTS chunk_store (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a stale ref cannot reach a new chunk
  digest BLOB NOT NULL,          -- XXH3-128 of nodes as written (not unique: a collision)
  nodes BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunk_store_by_digest ON chunk_store (digest);
CREATE TABLE IF NOT EXISTS snapshot_chunk_refs (
  snapshot_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,          -- preorder: a parent comes before its children
  chunk_id INTEGER NOT NULL,     -- chunk_store.id
  PRIMARY KEY (snapshot_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS snapshot_chunk_refs_by_chunk ON snapshot_chunk_refs (chunk_id);
-- A snapshot's chunks, each its own row: snapshots of a Corral from before chunk_store, read
-- and removed, no longer written.
CREATE TABLE IF NOT EXISTS snapshot_chunks (
  snapshot_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  nodes BLOB NOT NULL,
  PRIMARY KEY (snapshot_id, seq)
);
-- A node a row: snapshots written by a Corral from before chunks, read and removed, no
-- longer written.
CREATE TABLE IF NOT EXISTS snapshot_nodes (
  snapshot_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  path TEXT NOT NULL,
  record BLOB NOT NULL,          -- corral.storage.pb.Node
  PRIMARY KEY (snapshot_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshot_sessions (
  snapshot_id INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  passwd BLOB NOT NULL,
  PRIMARY KEY (snapshot_id, session_id)
);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,          -- acceptedEpoch, currentEpoch, storage_format, abstaining,
                                 -- log_starts_after
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quorum_config (
  slot TEXT PRIMARY KEY CHECK (slot IN ('active', 'next')),  -- in force / proposed, pending
  version INTEGER NOT NULL,      -- the zxid of the reconfig txn that made it
  config TEXT NOT NULL           -- as /zookeeper/config shows it: server.N=... lines, version=
);
)sql";

const char* slot_name(ConfigSlot slot) { return slot == ConfigSlot::kActive ? "active" : "next"; }

}  // namespace

/// insert_chunks' statements, prepared once for all of a run's chunks.
struct Database::ChunkStatements {
  Statement stored;  ///< the rows of a digest
  Statement store;   ///< a new row
  Statement heal;    ///< a damaged row's bytes written back
  Statement ref;     ///< a snapshot's ref to a row
};

std::string zxid_text(int64_t zxid) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(zxid));
  return buf;
}

Database::Database(const std::string& path, bool force_sync, IntegrityCheck check) : path_(path) {
  // A constructor that throws runs no destructor: the handle is closed here instead.
  try {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK)
      fail("cannot open");
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec(force_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
    if (check == IntegrityCheck::kAtOpen)
      if (std::string problem = page_check_problem(db_, PageCheck::kQuick); !problem.empty())
        throw StorageError(path_ + ": " + problem);
    exec(kSchema);
    check_format();
    // A database from before snapshot checksums gets the column; its snapshots keep NULL.
    if (!Statement(db_, "SELECT checksum FROM snapshots LIMIT 0").ok())
      exec("ALTER TABLE snapshots ADD COLUMN checksum INTEGER");
    // One from before XXH3 checksums gets their column.
    if (!Statement(db_, "SELECT xxh3_checksum FROM snapshots LIMIT 0").ok())
      exec("ALTER TABLE snapshots ADD COLUMN xxh3_checksum INTEGER");
    // A database that holds nothing recovers to zxid 0, so what it logs next starts history
    // (a truncation that dropped the log recorded its point, for the DIFF of its own sync);
    // one from an older Corral that holds some may have been purged, and stays without the key.
    // A read that fails here (damage) leaves the key: the integrity check, at open or the
    // caller's beside recovery, names the damage better than this read would.
    try {
      if (log_starts_after() != 0 && holds_nothing()) set_meta(kLogStartKey, 0);
    } catch (const StorageError&) {
    }
    // Without sync a checkpoint leaves its pages dirty, which cannot be dropped: SQLite's own
    // checkpoints then do as well. Closed after the connection (~Database).
    if (force_sync) checkpointer_ = std::make_unique<WalCheckpointer>(db_, path_);
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Database::Database(const std::string& path, ReaderTag) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    StorageError error(path_ + ": cannot open to read: " + sqlite3_errmsg(db_));
    sqlite3_close(db_);
    throw error;
  }
  sqlite3_busy_timeout(db_, 5000);
}

std::unique_ptr<Database> Database::open_reader(const std::string& path) {
  return std::unique_ptr<Database>(new Database(path, ReaderTag{}));
}

Database::~Database() {
  append_.reset();  // a statement not finalized keeps the connection open
  sqlite3_close(db_);
  checkpointer_.reset();  // its descriptor of the file, once the connection's locks are gone
}

void Database::fail(const std::string& what) const {
  throw StorageError(path_ + ": " + what + (db_ ? std::string(": ") + sqlite3_errmsg(db_) : ""));
}

void Database::rollback_and_fail(const std::string& what) {
  // SQLite's message first: the rollback replaces it.
  StorageError error(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  throw error;
}

void Database::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StorageError(path_ + ": " + msg);
  }
}

void Database::append(const std::vector<tree::SharedTxn>& txns) {
  std::vector<const tree::Txn*> each;
  each.reserve(txns.size());
  for (const auto& t : txns) each.push_back(t.get());
  append_all(each);
}

void Database::append(const std::vector<tree::Txn>& txns) {
  std::vector<const tree::Txn*> each;
  each.reserve(txns.size());
  for (const auto& t : txns) each.push_back(&t);
  append_all(each);
}

namespace {

// Rows a batch's INSERT takes at once: one statement for many rows keeps SQLite's cursor at the
// log's end between them, where a statement per row seeks it again each time.
constexpr size_t kRowsPerInsert = 32;

std::string insert_sql(size_t rows) {
  std::string sql = "INSERT INTO txn_log (zxid, type, session_id, record) VALUES (?, ?, ?, ?)";
  for (size_t i = 1; i < rows; ++i) sql += ", (?, ?, ?, ?)";
  return sql;
}

}  // namespace

struct Database::AppendStatements {
  explicit AppendStatements(sqlite3* db)
      : db(db), begin(db, "BEGIN IMMEDIATE"), commit(db, "COMMIT") {}
  /// The INSERT of `rows` rows (1 to kRowsPerInsert), prepared when first needed; null when
  /// it cannot be.
  Statement* insert(size_t rows) {
    auto& slot = inserts[rows - 1];
    if (!slot) slot = std::make_unique<Statement>(db, insert_sql(rows).c_str());
    if (slot->ok()) return slot.get();
    slot.reset();  // prepared again next time (finalizing null keeps SQLite's message)
    return nullptr;
  }
  sqlite3* db;
  Statement begin;
  Statement commit;
  std::array<std::unique_ptr<Statement>, kRowsPerInsert> inserts;
};

void Database::append_all(const std::vector<const tree::Txn*>& txns) {
  // Prepared once: every group commit runs them, and preparing (sqlite3_exec prepares each
  // time) took as long as the inserts of a small batch.
  if (!append_) {
    auto prepared = std::make_unique<AppendStatements>(db_);
    if (!prepared->begin.ok() || !prepared->commit.ok())
      fail("cannot prepare the txn log's append");
    append_ = std::move(prepared);
  }
  AppendStatements& s = *append_;
  int rc = s.begin.step();
  s.begin.reset();
  if (rc != SQLITE_DONE) fail("cannot begin an append");
  std::vector<std::string> records(std::min(txns.size(), kRowsPerInsert));
  // Inserts txns[at .. at + rows) with one statement; SQLITE_DONE when it did.
  auto insert_rows = [&](size_t at, size_t rows) {
    Statement* insert = s.insert(rows);
    if (!insert) rollback_and_fail("cannot prepare the txn log's append");
    for (size_t i = 0; i < rows; ++i) {
      const tree::Txn& txn = *txns[at + i];
      const int col = static_cast<int>(4 * i);
      // Encoded once already (Txn::record), or here; bound without a copy: kept until the step.
      const std::string& record = txn::record_of(txn, records[i]);
      insert->bind(col + 1, txn.zxid).bind(col + 2, static_cast<int64_t>(txn.type));
      insert->bind(col + 3, txn.session_id).bind_unowned(col + 4, record);
    }
    int result = insert->step();
    insert->reset();  // the kept statement starts clean at the next append, failed or not
    return result;
  };
  for (size_t at = 0; at < txns.size();) {
    const size_t rows = std::min(txns.size() - at, kRowsPerInsert);
    if (insert_rows(at, rows) != SQLITE_DONE) {
      // A failed statement undid its own rows; while the transaction stands (a constraint, not
      // an I/O error), the rows go again one by one to name the one that fails.
      if (rows > 1 && sqlite3_get_autocommit(db_))  // the whole transaction was rolled back
        rollback_and_fail("cannot append zxids " + zxid_text(txns[at]->zxid) + " to " +
                          zxid_text(txns[at + rows - 1]->zxid));
      for (size_t i = at; i < at + rows; ++i)
        if (rows == 1 || insert_rows(i, 1) != SQLITE_DONE)
          rollback_and_fail("cannot append zxid " + zxid_text(txns[i]->zxid));
    }
    at += rows;
  }
  rc = s.commit.step();
  s.commit.reset();
  if (rc != SQLITE_DONE) rollback_and_fail("cannot commit an append");
}

void Database::read_log(int64_t after, const std::function<void(tree::Txn)>& each) const {
  Statement q(db_, "SELECT zxid, record FROM txn_log WHERE zxid > ? ORDER BY zxid");
  q.bind(1, after);
  read_txns(q, each);
}

void Database::read_txns(Statement& rows, const std::function<void(tree::Txn)>& each,
                         size_t max_bytes) const {
  int rc;
  size_t bytes = 0;
  while ((rc = rows.step()) == SQLITE_ROW) {
    const int64_t zxid = rows.int_at(0);
    std::string record = rows.bytes_at(1);
    if ((bytes += record.size()) > max_bytes)
      throw StorageError(path_ + ": the txns to read pass " + std::to_string(max_bytes) +
                         " bytes at " + zxid_text(zxid));
    tree::Txn txn;
    try {
      txn = txn::decode_txn(record);
    } catch (const txn::DecodeError&) {
      fail("txn_log row for zxid " + zxid_text(zxid) + " does not decode");
    }
    if (txn.zxid != zxid) fail("txn_log row " + zxid_text(zxid) + " holds another zxid");
    txn.record = std::move(record);  // a DIFF sends it as it is, with no encoding again
    each(std::move(txn));
  }
  if (rc != SQLITE_DONE) fail("cannot read the txn log");
}

std::optional<int64_t> Database::log_floor(int64_t zxid) const {
  Statement q(db_, "SELECT MAX(zxid) FROM txn_log WHERE zxid <= ?");
  q.bind(1, zxid);
  if (q.step() != SQLITE_ROW) fail("cannot read the txn log");
  if (q.is_null(0)) return std::nullopt;
  return q.int_at(0);
}

void Database::read_log_range(int64_t after, int64_t upto, size_t max_bytes,
                              const std::function<void(tree::Txn)>& each) const {
  exec("BEGIN");  // one snapshot of the file for the check and the rows
  try {
    Statement there(db_, "SELECT 1 FROM txn_log WHERE zxid = ?");
    there.bind(1, after);
    const int rc = there.step();
    if (rc == SQLITE_DONE)
      throw StorageError(path_ + ": the txn log no longer holds " + zxid_text(after));
    if (rc != SQLITE_ROW) fail("cannot read the txn log");
    Statement q(db_, "SELECT zxid, record FROM txn_log WHERE zxid > ? AND zxid <= ? ORDER BY zxid");
    q.bind(1, after).bind(2, upto);
    read_txns(q, each, max_bytes);
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  exec("COMMIT");
}

void Database::truncate_after(int64_t zxid) {
  exec("BEGIN IMMEDIATE");
  {
    Statement q(db_, "DELETE FROM txn_log WHERE zxid > ?");
    q.bind(1, zxid);
    if (q.step() != SQLITE_DONE) rollback_and_fail("cannot truncate the log");
  }
  // A snapshot holding effects of a dropped txn (any whose fuzzy range ends after `zxid`)
  // would bring them back at the next start. One still being written is of the state this
  // truncation replaces: it goes too (its writer's later rows are refused, see
  // add_to_snapshot). ZooKeeper 3.8's FileTxnSnapLog.truncateLog leaves its snapshots.
  remove_snapshots("complete = 0 OR start_zxid > ?1 OR end_zxid > ?1", zxid,
                   "cannot drop snapshots after the truncation");
  {
    // A pending reconfig past the cut was proposed in the history being dropped.
    Statement q(db_, "DELETE FROM quorum_config WHERE slot = 'next' AND version > ?");
    q.bind(1, zxid);
    if (q.step() != SQLITE_DONE) rollback_and_fail("cannot drop the next quorum config");
  }
  drop_log_without_a_start(zxid);
  exec("COMMIT");
}

// With no snapshot left, the log rebuilds the state only if it starts at the beginning of
// history; after a purge it does not and recovery would refuse it (or, for a log that starts
// at an epoch's first txn, rebuild a state without the epochs before), so a truncation into
// the oldest snapshot's range would leave a server that cannot start. Then the whole log goes:
// the server holds nothing and asks its leader for a SNAP.
void Database::drop_log_without_a_start(int64_t zxid) {
  Statement snapshots(db_, "SELECT COUNT(*) FROM snapshots");
  if (snapshots.step() != SQLITE_ROW) rollback_and_fail("cannot count snapshots");
  if (snapshots.int_at(0) > 0) return;
  Statement first(db_, "SELECT COALESCE(MIN(zxid), 0) FROM txn_log");
  if (first.step() != SQLITE_ROW) rollback_and_fail("cannot read the log's first zxid");
  const int64_t first_zxid = first.int_at(0);
  // History begins at an epoch's first txn; a log that starts at one may still have been
  // purged (the key says so; an older Corral's database does not have it).
  std::optional<int64_t> start;
  try {
    start = log_starts_after();
  } catch (const StorageError&) {
    rollback_and_fail("cannot read where the txn log starts");
  }
  const bool has_its_start = (first_zxid & 0xffffffff) == 1 && (!start || *start == 0);
  if (first_zxid != 0 && has_its_start) return;
  Statement all(db_, "DELETE FROM txn_log");
  if (all.step() != SQLITE_DONE) rollback_and_fail("cannot drop a log without its start");
  // What the server logs next (a TRUNC's DIFF comes in the same sync) follows `zxid`, and the
  // txns up to it are gone; a TRUNC to 0 starts history anew.
  set_log_start(zxid);
}

bool Database::holds_nothing() const {
  Statement q(db_,
              "SELECT NOT EXISTS (SELECT 1 FROM txn_log) AND NOT EXISTS (SELECT 1 FROM snapshots)");
  if (q.step() != SQLITE_ROW) fail("cannot read the txn log and the snapshots");
  return q.int_at(0) != 0;
}

std::optional<int64_t> Database::log_starts_after() const {
  Statement q(db_, "SELECT value FROM meta WHERE key = ?");
  q.bind(1, kLogStartKey, false);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return q.int_at(0);
  if (rc != SQLITE_DONE) fail("cannot read meta " + std::string(kLogStartKey));
  return std::nullopt;
}

void Database::set_log_start(int64_t zxid) {
  Statement q(db_,
              "INSERT INTO meta (key, value) VALUES (?, ?) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  q.bind(1, kLogStartKey, false).bind(2, zxid);
  if (q.step() != SQLITE_DONE) rollback_and_fail("cannot record where the txn log starts");
}

std::vector<tree::Txn> Database::recent_txns(size_t n, size_t max_bytes) const {
  // Everything after the newest row left out (the (n+1)-th newest, or the first whose record
  // passes max_bytes), or the whole log when none is: the txns read keep their bytes, so the
  // bound holds before any is read.
  Statement q(db_, "SELECT zxid, length(record) FROM txn_log ORDER BY zxid DESC");
  int64_t after = 0;
  size_t count = 0;
  size_t bytes = 0;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    bytes += static_cast<size_t>(q.int_at(1));
    if (count == n || bytes > max_bytes) {
      after = q.int_at(0);
      break;
    }
    ++count;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("cannot read the txn log");
  std::vector<tree::Txn> out;
  read_log(after, [&](tree::Txn t) { out.push_back(std::move(t)); });
  return out;
}

int64_t Database::stage_snapshot(int64_t zxid, const std::vector<SessionRow>& sessions,
                                 const std::vector<SnapshotRow>& nodes) {
  int64_t id = begin_snapshot(zxid, sessions);
  add_snapshot_nodes(id, nodes);
  return id;
}

void Database::install_snapshot(int64_t snapshot_id, int64_t node_count) {
  exec("BEGIN IMMEDIATE");
  // A last-seen config whose txn the log held goes with it.
  for (const char* sql : {"DELETE FROM txn_log", "DELETE FROM quorum_config WHERE slot = 'next'"})
    if (Statement q(db_, sql); q.step() != SQLITE_DONE)
      rollback_and_fail("cannot clear the database for a snapshot");
  remove_snapshots("id != ?1", snapshot_id, "cannot clear the database for a snapshot");
  {
    Statement start(db_, "SELECT start_zxid FROM snapshots WHERE id = ?");
    start.bind(1, snapshot_id);
    if (start.step() != SQLITE_ROW)
      rollback_and_fail("snapshot " + std::to_string(snapshot_id) + " to install is not there");
    set_log_start(start.int_at(0));
  }
  Statement done(db_,
                 "UPDATE snapshots SET complete = 1, end_zxid = start_zxid, node_count = ? "
                 "WHERE id = ?");
  done.bind(1, node_count).bind(2, snapshot_id);
  if (done.step() != SQLITE_DONE || sqlite3_changes(db_) != 1)
    rollback_and_fail("snapshot " + std::to_string(snapshot_id) + " to install is not there");
  exec("COMMIT");
}

void Database::drop_snapshot(int64_t snapshot_id) {
  exec("BEGIN IMMEDIATE");
  remove_snapshots("id = ?1", snapshot_id, "cannot drop a snapshot");
  exec("COMMIT");
}

int64_t Database::last_logged_zxid() const {
  Statement q(db_, "SELECT COALESCE(MAX(zxid), 0) FROM txn_log");
  return q.step() == SQLITE_ROW ? q.int_at(0) : 0;
}

int64_t Database::first_logged_zxid() const {
  Statement q(db_, "SELECT COALESCE(MIN(zxid), 0) FROM txn_log");
  return q.step() == SQLITE_ROW ? q.int_at(0) : 0;
}

void Database::insert_snapshot_sessions(int64_t snapshot_id,
                                        const std::vector<SessionRow>& sessions) {
  Statement s(db_,
              "INSERT INTO snapshot_sessions (snapshot_id, session_id, timeout_ms, passwd) "
              "VALUES (?, ?, ?, ?)");
  for (const auto& row : sessions) {
    s.bind(1, snapshot_id).bind(2, row.id).bind(3, row.timeout_ms).bind(4, row.passwd, true);
    if (s.step() != SQLITE_DONE) rollback_and_fail("cannot store a session in the snapshot");
    s.reset();
  }
}

int64_t Database::begin_snapshot(int64_t start_zxid, const std::vector<SessionRow>& sessions) {
  exec("BEGIN IMMEDIATE");
  static_assert(kRowChecksum == RowChecksum::kXxh3, "the column begun is xxh3_checksum");
  Statement q(db_, "INSERT INTO snapshots (start_zxid, xxh3_checksum) VALUES (?, 0)");
  q.bind(1, start_zxid);
  if (q.step() != SQLITE_DONE) rollback_and_fail("cannot start a snapshot");
  int64_t id = sqlite3_last_insert_rowid(db_);
  insert_snapshot_sessions(id, sessions);
  exec("COMMIT");
  return id;
}

void Database::check_format() {
  const int64_t format = meta(kFormatKey, 0);
  if (format > kStorageFormat)
    throw StorageError(path_ + ": written by a newer Corral (storage format " +
                       std::to_string(format) + "; this one reads up to " +
                       std::to_string(kStorageFormat) + ")");
  if (format < kStorageFormat) set_meta(kFormatKey, kStorageFormat);
}

void Database::add_snapshot_nodes(int64_t snapshot_id, const std::vector<SnapshotRow>& rows) {
  // A run at a time (snapshot_chunk.h), as the Snapshotter cuts them, so that a learner's later
  // snapshots share the chunks of the one its leader sent; and a learner's SNAP, a whole tree
  // in one call, is not held encoded beside its rows.
  add_to_snapshot(snapshot_id, [&](int64_t& seq) {
    SnapshotChunks run;
    for (const auto& row : rows) {
      run.add(row.path, row.record);
      if (run.run_complete()) {
        insert_chunks(snapshot_id, seq, run);
        run = SnapshotChunks();
      }
    }
    if (run.node_count() > 0) insert_chunks(snapshot_id, seq, run);
  });
}

std::vector<int64_t> Database::add_snapshot_chunks(int64_t snapshot_id,
                                                   const SnapshotChunks& chunks) {
  std::vector<int64_t> ids;
  add_to_snapshot(snapshot_id,
                  [&](int64_t& seq) { insert_chunks(snapshot_id, seq, chunks, &ids); });
  return ids;
}

void Database::add_snapshot_steps(int64_t snapshot_id,
                                  const std::vector<std::shared_ptr<SnapshotStep>>& steps) {
  // The ids reach the steps only once committed: a later step's failure rolls back the rows
  // of the earlier ones, whose ids may be given out again.
  std::vector<std::vector<int64_t>> ids(steps.size());
  add_to_snapshot(snapshot_id, [&](int64_t& seq) {
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i]->reuses())
        insert_refs(snapshot_id, seq, steps[i]->reused_ids, steps[i]->reused_checksum);
      else
        insert_chunks(snapshot_id, seq, steps[i]->walked, &ids[i]);
    }
  });
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i]->walked_ids) *steps[i]->walked_ids = std::move(ids[i]);
}

void Database::insert_refs(int64_t snapshot_id, int64_t& seq, const std::vector<int64_t>& chunk_ids,
                           uint64_t checksum) {
  // Through a SELECT of the chunk: a ref to a chunk that is gone is refused, not written.
  Statement ref(db_,
                "INSERT INTO snapshot_chunk_refs (snapshot_id, seq, chunk_id) "
                "SELECT ?, ?, id FROM chunk_store WHERE id = ?");
  for (int64_t id : chunk_ids) {
    ref.bind(1, snapshot_id).bind(2, ++seq).bind(3, id);
    if (ref.step() != SQLITE_DONE || sqlite3_changes(db_) != 1)
      rollback_and_fail("chunk " + std::to_string(id) + " of the last snapshot is gone");
    ref.reset();
  }
  add_to_checksum(snapshot_id, checksum);
}

void Database::add_to_snapshot(int64_t snapshot_id,
                               const std::function<void(int64_t& seq)>& write) {
  Statement alive(db_, "SELECT 1 FROM snapshots WHERE id = ?");
  alive.bind(1, snapshot_id);
  // Dropped meanwhile by a truncation or a SNAP: its rows would be orphans nobody removes.
  if (alive.step() != SQLITE_ROW) return;
  Statement next(db_,
                 "SELECT COALESCE(MAX(seq), 0) FROM snapshot_chunk_refs WHERE snapshot_id = ?");
  next.bind(1, snapshot_id);
  int64_t seq = next.step() == SQLITE_ROW ? next.int_at(0) : 0;
  exec("BEGIN IMMEDIATE");
  try {
    write(seq);
  } catch (const StorageError&) {
    throw;  // rolled back already
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  exec("COMMIT");
}

int64_t Database::store_chunk(ChunkStatements& q, const std::string& chunk,
                              const std::string& what) {
  const ChunkDigest digest = chunk_digest(chunk);
  const std::string_view digest_bytes(reinterpret_cast<const char*>(digest.data()), digest.size());
  // Stored before and held by an older snapshot: taken again only if its bytes still are the
  // run's (read back, which costs less than writing them). A row whose bytes no longer match
  // its digest was damaged since: it gets back the bytes it was stored with, which mends the
  // older snapshots that hold it too. One that matches its digest but not the run is another
  // run with the same digest (a collision): left alone.
  q.stored.bind_unowned(1, digest_bytes);
  int64_t found = 0;
  int rc;
  while (found == 0 && (rc = q.stored.step()) == SQLITE_ROW) {
    if (q.stored.view_at(1) == chunk) {
      found = q.stored.int_at(0);
    } else if (chunk_digest(q.stored.view_at(1)) != digest) {
      found = q.stored.int_at(0);
      q.heal.bind_unowned(1, chunk).bind(2, found);
      if (q.heal.step() != SQLITE_DONE) rollback_and_fail(what);
      q.heal.reset();
    }
  }
  q.stored.reset();
  if (found != 0) return found;
  if (rc != SQLITE_DONE) rollback_and_fail(what);
  q.store.bind_unowned(1, digest_bytes).bind_unowned(2, chunk);
  if (q.store.step() != SQLITE_DONE) rollback_and_fail(what);
  q.store.reset();
  return sqlite3_last_insert_rowid(db_);
}

void Database::insert_chunks(int64_t snapshot_id, int64_t& seq, const SnapshotChunks& chunks,
                             std::vector<int64_t>* chunk_ids) {
  ChunkStatements q{
      Statement(db_, "SELECT id, nodes FROM chunk_store WHERE digest = ?"),
      Statement(db_, "INSERT INTO chunk_store (digest, nodes) VALUES (?, ?)"),
      Statement(db_, "UPDATE chunk_store SET nodes = ? WHERE id = ?"),
      Statement(db_,
                "INSERT INTO snapshot_chunk_refs (snapshot_id, seq, chunk_id) VALUES (?, ?, ?)")};
  for (size_t i = 0; i < chunks.chunks().size(); ++i) {
    const std::string what = "cannot write the snapshot's nodes from " + chunks.first_path(i);
    const int64_t chunk_id = store_chunk(q, chunks.chunks()[i], what);
    q.ref.bind(1, snapshot_id).bind(2, ++seq).bind(3, chunk_id);
    if (q.ref.step() != SQLITE_DONE) rollback_and_fail(what);
    if (chunk_ids) chunk_ids->push_back(chunk_id);
    q.ref.reset();
  }
  add_to_checksum(snapshot_id, chunks.checksum());
}

void Database::add_to_checksum(int64_t snapshot_id, uint64_t rows_checksum) {
  // Read and written back in C++: SQLite's integer addition turns to floating point on
  // overflow, and the sum is meant to wrap.
  Statement old(db_,
                "SELECT xxh3_checksum FROM snapshots WHERE id = ? AND xxh3_checksum IS NOT NULL");
  old.bind(1, snapshot_id);
  if (old.step() != SQLITE_ROW) return;
  Statement update(db_, "UPDATE snapshots SET xxh3_checksum = ? WHERE id = ?");
  update.bind(1, static_cast<int64_t>(static_cast<uint64_t>(old.int_at(0)) + rows_checksum));
  update.bind(2, snapshot_id);
  if (update.step() != SQLITE_DONE) rollback_and_fail("cannot update a snapshot's checksum");
}

bool Database::finish_snapshot(int64_t snapshot_id, int64_t end_zxid, int64_t node_count,
                               int retain) {
  exec("BEGIN IMMEDIATE");
  {
    Statement q(db_,
                "UPDATE snapshots SET complete = 1, end_zxid = ?, node_count = ? WHERE id = ?");
    q.bind(1, end_zxid).bind(2, node_count).bind(3, snapshot_id);
    if (q.step() != SQLITE_DONE) rollback_and_fail("cannot finish snapshot");
  }
  const bool more = purge_in_transaction(retain, kLogPurgeBatch);
  exec("COMMIT");
  return more;
}

bool Database::purge_log_batch() {
  exec("BEGIN IMMEDIATE");
  auto all = snapshots();
  const bool more = !all.empty() && purge_log_upto(all.back().start_zxid, kLogPurgeBatch);
  exec("COMMIT");
  return more;
}

std::vector<SnapshotInfo> Database::snapshots() const {
  Statement q(db_,
              "SELECT id, start_zxid, end_zxid, node_count, checksum, xxh3_checksum "
              "FROM snapshots WHERE complete = 1 ORDER BY start_zxid DESC, id DESC");
  std::vector<SnapshotInfo> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    SnapshotInfo& info = out.emplace_back();
    info.id = q.int_at(0);
    info.start_zxid = q.int_at(1);
    info.end_zxid = q.int_at(2);
    info.node_count = q.int_at(3);
    info.complete = true;
    if (!q.is_null(5)) {
      info.checksum = static_cast<uint64_t>(q.int_at(5));
      info.checksum_kind = RowChecksum::kXxh3;
    } else if (!q.is_null(4)) {
      info.checksum = static_cast<uint64_t>(q.int_at(4));
      info.checksum_kind = RowChecksum::kFnv1a;
    }
  }
  // A list cut short would make a purge keep the wrong snapshots' log.
  if (rc != SQLITE_DONE) fail("cannot read the snapshots");
  return out;
}

void Database::read_snapshot(int64_t snapshot_id,
                             const std::function<void(SnapshotRow)>& each) const {
  read_snapshot_entries(snapshot_id, [&](std::string_view path, std::string_view record) {
    each(SnapshotRow{std::string(path), std::string(record)});
  });
}

void Database::read_snapshot_entries(
    int64_t snapshot_id,
    const std::function<void(std::string_view path, std::string_view record)>& each) const {
  const std::string which = "snapshot " + std::to_string(snapshot_id);
  // A snapshot is stored one way: its chunk refs, or (older Corral) chunks of its own, or
  // (older still) a node a row.
  for (const char* sql : {"SELECT r.seq, s.nodes, s.id IS NULL FROM snapshot_chunk_refs r "
                          "LEFT JOIN chunk_store s ON s.id = r.chunk_id WHERE r.snapshot_id = ? "
                          "ORDER BY r.seq",
                          "SELECT seq, nodes, 0 FROM snapshot_chunks WHERE snapshot_id = ? "
                          "ORDER BY seq"}) {
    Statement chunks(db_, sql);
    chunks.bind(1, snapshot_id);
    int rc;
    while ((rc = chunks.step()) == SQLITE_ROW) {
      if (chunks.int_at(2) || !for_each_snapshot_entry(chunks.view_at(1), each))
        throw StorageError(path_ + ": " + which + ": chunk " + std::to_string(chunks.int_at(0)) +
                           (chunks.int_at(2) ? " is missing" : " does not decode"));
    }
    if (rc != SQLITE_DONE) fail("cannot read " + which);
  }
  // Written by a Corral from before chunks: a node a row.
  Statement q(db_, "SELECT path, record FROM snapshot_nodes WHERE snapshot_id = ? ORDER BY seq");
  q.bind(1, snapshot_id);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) each(q.view_at(0), q.view_at(1));
  if (rc != SQLITE_DONE) fail("cannot read " + which);
}

int64_t Database::snapshot_stored_bytes(int64_t snapshot_id) const {
  // length() of a blob reads no overflow page: this costs a page per chunk, not its bytes.
  Statement q(db_,
              "SELECT (SELECT COALESCE(SUM(length(s.nodes)), 0) FROM snapshot_chunk_refs r JOIN "
              "chunk_store s ON s.id = r.chunk_id WHERE r.snapshot_id = ?1) + "
              "(SELECT COALESCE(SUM(length(nodes)), 0) FROM snapshot_chunks WHERE snapshot_id = "
              "?1) + (SELECT COALESCE(SUM(length(path) + length(record)), 0) FROM snapshot_nodes "
              "WHERE snapshot_id = ?1)");
  q.bind(1, snapshot_id);
  if (q.step() != SQLITE_ROW) fail("cannot size snapshot " + std::to_string(snapshot_id));
  return q.int_at(0);
}

std::vector<SessionRow> Database::snapshot_sessions(int64_t snapshot_id) const {
  Statement q(db_,
              "SELECT session_id, timeout_ms, passwd FROM snapshot_sessions WHERE snapshot_id = ?");
  q.bind(1, snapshot_id);
  std::vector<SessionRow> out;
  while (q.step() == SQLITE_ROW)
    out.push_back({q.int_at(0), static_cast<int32_t>(q.int_at(1)), q.bytes_at(2)});
  return out;
}

void Database::drop_incomplete_snapshots() {
  exec("BEGIN IMMEDIATE");
  remove_snapshots("complete = 0", 0, "cannot drop incomplete snapshots");
  exec("COMMIT");
}

void Database::remove_snapshots(const char* which, int64_t param, const std::string& what) {
  // What is stored with them first: the condition reads their rows. A failed DELETE leaves the
  // transaction open, and committing the others would keep a part: it rolls back instead.
  const std::string removed = std::string("SELECT id FROM snapshots WHERE ") + which;
  // The chunks they hold that no other snapshot holds (found through the index by chunk).
  const std::string unheld =
      "DELETE FROM chunk_store WHERE id IN (SELECT chunk_id FROM snapshot_chunk_refs WHERE "
      "snapshot_id IN (" +
      removed +
      ")) AND NOT EXISTS (SELECT 1 FROM snapshot_chunk_refs r "
      "WHERE r.chunk_id = chunk_store.id AND r.snapshot_id NOT IN (" +
      removed + "))";
  std::vector<std::string> deletes = {unheld};
  for (const char* table :
       {"snapshot_chunk_refs", "snapshot_chunks", "snapshot_nodes", "snapshot_sessions"})
    deletes.push_back(std::string("DELETE FROM ") + table + " WHERE snapshot_id IN (" + removed +
                      ")");
  deletes.push_back(std::string("DELETE FROM snapshots WHERE ") + which);
  for (const std::string& sql : deletes) {
    Statement q(db_, sql.c_str());
    q.bind(1, param);
    if (q.step() != SQLITE_DONE) rollback_and_fail(what);
  }
}

void Database::purge(int retain) {
  exec("BEGIN IMMEDIATE");
  purge_in_transaction(retain);
  exec("COMMIT");
}

bool Database::purge_in_transaction(int retain, int64_t max_log_txns) {
  auto all = snapshots();
  if (static_cast<int>(all.size()) <= retain || retain < 1) return false;
  const SnapshotInfo& oldest_kept = all[static_cast<size_t>(retain) - 1];
  for (size_t i = static_cast<size_t>(retain); i < all.size(); ++i)
    remove_snapshots("id = ?1", all[i].id, "cannot purge snapshot " + std::to_string(all[i].id));
  // Recovery from the oldest kept snapshot replays the log after its start.
  return purge_log_upto(oldest_kept.start_zxid, max_log_txns);
}

bool Database::purge_log_upto(int64_t upto, int64_t max_txns) {
  // The bound first, then one range of the table's rowid: a DELETE with both bounds in its
  // WHERE walked every txn up to `upto` at each batch.
  int64_t bound = upto;
  {
    Statement q(db_, "SELECT zxid FROM txn_log WHERE zxid <= ? ORDER BY zxid LIMIT 1 OFFSET ?");
    q.bind(1, upto).bind(2, std::max<int64_t>(max_txns - 1, 0));
    const int rc = q.step();
    if (rc == SQLITE_ROW)
      bound = q.int_at(0);
    else if (rc != SQLITE_DONE)
      rollback_and_fail("cannot read the txn log");
  }
  Statement q(db_, "DELETE FROM txn_log WHERE zxid <= ?");
  q.bind(1, bound);
  if (q.step() != SQLITE_DONE) rollback_and_fail("cannot purge the txn log");
  // Purge bounds only rise (each is the oldest kept snapshot's start, or a batch short of it).
  if (sqlite3_changes(db_) > 0) set_log_start(bound);
  // A batch that ended short of `upto` may have left nothing: the next one then finds no row.
  return bound < upto;
}

int64_t Database::meta(const std::string& key, int64_t fallback) const {
  Statement q(db_, "SELECT value FROM meta WHERE key = ?");
  q.bind(1, key, false);
  return q.step() == SQLITE_ROW ? q.int_at(0) : fallback;
}

void Database::set_meta(const std::string& key, int64_t value) {
  Statement q(db_,
              "INSERT INTO meta (key, value) VALUES (?, ?) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  q.bind(1, key, false).bind(2, value);
  if (q.step() != SQLITE_DONE) fail("cannot write meta " + key);
}

std::optional<StoredQuorumConfig> Database::config(ConfigSlot slot) const {
  Statement q(db_, "SELECT version, config FROM quorum_config WHERE slot = ?");
  q.bind(1, slot_name(slot), false);
  int rc = q.step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(std::string("cannot read the ") + slot_name(slot) + " quorum config");
  return StoredQuorumConfig{q.int_at(0), q.bytes_at(1)};
}

void Database::set_config(ConfigSlot slot, int64_t version, const std::string& text) {
  exec("BEGIN IMMEDIATE");
  {
    Statement q(db_,
                "INSERT INTO quorum_config (slot, version, config) VALUES (?, ?, ?) "
                "ON CONFLICT(slot) DO UPDATE SET version = excluded.version, "
                "config = excluded.config");
    q.bind(1, slot_name(slot), false).bind(2, version).bind(3, text, false);
    if (q.step() != SQLITE_DONE)
      rollback_and_fail(std::string("cannot store the ") + slot_name(slot) + " quorum config");
  }
  if (slot == ConfigSlot::kActive) {
    Statement q(db_, "DELETE FROM quorum_config WHERE slot = 'next' AND version <= ?");
    q.bind(1, version);
    if (q.step() != SQLITE_DONE) rollback_and_fail("cannot drop the next quorum config");
  }
  exec("COMMIT");
}

}  // namespace corral::storage
