// Recovery: the newest usable snapshot plus the log after it rebuild the tree
// and the sessions. Anything that does not add up stops the server with a
// message naming the file and zxid; nothing is silently dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// What recovery rebuilt besides the tree.
struct Recovered {
  /// The last zxid applied (0 for an empty database).
  int64_t last_zxid = 0;
  /// The snapshot used (its start zxid), or 0 when the whole log was replayed.
  int64_t snapshot_zxid = 0;
  int64_t txns_replayed = 0;
  /// How long loading the snapshot took (the rest of recovery is mostly the log's replay).
  std::chrono::milliseconds snapshot_load_time{0};
  /// Live sessions; their timeouts restart from recovery time.
  std::vector<SessionRow> sessions;
};

/// Loads `db` into the empty `tree`, then drops the snapshots left incomplete (its only write).
/// Throws StorageError when the data is corrupt or incomplete (a gap in the log, a log that
/// does not reach the snapshot). `before_writing` runs before that write and may throw to stop
/// it: the server waits there for the integrity check it runs beside recovery, so recovery
/// changes no row of a file the check refuses.
Recovered recover(Database& db, tree::DataTree& tree,
                  const std::function<void()>& before_writing = {});

/// Loads the nodes of complete snapshot `snap` into the empty `tree` with recovery's checks
/// (each row decodes, paths are valid and unique, parents come first, the count matches, the
/// rows match the snapshot's checksum when it has one).
/// False, with `problem` saying what is wrong, when a row is broken; the tree is then unusable.
bool load_snapshot(Database& db, const SnapshotInfo& snap, tree::DataTree& tree,
                   std::string& problem);

/// True when `next` may directly follow `prev` in the log: the next counter
/// of the same epoch, or the first txn of a later epoch.
bool zxid_follows(int64_t prev, int64_t next);

}  // namespace corral::storage
