// libFuzzer target: storage recovery (ensemble/storage/recovery.h) from a damaged
// database file.
//
// At start-up the harness writes a small valid database the way a server does
// (sessions, every node kind, a multi, a closeSession, a fuzzy snapshot taken
// while txns were applied, a second epoch, an unfinished snapshot) and keeps its
// bytes. Each input then damages a copy:
//
//   1. SQL edits, on the valid file: steps of
//        op:uint8  row:uint8  operand
//      op % 6 picks the table (txn_log, snapshots, chunk_store,
//      snapshot_sessions, meta, snapshot_chunk_refs); op / 6 % 5 what to do to the (row % 32)-th
//      row (by key order) and column row / 32 % columns: 0 delete the row, 1 add a small delta
//      (operand int8) to the column, 2 set it to an integer (operand int64),
//      3 set it to bytes (operand: 16-bit length and bytes), 4 flip bytes of its
//      value (operand: count, then offset:uint16 xor:uint8 pairs). A 0xff op byte
//      ends this part.
//   2. Byte damage to the file: steps of offset:uint24 value:uint8 until the
//      input ends; an offset of 0xffffff truncates the file to the next uint24.
//
// Then the server's start-up runs on it: open the Database (integrity check) and
// recover. The outcome must be a StorageError, or a tree whose structural
// invariants hold with the recovered zxid and sessions consistent: never a
// crash, an abort, undefined behaviour or a leak. tests/fuzz/make_seeds.py
// writes seeds in this format.
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/tree/data_tree.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/tree_invariants.h"
#include "wire/path.h"

namespace {

using namespace corral;
using storage::Database;
using tree::DataTree;
using tree::Txn;
using tree::TxnOp;
using wire::OpCode;

/// Reports a broken invariant and aborts, so libFuzzer records the input.
void check(bool ok, const char* what, const std::string& detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "recovery_fuzzer: %s %s\n", what, detail.c_str());
  std::abort();
}

/// A table the SQL edits may touch: its name, its key columns (for picking the n-th row) and
/// columns.
struct Table {
  const char* name;
  const char* key;
  std::vector<const char*> columns;
};

const std::array<Table, 6>& tables() {
  static const std::array<Table, 6> t = {{
      {"txn_log", "rowid", {"zxid", "type", "session_id", "record"}},
      {"snapshots", "rowid", {"id", "start_zxid", "end_zxid", "node_count", "complete"}},
      {"chunk_store", "id", {"id", "digest", "nodes"}},
      {"snapshot_sessions", "rowid", {"snapshot_id", "session_id", "timeout_ms", "passwd"}},
      {"meta", "rowid", {"key", "value"}},
      {"snapshot_chunk_refs", "snapshot_id, seq", {"snapshot_id", "seq", "chunk_id"}},
  }};
  return t;
}

// ---------------------------------------------------------------- the valid database

constexpr int64_t kSessionA = 0x100;
constexpr int64_t kSessionB = 0x200;

/// Builds txns against a tree, as the leader's request pipeline would.
class History {
 public:
  Txn create(const std::string& path, int64_t owner = 0, OpCode type = OpCode::kCreate) {
    return single(op_create(path, owner, type));
  }
  TxnOp op_create(const std::string& path, int64_t owner, OpCode type = OpCode::kCreate) {
    TxnOp op;
    op.type = type;
    op.path = path;
    op.data = "data of " + path;
    op.acl = {{wire::perms::kAll, {"world", "anyone"}}};
    op.ephemeral_owner = owner;
    op.parent_cversion = tree.find(wire::parent_path(path))->cversion + 1;
    return op;
  }
  TxnOp op_set(const std::string& path, OpCode type = OpCode::kSetData) {
    TxnOp op;
    op.type = type;
    op.path = path;
    op.data = "new data";
    op.acl = {{wire::perms::kRead, {"world", "anyone"}}};
    op.version = 1;
    return op;
  }
  TxnOp op_delete(const std::string& path, OpCode type = OpCode::kDelete) {
    TxnOp op;
    op.type = type;
    op.path = path;
    return op;
  }
  Txn single(TxnOp op) {
    Txn t = next(op.type);
    t.ops.push_back(std::move(op));
    return t;
  }
  Txn next(OpCode type, int64_t session = kSessionA) {
    Txn t;
    t.zxid = ++zxid;
    t.session_id = session;
    t.cxid = static_cast<int32_t>(zxid & 0xff);
    t.time_ms = 1'700'000'000'000 + zxid;
    t.type = type;
    return t;
  }
  Txn session(OpCode type, int64_t id) {
    Txn t = next(type, id);
    t.session_timeout_ms = 10'000;
    t.session_passwd = std::string(16, static_cast<char>(id));
    if (type == OpCode::kCloseSession)
      for (const auto& p : tree.ephemerals(id)) t.ops.push_back(op_delete(p));
    return t;
  }
  /// Applies and logs `t`.
  void commit(Database& db, const Txn& t) {
    tree.apply(t);
    db.append({t});
  }

