// `corral-admin verify`: checks a server's database (or a backup of one) the way recovery
// would use it, without changing it: the checks run on a private copy.
#pragma once

#include <cstdint>
#include <string>

namespace corral::storage {

/// What verify_database() found.
struct VerifyReport {
  /// The first problem found; empty when the database is sound.
  std::string problem;
  int64_t first_zxid = 0;   ///< lowest logged zxid (0: empty log)
  int64_t last_logged = 0;  ///< highest logged zxid (0: empty log)
  int64_t last_zxid = 0;    ///< last zxid recovery reaches
  int64_t txns = 0;         ///< rows in the txn log
  int64_t snapshots = 0;    ///< complete snapshots, each loaded and checked
  int64_t checksummed = 0;  ///< of those, how many had a checksum (and matched it)
  int64_t nodes = 0;        ///< nodes of the recovered tree
  int64_t sessions = 0;     ///< live sessions after recovery
  uint64_t digest = 0;      ///< tree_digest() of the recovered tree
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
};

/// Checks the database `path` (a server's corral.db, even while it runs, or a backup):
/// SQLite's integrity_check; every txn_log row decodes, holds its own zxid and follows the
/// row before it with no gap (the next counter in an epoch, or counter 1 of a later epoch);
/// every complete snapshot's rows add up to its stored checksum (when it has one: snapshots
/// written before checksums have none) and load (rows decode, parents before children, no
/// duplicates, the stored node count), and the log reaches back to its start; and recovery, the
/// server's own code, succeeds. `scratch_dir` holds the private copy while it runs. Throws
/// StorageError only when the copy cannot be made.
VerifyReport verify_database(const std::string& path, const std::string& scratch_dir);

}  // namespace corral::storage
