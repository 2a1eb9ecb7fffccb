// The SQLite database of one server: the txn log, snapshots, metadata (acceptedEpoch,
// currentEpoch) and the quorum configs of dynamic reconfiguration (active, next). WAL mode,
// synchronous=FULL unless forceSync=no. Not thread-safe: the storage thread owns it; recovery uses
// it before that.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ensemble/storage/checksum.h"
#include "ensemble/tree/txn.h"

struct sqlite3;

namespace corral::storage {

/// A prepared SQLite statement (database.cc).
class Statement;
/// Runs a writer's WAL checkpoints (wal_checkpointer.h).
class WalCheckpointer;

/// A problem with the database: the message names the file and, where known, the zxid.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One node of a snapshot as stored: its path and encoded record.
struct SnapshotRow {
  std::string path;
  std::string record;
};

/// A session as stored in a snapshot.
struct SessionRow {
  int64_t id = 0;
  int32_t timeout_ms = 0;
  std::string passwd;
};

/// What the snapshots table says of one snapshot.
struct SnapshotInfo {
  int64_t id = 0;
  /// Every txn up to this zxid is in the snapshot; later ones may partly be (fuzzy).
  int64_t start_zxid = 0;
  /// The last zxid applied when the snapshot finished; replay is idempotent up to here.
  int64_t end_zxid = 0;
  int64_t node_count = 0;
  bool complete = false;
  /// The sum (mod 2^64) of snapshot_row_checksum() over its rows, as written; nullopt for a
  /// snapshot written by a Corral from before checksums.
  std::optional<uint64_t> checksum;
  /// Which snapshot_row_checksum the sum is of (the column it was stored in).
  RowChecksum checksum_kind = kRowChecksum;
};

/// Which stored quorum config: the one in force, or the newest one proposed and not yet
/// active (ZooKeeper's `zoo.cfg.dynamic.next`, its last-seen config).
enum class ConfigSlot { kActive, kNext };

/// A quorum config as stored: its version and its text (zab::QuorumConfig::text()).
struct StoredQuorumConfig {
  int64_t version = 0;
  std::string text;

  bool operator==(const StoredQuorumConfig&) const = default;
};

class SnapshotChunks;
struct SnapshotStep;

/// The database file and its tables.
class Database {
 public:
  /// Whether opening runs SQLite's quick_check, or the caller runs it (page_check_file) beside
  /// what it does next.
  enum class IntegrityCheck { kAtOpen, kByCaller };

  /// Opens (creating if needed) `path`, checking its integrity unless the caller will. Throws
  /// StorageError.
  Database(const std::string& path, bool force_sync,
           IntegrityCheck check = IntegrityCheck::kAtOpen);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }

  /// Appends txns in one SQLite transaction (one fsync): group commit.
  void append(const std::vector<tree::SharedTxn>& txns);
  /// The same for txns held by value.
  void append(const std::vector<tree::Txn>& txns);
  /// Calls `each` for every logged txn with zxid > `after`, in zxid order; each txn carries its
  /// row's bytes as its record (Txn::record).
  void read_log(int64_t after, const std::function<void(tree::Txn)>& each) const;
  /// A read-only connection to the existing database at `path`: in WAL mode it reads beside
  /// the writing connection without waiting for its transactions. Throws StorageError.
  static std::unique_ptr<Database> open_reader(const std::string& path);
  /// The highest logged zxid at or below `zxid`, or nothing when no logged txn is.
  std::optional<int64_t> log_floor(int64_t zxid) const;
  /// Calls `each` for the logged txns after `after` up to `upto`, in zxid order, in one read
  /// transaction that first finds `after` itself logged. Throws StorageError when it is not
  /// (purged since it was chosen: the txns read would not follow it), or when their records
  /// pass `max_bytes`.
  void read_log_range(int64_t after, int64_t upto, size_t max_bytes,
                      const std::function<void(tree::Txn)>& each) const;
  /// Removes logged txns with zxid > `zxid` (the ensemble's TRUNC), and in the same SQLite
  /// transaction the 'next' quorum config if its version (a reconfig txn's zxid) is above
  /// `zxid`, and every snapshot that may hold a removed txn (one that started or finished
  /// after `zxid`, or is still being written), so a restart cannot bring them back. When no
  /// snapshot is left and the log no longer starts at the beginning of history (purged), the
  /// whole log goes too (what remains could not be recovered), and the log is recorded as
  /// starting after `zxid` (kLogStartKey).
  void truncate_after(int64_t zxid);
  /// The newest logged txns, oldest first: `n` of them at most, and no more than their records
  /// (each txn carries its row's bytes, Txn::record) within `max_bytes` hold.
  std::vector<tree::Txn> recent_txns(size_t n, size_t max_bytes = SIZE_MAX) const;
  /// Writes a leader's snapshot at `zxid` beside what the database holds, as an incomplete
  /// snapshot (recovery drops it, nothing else reads it) until install_snapshot: a learner
  /// stores the rows while it builds its tree from them. Returns the snapshot's id.
  int64_t stage_snapshot(int64_t zxid, const std::vector<SessionRow>& sessions,
                         const std::vector<SnapshotRow>& nodes);
  /// Makes a staged snapshot of `node_count` nodes the whole state, in one SQLite
  /// transaction: the log and every other snapshot go, and a stored last-seen config (the
  /// SYNC after the snapshot stores it again if it is still pending).
  void install_snapshot(int64_t snapshot_id, int64_t node_count);
  /// Removes one snapshot, complete or not, with its rows (a staged one not installed).
  void drop_snapshot(int64_t snapshot_id);
  /// Highest logged zxid, or 0.
  int64_t last_logged_zxid() const;
  /// Lowest logged zxid, or 0 when the log is empty.
  int64_t first_logged_zxid() const;