  DataTree tree;
  int64_t zxid = int64_t{1} << 32;
};

/// Writes the valid database at `path` (removing what was there) and returns its bytes.
std::string build_valid_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  {
    Database db(path, /*force_sync=*/false);
    db.set_meta("acceptedEpoch", 2);
    db.set_meta("currentEpoch", 2);
    History h;
    h.commit(db, h.session(OpCode::kCreateSession, kSessionA));
    h.commit(db, h.create("/app"));
    h.commit(db, h.create("/app/e", kSessionA));
    h.commit(db, h.create("/app/c", tree::kContainerOwner, OpCode::kCreateContainer));
    h.commit(db, h.create("/app/t", tree::ttl_owner(60'000), OpCode::kCreateTtl));
    Txn multi = h.next(OpCode::kMulti);
    multi.ops = {h.op_create("/app/m", 0), h.op_set("/app")};
    h.commit(db, multi);
    h.commit(db, h.create("/app/m/k"));
    // A fuzzy snapshot: txns applied while it is written are in it or not.
    storage::SnapshotWalk walk;
    const int64_t id = db.begin_snapshot(h.tree.last_zxid(), {{kSessionA, 10'000, "pa"}});
    int64_t count = 0;
    auto write_some = [&](size_t max) {
      std::vector<storage::SnapshotRow> rows;
      count += static_cast<int64_t>(walk.next(h.tree, max, rows));
      if (!rows.empty()) db.add_snapshot_nodes(id, rows);
    };
    write_some(4);
    h.commit(db, h.single(h.op_delete("/app/m/k")));
    h.commit(db, h.single(h.op_set("/app/t", OpCode::kSetAcl)));
    h.commit(db, h.session(OpCode::kCreateSession, kSessionB));
    while (!walk.done()) write_some(4);
    db.finish_snapshot(id, h.tree.last_zxid(), count);
    h.commit(db, h.create("/app/e2", kSessionB));
    h.commit(db, h.session(OpCode::kCloseSession, kSessionA));
    h.zxid = int64_t{2} << 32;  // a new epoch
    h.commit(db, h.create("/b"));
    h.commit(db, h.single(h.op_delete("/app/c", OpCode::kDeleteContainer)));
    db.begin_snapshot(h.tree.last_zxid(), {});  // a crash while writing the next snapshot
  }
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// ---------------------------------------------------------------- damage

/// Part 1: SQL edits, each ignored when SQLite refuses it (a constraint, a type).
void edit_rows(const std::string& path, fuzz::ByteReader& in) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_exec(db, "PRAGMA synchronous=OFF", nullptr, nullptr, nullptr);
  for (uint8_t op = in.u8(); op != 0xff && in.more(); op = in.u8()) {
    const Table& t = tables()[op % tables().size()];
    const int what = op / static_cast<int>(tables().size()) % 5;
    const uint8_t row = in.u8();
    const std::string column = t.columns[(row >> 5) % t.columns.size()];
    const std::string where = std::string(" WHERE (") + t.key + ") = (SELECT " + t.key + " FROM " +
                              t.name + " ORDER BY " + t.key + " LIMIT 1 OFFSET " +
                              std::to_string(row & 31) + ")";
    std::string sql;
    std::string blob;
    switch (what) {
      case 0:
        sql = std::string("DELETE FROM ") + t.name + where;
        break;
      case 1:
        sql = std::string("UPDATE ") + t.name + " SET " + column + " = " + column + " + " +
              std::to_string(in.delta()) + where;
        break;
      case 2:
        sql = std::string("UPDATE ") + t.name + " SET " + column + " = " +
              std::to_string(static_cast<int64_t>(in.u64())) + where;
        break;
      default: {
        if (what == 3) {
          blob = in.bytes(4096);
        } else {
          sqlite3_stmt* q = nullptr;
          std::string select = "SELECT " + column + " FROM " + t.name + where;
          if (sqlite3_prepare_v2(db, select.c_str(), -1, &q, nullptr) == SQLITE_OK &&
              sqlite3_step(q) == SQLITE_ROW) {
            const void* p = sqlite3_column_blob(q, 0);
            blob.assign(static_cast<const char*>(p), p ? sqlite3_column_bytes(q, 0) : 0);
          }
          sqlite3_finalize(q);
          for (int flips = in.u8() & 7; flips > 0; --flips) {
            const uint16_t at = in.u16();
            const uint8_t x = in.u8();
            if (!blob.empty()) blob[at % blob.size()] ^= static_cast<char>(x);
          }
        }
        sql = std::string("UPDATE ") + t.name + " SET " + column + " = ?" + where;
        break;
      }
    }
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK) {
      if (what >= 3)
        sqlite3_bind_blob(q, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      sqlite3_step(q);
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
}

/// Part 2: bytes overwritten in the file, or the file cut short.
void damage_bytes(const std::string& path, fuzz::ByteReader& in) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  if (!f) return;
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  while (in.more() && size > 0) {
    const uint32_t high = in.u8();
    const uint32_t offset = high << 16 | in.u16();
    if (offset == 0xffffff) {
      size =
          static_cast<long>(((uint32_t{in.u8()} << 16) | in.u16()) % static_cast<uint32_t>(size));
      check(::ftruncate(::fileno(f), size) == 0, "cannot truncate the database file");
      continue;
    }
    std::fseek(f, static_cast<long>(offset % static_cast<uint32_t>(size)), SEEK_SET);
    std::fputc(in.u8(), f);
  }
  std::fclose(f);
}

// ---------------------------------------------------------------- the harness

/// Where the damaged copy goes: memory-backed when possible, one file per process.
std::string work_path() {
  const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/corral-recovery-fuzz-" + std::to_string(::getpid()) + ".db";
}

const std::string& path() {
  static const std::string p = work_path();
  return p;
}

const std::string& valid_bytes() {
  static const std::string bytes = build_valid_database(path());
  return bytes;
}

void remove_work_files() {
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path() + suffix).c_str());
}

/// Runs recovery as the server does at start-up; checks what it returns.
void recover_and_check() {
  try {
    Database db(path(), /*force_sync=*/false);
    DataTree tree;
    storage::Recovered rec = storage::recover(db, tree);
    std::string problem = fuzz::tree_problem(tree);
    check(problem.empty(), "recovery built a broken tree:", problem);
    check(rec.last_zxid == tree.last_zxid(), "recovery's last zxid is not the tree's");
    std::set<int64_t> ids;
    for (const auto& s : rec.sessions) check(ids.insert(s.id).second, "a session recovered twice");
    if (std::getenv("RECOVERY_FUZZER_VERBOSE"))
      std::fprintf(stderr, "recovered up to %s\n", storage::zxid_text(rec.last_zxid).c_str());
  } catch (const storage::StorageError& e) {
    // Refused, with a message: what a damaged database must get.
    if (std::getenv("RECOVERY_FUZZER_VERBOSE")) std::fprintf(stderr, "refused: %s\n", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  // The undamaged database must recover, or the harness itself is broken.
  const std::string& bytes = valid_bytes();
  std::atexit(remove_work_files);  // after path() exists: it is destroyed after this runs
  Database db(path(), false);
  DataTree tree;
  storage::Recovered rec = storage::recover(db, tree);
  check(rec.snapshot_zxid != 0 && rec.txns_replayed > 0 && tree.find("/app/e2") &&
            !tree.find("/app/e") && fuzz::tree_problem(tree).empty(),
        "the valid database does not recover as built");
  check(!bytes.empty(), "the valid database is empty");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remove_work_files();
  {
    std::ofstream out(path(), std::ios::binary | std::ios::trunc);
    out.write(valid_bytes().data(), static_cast<std::streamsize>(valid_bytes().size()));
  }
  fuzz::ByteReader in(data, size);
  edit_rows(path(), in);
  damage_bytes(path(), in);
  recover_and_check();
  return 0;
}
