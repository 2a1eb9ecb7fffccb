#include "ensemble/storage/recovery.h"

#include <algorithm>
#include <map>
#include <string>

#include "ensemble/storage/checksum.h"
#include "ensemble/storage/snapshot_load.h"
#include "ensemble/storage/tree_digest.h"
#include "ensemble/storage/txn_fit.h"

namespace corral::storage {
namespace {

int64_t epoch_of(int64_t zxid) { return zxid >> 32; }
int64_t counter_of(int64_t zxid) { return zxid & 0xffffffffll; }

}  // namespace

bool load_snapshot(Database& db, const SnapshotInfo& snap, tree::DataTree& tree,
                   std::string& problem) {
  // Room for the nodes the snapshot says it holds, but no more than its bytes can hold (an
  // entry takes 7 at least): a damaged count must not ask for terabytes.
  const int64_t room =
      std::clamp<int64_t>(snap.node_count, 0, db.snapshot_stored_bytes(snap.id) / 7 + 1);
  SnapshotLoader loader(tree, static_cast<size_t>(room));
  uint64_t sum = 0;
  db.read_snapshot_entries(snap.id, [&](std::string_view path, std::string_view record) {
    if (!problem.empty()) return;
    if (snap.checksum) sum += snapshot_row_checksum(snap.checksum_kind, path, record);
    problem = loader.add(path, record);
  });
  if (problem.empty() && loader.loaded() != snap.node_count)
    problem = "snapshot holds " + std::to_string(loader.loaded()) + " nodes, expected " +
              std::to_string(snap.node_count);
  // Loading catches what breaks the tree; the checksum also what still decodes.
  if (problem.empty() && snap.checksum && sum != *snap.checksum)
    problem = "its rows do not match its checksum (stored " + digest_text(*snap.checksum) +
              ", rows give " + digest_text(sum) + "): a row was changed, added or removed";
  return problem.empty();
}

bool zxid_follows(int64_t prev, int64_t next) {
  if (epoch_of(next) == epoch_of(prev)) return counter_of(next) == counter_of(prev) + 1;
  return epoch_of(next) > epoch_of(prev) && counter_of(next) == 1;
}

Recovered recover(Database& db, tree::DataTree& tree, const std::function<void()>& before_writing) {
  Recovered out;
  std::map<int64_t, SessionRow> sessions;
  int64_t fuzzy_end = 0;
  auto snapshots = db.snapshots();
  if (!snapshots.empty()) {
    const auto started = std::chrono::steady_clock::now();
    // Only the newest snapshot is used: an older one would need log rows that
    // retention may have purged, and a silent fallback could serve less data.
    const SnapshotInfo& snap = snapshots.front();
    std::string problem;
    if (!load_snapshot(db, snap, tree, problem))
      throw StorageError(db.path() + ": snapshot " + std::to_string(snap.id) + " at zxid " +
                         zxid_text(snap.start_zxid) + ": " + problem);
    for (auto& s : db.snapshot_sessions(snap.id)) sessions[s.id] = s;
    out.snapshot_zxid = snap.start_zxid;
    out.last_zxid = snap.start_zxid;
    fuzzy_end = snap.end_zxid;
    tree.set_last_zxid(snap.start_zxid);
    out.snapshot_load_time = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
  }
  int64_t first = db.first_logged_zxid();
  // A purged log may start at an epoch's first txn, which follows "nothing" as well as a
  // history that began at the first.
  if (const auto start = db.log_starts_after(); snapshots.empty() && first != 0 && start && *start)
    throw StorageError(db.path() + ": the txn log starts at zxid " + zxid_text(first) +
                       " but there is no snapshot: the txns up to zxid " + zxid_text(*start) +
                       " were purged, and the state they made is missing");
  // first - 1, not snapshot_zxid + 1: a damaged snapshot's zxid may be the largest there is.
  if (first != 0 && first > out.snapshot_zxid && first - 1 != out.snapshot_zxid &&
      !zxid_follows(out.snapshot_zxid, first))
    throw StorageError(db.path() + ": the txn log starts at zxid " + zxid_text(first) + " but " +
                       (snapshots.empty()
                            ? std::string("there is no snapshot")
                            : "the newest snapshot is at zxid " + zxid_text(out.snapshot_zxid)) +
                       ": txns in between are missing");
  db.read_log(out.snapshot_zxid, [&](tree::Txn txn) {
    if (!zxid_follows(out.last_zxid, txn.zxid))
      throw StorageError(db.path() + ": gap in the txn log between zxid " +
                         zxid_text(out.last_zxid) + " and " + zxid_text(txn.zxid));
    std::string misfit = txn.zxid <= fuzzy_end ? replay_misfit(txn) : apply_misfit(tree, txn);
    if (!misfit.empty())
      throw StorageError(db.path() + ": txn_log row " + zxid_text(txn.zxid) +
                         " does not fit the data before it: " + misfit);
    if (txn.zxid <= fuzzy_end)
      tree.replay(txn);
    else
      tree.apply(txn);
    if (txn.type == wire::OpCode::kCreateSession)
      sessions[txn.session_id] = {txn.session_id, txn.session_timeout_ms, txn.session_passwd};
    if (txn.type == wire::OpCode::kCloseSession) sessions.erase(txn.session_id);
    out.last_zxid = txn.zxid;
    ++out.txns_replayed;
  });
  // The snapshot may hold effects of txns up to its end: without them in the
  // log, the tree would mix states.
  if (fuzzy_end > out.last_zxid)
    throw StorageError(db.path() + ": the newest snapshot (zxid " + zxid_text(out.snapshot_zxid) +
                       ") was taken while txns up to zxid " + zxid_text(fuzzy_end) +
                       " were applied, but the txn log ends at zxid " + zxid_text(out.last_zxid) +
                       ": txns in between are missing");
  // A fuzzy snapshot may hold a child under an ephemeral for a while, until replay ends;
  // after it, one means damage.
  if (std::string why = ephemeral_problem(tree); !why.empty())
    throw StorageError(db.path() + ": " + why);
  for (auto& [id, s] : sessions) out.sessions.push_back(s);
  // Only complete snapshots were read: the incomplete ones can go once nothing was refused.
  if (before_writing) before_writing();
  db.drop_incomplete_snapshots();
  return out;
}

}  // namespace corral::storage