  /// Starts a snapshot whose txns up to `start_zxid` are included; returns its id.
  int64_t begin_snapshot(int64_t start_zxid, const std::vector<SessionRow>& sessions);
  /// Adds nodes to a snapshot being written (one SQLite transaction).
  void add_snapshot_nodes(int64_t snapshot_id, const std::vector<SnapshotRow>& rows);
  /// Adds nodes encoded already to a snapshot being written (one SQLite transaction); returns
  /// the ids of the chunk_store rows that hold them (none when the snapshot was dropped).
  std::vector<int64_t> add_snapshot_chunks(int64_t snapshot_id, const SnapshotChunks& chunks);
  /// Adds the steps of a snapshot's walk to it in one SQLite transaction, in order: a walked
  /// run's chunks (their chunk_store ids into the step's `walked_ids`), or refs to chunks
  /// stored already (by the snapshot before it, which holds them) with their nodes' share of
  /// its checksum. Nothing when the snapshot was dropped. A reused chunk that is gone is a
  /// broken invariant: throws StorageError and writes nothing of the steps.
  void add_snapshot_steps(int64_t snapshot_id,
                          const std::vector<std::shared_ptr<SnapshotStep>>& steps);
  /// Marks a snapshot complete: from now on recovery may use it. With `retain` > 0, purges
  /// as `purge(retain)` does in the same transaction, so no crash leaves more than `retain`
  /// snapshots, but removes at most kLogPurgeBatch of the txns it frees from the log: true when
  /// more are left, for purge_log_batch() to remove.
  bool finish_snapshot(int64_t snapshot_id, int64_t end_zxid, int64_t node_count, int retain = 0);
  /// Txns removed from the log in one SQLite transaction when a snapshot is finished, or by
  /// purge_log_batch(): deleting the 100,000 txns a snapshot frees at once held the storage
  /// thread, and every write behind it, for up to 1.9 s (bench/RESULTS.md, twenty-fourth).
  static constexpr int64_t kLogPurgeBatch = 1000;
  /// Removes up to kLogPurgeBatch of the oldest txns that the oldest complete snapshot holds
  /// (recovery from it replays only the txns after its start) in one SQLite transaction; true
  /// when more such txns may be left.
  bool purge_log_batch();
  /// Complete snapshots, newest first.
  std::vector<SnapshotInfo> snapshots() const;
  /// Calls `each` for every node of a snapshot, parents before children.
  void read_snapshot(int64_t snapshot_id, const std::function<void(SnapshotRow)>& each) const;
  /// The same, each node's path and record viewed where they were read (valid during the call):
  /// recovery reads a million of them.
  void read_snapshot_entries(
      int64_t snapshot_id,
      const std::function<void(std::string_view path, std::string_view record)>& each) const;
  /// The bytes a snapshot's nodes take as stored (its chunks, or its rows' paths and records).
  int64_t snapshot_stored_bytes(int64_t snapshot_id) const;
  /// The sessions stored with a snapshot.
  std::vector<SessionRow> snapshot_sessions(int64_t snapshot_id) const;
  /// Removes incomplete snapshots (left by a crash while writing one).
  void drop_incomplete_snapshots();
  /// Keeps the newest `retain` complete snapshots and the log they need; removes the rest.
  void purge(int retain);

  /// Meta key: the storage format the database was last opened with for writing; a Corral
  /// refuses one newer than its own (kStorageFormat) rather than misread it.
  static constexpr const char* kFormatKey = "storage_format";
  /// The storage format this build writes: 3, snapshots in shared chunks (chunk_store); 2 was
  /// chunks of their own (snapshot_chunks), 1 a node a row. Corral before 3 did not check it,
  /// and refuses a database of format 3 only at its snapshot ("holds 0 nodes").
  static constexpr int64_t kStorageFormat = 3;

  /// Meta key: the zxid the txn log starts after: no txn at or below it is logged any more
  /// (purged, or replaced by an installed snapshot); 0 while the log starts at the beginning of
  /// history. With no snapshot left, only a log at 0 can rebuild the state. A database of a
  /// Corral from before it lacks the key until a purge removes rows, a snapshot is installed
  /// or a truncation leaves no snapshot (and one taken back to such a Corral and forward again
  /// may hold a stale value). A database that holds nothing is at 0 once opened.
  static constexpr const char* kLogStartKey = "log_starts_after";
  /// What kLogStartKey holds, or nullopt when the database does not say.
  std::optional<int64_t> log_starts_after() const;

