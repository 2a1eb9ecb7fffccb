#include "ensemble/storage/verify.h"

#include <filesystem>

#include "ensemble/storage/backup.h"
#include "ensemble/storage/database.h"
#include "ensemble/storage/integrity_check.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/tree_digest.h"

namespace corral::storage {
namespace {

// Every row follows the one before it; the counts go to `report`.
std::string log_problem(Database& db, VerifyReport& report) {
  int64_t prev = 0;
  std::string problem;
  db.read_log(0, [&](tree::Txn txn) {
    if (!problem.empty()) return;
    if (prev != 0 && !zxid_follows(prev, txn.zxid))
      problem =
          "gap in the txn log between zxid " + zxid_text(prev) + " and " + zxid_text(txn.zxid);
    if (prev == 0) report.first_zxid = txn.zxid;
    prev = txn.zxid;
    report.last_logged = txn.zxid;
    ++report.txns;
  });
  return problem;
}

std::string snapshot_problem(Database& db, const SnapshotInfo& snap, int64_t first_logged) {
  std::string where =
      "snapshot " + std::to_string(snap.id) + " at zxid " + zxid_text(snap.start_zxid) + ": ";
  if (snap.end_zxid < snap.start_zxid)
    return where + "its fuzzy range ends at zxid " + zxid_text(snap.end_zxid) +
           ", before it starts";
  // Replay from it needs every txn after its start.
  if (first_logged > snap.start_zxid + 1 && !zxid_follows(snap.start_zxid, first_logged))
    return where + "the txn log starts later, at zxid " + zxid_text(first_logged);
  tree::DataTree tree;
  std::string problem;
  if (!load_snapshot(db, snap, tree, problem)) return where + problem;
  return {};
}

std::string check(Database& db, VerifyReport& report) {
  report.accepted_epoch = db.meta("acceptedEpoch", 0);
  report.current_epoch = db.meta("currentEpoch", 0);
  if (std::string why = log_problem(db, report); !why.empty()) return why;
  for (const auto& snap : db.snapshots()) {
    if (std::string why = snapshot_problem(db, snap, report.first_zxid); !why.empty()) return why;
    ++report.snapshots;
    if (snap.checksum) ++report.checksummed;
  }
  tree::DataTree tree;
  Recovered recovered = recover(db, tree);
  report.last_zxid = recovered.last_zxid;
  report.sessions = static_cast<int64_t>(recovered.sessions.size());
  TreeDigest digest = tree_digest(tree);
  report.nodes = digest.node_count;
  report.digest = digest.digest;
  return {};
}

}  // namespace

VerifyReport verify_database(const std::string& path, const std::string& scratch_dir) {
  // Recovery drops incomplete snapshots, and a live server may be writing one: the checks
  // run on a copy taken as of one instant.
  std::string copy_path = scratch_dir + "/verify.db";
  backup_database(path, copy_path);
  VerifyReport report;
  // SQLite's full check, which the server's quick_check at open does only in part.
  report.problem = page_check_file(copy_path, PageCheck::kFull);
  if (report.problem.empty()) {
    try {
      Database db(copy_path, false);
      report.problem = check(db, report);
    } catch (const StorageError& e) {
      report.problem = e.what();
    }
  }
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(copy_path + suffix, ignored);
  // Messages name the database verified, not the copy, and always name it.
  for (size_t at; (at = report.problem.find(copy_path)) != std::string::npos;)
    report.problem.replace(at, copy_path.size(), path);
  if (!report.problem.empty() && !report.problem.starts_with(path))
    report.problem = path + ": " + report.problem;
  return report;
}

}  // namespace corral::storage
