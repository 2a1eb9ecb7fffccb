// A snapshot written into a database as the server's Snapshotter writes it, for the
// microbenchmarks that write and load one.
#pragma once

#include "ensemble/storage/database.h"
#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_walk.h"
#include "ensemble/tree/data_tree.h"

namespace corral::bench {

/// Writes a whole snapshot of `t`: begun, walked, stored and finished, keeping one.
inline void write_snapshot(storage::Database& db, const tree::DataTree& t) {
  storage::SnapshotWalk walk;
  const int64_t id = db.begin_snapshot(t.last_zxid(), {});
  while (!walk.done()) {
    storage::SnapshotChunks chunks;
    walk.next_run(t, chunks);
    db.add_snapshot_chunks(id, chunks);
  }
  db.finish_snapshot(id, t.last_zxid(), static_cast<int64_t>(t.node_count()), 1);
}

}  // namespace corral::bench