  /// Meta key: 1 while this ensemble member abstains from elections (its log lacks txns it
  /// may have acknowledged; zab::Peer::diverged) until a leader's snapshot repairs it.
  static constexpr const char* kAbstainingKey = "abstaining";

  /// A metadata value (acceptedEpoch, currentEpoch, ...), or `fallback`.
  int64_t meta(const std::string& key, int64_t fallback) const;
  /// Sets a metadata value durably.
  void set_meta(const std::string& key, int64_t value);

  /// The quorum config stored in `slot`, if any.
  std::optional<StoredQuorumConfig> config(ConfigSlot slot) const;
  /// Stores a quorum config in `slot` durably, replacing the previous one. Storing the active
  /// config also drops, in the same SQLite transaction, a 'next' row it catches up with
  /// (version <= `version`): that proposal is no longer pending.
  void set_config(ConfigSlot slot, int64_t version, const std::string& text);

 private:
  struct ReaderTag {};
  Database(const std::string& path, ReaderTag);
  /// Decodes the rows (zxid, record) of a txn_log query into `each`, each txn with its row's
  /// bytes as its record; StorageError once their records pass `max_bytes`.
  void read_txns(Statement& rows, const std::function<void(tree::Txn)>& each,
                 size_t max_bytes = SIZE_MAX) const;
  /// Both appends: one SQLite transaction.
  void append_all(const std::vector<const tree::Txn*>& txns);
  /// Refuses a database of a newer storage format; marks an older one as of this format (what
  /// it stores from now on is).
  void check_format();
  /// truncate_after's last step, after a truncation to `zxid`: drops a log that cannot
  /// rebuild the state on its own.
  void drop_log_without_a_start(int64_t zxid);
  /// True when the database holds no logged txn and no snapshot.
  bool holds_nothing() const;
  /// Inside the caller's transaction, records that the log starts after `zxid`.
  void set_log_start(int64_t zxid);
  /// The body of `purge`, inside the caller's transaction: removes the snapshots past the
  /// newest `retain`, and then up to `max_log_txns` of the txns the oldest snapshot left holds;
  /// true when more of those may be left.
  bool purge_in_transaction(int retain, int64_t max_log_txns = INT64_MAX);
  /// Inside the caller's transaction, removes up to `max_txns` of the oldest logged txns with
  /// zxid <= `upto`; true when more may be left.
  bool purge_log_upto(int64_t upto, int64_t max_txns);
  /// Inside the caller's transaction, removes the snapshots whose row matches `which` (SQL on
  /// the snapshots table, `param` bound to ?1) with everything stored with them; on a failure,
  /// rolls back and throws `what`.
  void remove_snapshots(const char* which, int64_t param, const std::string& what);
  void exec(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;
  /// Ends the open SQLite transaction and throws, keeping SQLite's reason.
  [[noreturn]] void rollback_and_fail(const std::string& what);
  /// Both adds: calls `write` in one SQLite transaction with the snapshot's next chunk seq,
  /// unless the snapshot was dropped meanwhile.
  void add_to_snapshot(int64_t snapshot_id, const std::function<void(int64_t& seq)>& write);
  struct ChunkStatements;
  /// The chunk_store row holding `chunk`, stored now unless it was (inside an open SQLite
  /// transaction; a failure rolls back and throws `what`).
  int64_t store_chunk(ChunkStatements& q, const std::string& chunk, const std::string& what);
  /// Stores `chunks` as snapshot `snapshot_id`'s chunks after `seq` (inside an open SQLite
  /// transaction), their checksum added to its own.
  void insert_chunks(int64_t snapshot_id, int64_t& seq, const SnapshotChunks& chunks,
                     std::vector<int64_t>* chunk_ids = nullptr);
  /// Adds a batch's share to a snapshot's checksum (inside an open SQLite transaction).
  void add_to_checksum(int64_t snapshot_id, uint64_t rows_checksum);
  /// Refs to chunks stored already, from seq+1 on, their checksum added to the snapshot's
  /// (inside an open SQLite transaction).
  void insert_refs(int64_t snapshot_id, int64_t& seq, const std::vector<int64_t>& chunk_ids,
                   uint64_t checksum);
  /// Stores a snapshot's sessions (inside an open SQLite transaction).
  void insert_snapshot_sessions(int64_t snapshot_id, const std::vector<SessionRow>& sessions);

  std::string path_;
  sqlite3* db_ = nullptr;
  /// An append's statements, kept: BEGIN, COMMIT, and the txn log's INSERTs of 1 to 32 rows
  /// (each prepared when first needed).
  struct AppendStatements;
  std::unique_ptr<AppendStatements> append_;
  /// Runs the WAL's checkpoints (a writer's connection with sync on only). Closed last: the
  /// process's other connections to the file (readers) should be closed before this Database.
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

/// "0x1a2b": how zxids are written in messages.
std::string zxid_text(int64_t zxid);

}  // namespace corral::storage
