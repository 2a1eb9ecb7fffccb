// What the storage tests share: a temporary directory, raw SQLite access to a database
// file, and comparisons of trees and txns with readable failure messages.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"

namespace corral::storage {

using tree::DataTree;
using tree::Txn;
using tree::TxnOp;

/// A temporary directory, removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "corral-storage-test") {
    std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Runs SQL on the database file with a connection of its own (the test's "sqlite3 CLI").
inline void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << msg;
}

/// The single text value a query returns, or "".
inline std::string raw_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

/// The single integer a query returns.
inline int64_t raw_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  int64_t out = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

/// Appends the rows of an encoded chunk to `out`; false when it does not decode (the rows
/// before the damage appended).
inline bool decode_snapshot_chunk(std::string_view chunk, std::vector<SnapshotRow>& out) {
  return for_each_snapshot_entry(chunk, [&](std::string_view path, std::string_view record) {
    out.push_back({std::string(path), std::string(record)});
  });
}

/// The rows of the stored snapshots whose chunk refs match `where` (SQL on
/// snapshot_chunk_refs' columns), in order of snapshot and preorder, decoded as they are
/// stored: no checksum is checked. A chunk that does not decode fails the test.
inline std::vector<SnapshotRow> raw_snapshot_rows(const std::string& path,
                                                  const std::string& where = "1") {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  std::vector<SnapshotRow> rows;
  std::string sql =
      "SELECT (SELECT nodes FROM chunk_store WHERE id = chunk_id) FROM snapshot_chunk_refs "
      "WHERE " +
      where + " ORDER BY snapshot_id, seq";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
    std::string_view chunk(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
                           static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
    EXPECT_TRUE(decode_snapshot_chunk(chunk, rows)) << "a chunk of " << where;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

/// How many nodes the stored snapshots whose chunk refs match `where` hold.
inline int64_t raw_snapshot_node_count(const std::string& path, const std::string& where = "1") {
  return static_cast<int64_t>(raw_snapshot_rows(path, where).size());
}

/// Rewrites snapshot `snapshot_id`'s stored rows as `edit` changes them (as a damaged file
/// would hold them: its checksum stays as it was), in chunks of its own (other snapshots keep
/// theirs).
inline void raw_edit_snapshot(const std::string& path, int64_t snapshot_id,
                              const std::function<void(std::vector<SnapshotRow>&)>& edit) {
  const std::string id = std::to_string(snapshot_id);
  std::vector<SnapshotRow> rows = raw_snapshot_rows(path, "snapshot_id = " + id);
  edit(rows);
  raw_sql(path, "DELETE FROM snapshot_chunk_refs WHERE snapshot_id = " + id);
  SnapshotChunks chunks;
  for (const auto& row : rows) chunks.add(row.path, row.record);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // Each in a row of its own (other snapshots keep theirs), a ref to it after.
  for (size_t i = 0; i < chunks.chunks().size(); ++i) {
    const std::string& chunk = chunks.chunks()[i];
    const ChunkDigest digest = chunk_digest(chunk);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO chunk_store (digest, nodes) VALUES (?, ?)", -1,
                                 &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(stmt, 1, digest.data(), static_cast<int>(digest.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 2, chunk.data(), static_cast<int>(chunk.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    const int64_t chunk_id = sqlite3_last_insert_rowid(db);
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO snapshot_chunk_refs VALUES (?, ?, ?)", -1, &stmt,
                                 nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, snapshot_id);
    sqlite3_bind_int64(stmt, 2, static_cast<int64_t>(i + 1));
    sqlite3_bind_int64(stmt, 3, chunk_id);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
}

inline std::string describe(const wire::AclList& acl) {
  std::ostringstream s;
  for (const auto& a : acl) s << a.id.scheme << ":" << a.id.id << "=" << a.perms << " ";
  return s.str();
}

inline std::string describe(const wire::Stat& st) {
  std::ostringstream s;
  s << std::hex << "czxid=" << st.czxid << " mzxid=" << st.mzxid << " pzxid=" << st.pzxid
    << std::dec << " ctime=" << st.ctime << " mtime=" << st.mtime << " version=" << st.version
    << " cversion=" << st.cversion << " aversion=" << st.aversion << " owner=" << st.ephemeral_owner
    << " len=" << st.data_length << " children=" << st.num_children;
  return s.str();
}

/// Every observable part of two trees is equal: paths, data, null flags, ACLs, every Stat
/// field, the stored counters, and the indexes of ephemerals, containers and TTL nodes.
inline ::testing::AssertionResult same_tree(const DataTree& want, const DataTree& got,
                                            bool check_last_zxid = true) {
  auto fail = [](const std::string& what) { return ::testing::AssertionFailure() << what; };
  auto want_paths = want.paths();
  auto got_paths = got.paths();
  if (want_paths != got_paths) {
    std::set<std::string> w(want_paths.begin(), want_paths.end());
    std::set<std::string> g(got_paths.begin(), got_paths.end());
    std::ostringstream s;
    s << "paths differ;";
    for (const auto& p : w)
      if (!g.count(p)) s << " missing " << p << ";";
    for (const auto& p : g)
      if (!w.count(p)) s << " extra " << p << ";";
    return fail(s.str());
  }
  for (const auto& p : want_paths) {
    const tree::Node* a = want.find(p);
    const tree::Node* b = got.find(p);
    if (!a || !b) return fail("node vanished: " + p);
    if (a->data != b->data) return fail("data differs at " + p);
    if (a->data_null != b->data_null) return fail("null flag differs at " + p);
    if (*a->acl != *b->acl)
      return fail("ACL differs at " + p + ": want " + describe(*a->acl) + " got " +
                  describe(*b->acl));
    if (!(a->stat() == b->stat()))
      return fail("Stat differs at " + p + ":\n want " + describe(a->stat()) + "\n  got " +
                  describe(b->stat()));
    if (a->cversion != b->cversion || a->ephemeral_owner != b->ephemeral_owner)
      return fail("stored cversion/owner differs at " + p);
    if (a->children != b->children) return fail("children differ at " + p);
  }
  if (want.containers() != got.containers()) return fail("containers() differs");
  if (want.ttl_nodes() != got.ttl_nodes()) return fail("ttl_nodes() differs");
  if (want.ephemeral_counts() != got.ephemeral_counts()) return fail("ephemeral_counts() differs");
  for (const auto& [session, count] : want.ephemeral_counts())
    if (want.ephemerals(session) != got.ephemerals(session))
      return fail("ephemerals(" + std::to_string(session) + ") differs");
  if (want.node_count() != got.node_count()) return fail("node_count() differs");
  if (want.data_bytes() != got.data_bytes())
    return fail("data_bytes() differs: want " + std::to_string(want.data_bytes()) + " got " +
                std::to_string(got.data_bytes()));
  if (check_last_zxid && want.last_zxid() != got.last_zxid())
    return fail("last_zxid() differs: want " + zxid_text(want.last_zxid()) + " got " +
                zxid_text(got.last_zxid()));
  return ::testing::AssertionSuccess();
}

inline void expect_same_txn(const Txn& want, const Txn& got) {
  EXPECT_EQ(want.session_id, got.session_id);
  EXPECT_EQ(want.cxid, got.cxid);
  EXPECT_EQ(want.zxid, got.zxid);
  EXPECT_EQ(want.time_ms, got.time_ms);
  EXPECT_EQ(want.type, got.type);
  EXPECT_EQ(want.session_timeout_ms, got.session_timeout_ms);
  EXPECT_EQ(want.session_passwd, got.session_passwd);
  EXPECT_EQ(want.err, got.err);
  ASSERT_EQ(want.ops.size(), got.ops.size());
  for (size_t i = 0; i < want.ops.size(); ++i) {
    const TxnOp& a = want.ops[i];
    const TxnOp& b = got.ops[i];
    EXPECT_EQ(a.type, b.type) << i;
    EXPECT_EQ(a.path, b.path) << i;
    EXPECT_EQ(a.data, b.data) << i;
    EXPECT_EQ(a.data_null, b.data_null) << i;
    EXPECT_EQ(a.acl, b.acl) << i;
    EXPECT_EQ(a.ephemeral_owner, b.ephemeral_owner) << i;
    EXPECT_EQ(a.version, b.version) << i;
    EXPECT_EQ(a.parent_cversion, b.parent_cversion) << i;
    EXPECT_EQ(a.err, b.err) << i;
  }
}

inline std::vector<Txn> read_all(const Database& db, int64_t after = 0) {
  std::vector<Txn> out;
  db.read_log(after, [&](Txn t) { out.push_back(std::move(t)); });
  return out;
}

inline std::vector<int64_t> zxids_of(const std::vector<Txn>& txns) {
  std::vector<int64_t> out;
  for (const auto& t : txns) out.push_back(t.zxid);
  return out;
}

/// A txn that changes nothing (an error txn) at `zxid`.
inline Txn error_txn(int64_t zxid) {
  Txn t;
  t.zxid = zxid;
  t.type = wire::OpCode::kError;
  t.err = wire::ErrorCode::kNoNode;
  t.session_id = 7;
  return t;
}

inline const wire::AclList kOpenAcl{{wire::perms::kAll, {"world", "anyone"}}};

/// Writes `tree` as a complete snapshot (no changes while walking) with chunks of `chunk` nodes.
inline int64_t write_snapshot(Database& db, const DataTree& tree,
                              const std::vector<SessionRow>& sessions, size_t chunk = 2000,
                              int retain = 0) {
  int64_t id = db.begin_snapshot(tree.last_zxid(), sessions);
  SnapshotWalk walk;
  int64_t count = 0;
  while (!walk.done()) {
    std::vector<SnapshotRow> rows;
    walk.next(tree, chunk, rows);
    count += static_cast<int64_t>(rows.size());
    if (!rows.empty()) db.add_snapshot_nodes(id, rows);
  }
  db.finish_snapshot(id, tree.last_zxid(), count, retain);
  return id;
}

/// Writes a snapshot of `tree` as the server's Snapshotter does: a run of nodes a job.
inline int64_t write_snapshot_in_runs(Database& db, const DataTree& tree, int retain = 0) {
  int64_t id = db.begin_snapshot(tree.last_zxid(), {});
  SnapshotWalk walk;
  int64_t count = 0;
  while (!walk.done()) {
    SnapshotChunks chunks;
    walk.next_run(tree, chunks);
    count += static_cast<int64_t>(chunks.node_count());
    db.add_snapshot_chunks(id, chunks);
  }
  db.finish_snapshot(id, tree.last_zxid(), count, retain);
  return id;
}

}  // namespace corral::storage
