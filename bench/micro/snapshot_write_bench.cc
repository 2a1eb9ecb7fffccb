// Writing a snapshot, as every member does each snapCount txns: the walk and the encoding of
// each node, then the chunks stored in SQLite, as the Snapshotter takes them (1,000 nodes a
// storage job). Items are znodes, so 1/items-per-second is a snapshot's cost per znode.
#include <benchmark/benchmark.h>

#include "bench/micro/sample_tree.h"
#include "bench/micro/temp_database.h"
#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_walk.h"

namespace {

using namespace corral;

constexpr size_t kNodesPerJob = 1000;  // as the Snapshotter's kChunkNodes

/// The walk, the encoding and the checksum only.
void BM_SnapshotWalk(benchmark::State& state) {
  tree::DataTree t;
  bench::fill_sample_tree(t, state.range(0));
  storage::SnapshotWalk walk;
  for (auto _ : state) {
    walk.restart();
    while (!walk.done()) {
      storage::SnapshotChunks chunks;
      walk.next(t, kNodesPerJob, chunks);
      benchmark::DoNotOptimize(chunks.checksum());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(t.node_count()));
}
BENCHMARK(BM_SnapshotWalk)->Arg(100000)->Unit(benchmark::kMillisecond);

/// A whole snapshot: begun, walked, stored and finished, keeping one (the previous goes).
void BM_SnapshotWrite(benchmark::State& state) {
  tree::DataTree t;
  bench::fill_sample_tree(t, state.range(0));
  bench::TempDatabase temp;
  storage::SnapshotWalk walk;
  for (auto _ : state) {
    const int64_t id = temp.db().begin_snapshot(t.last_zxid(), {});
    walk.restart();
    while (!walk.done()) {
      storage::SnapshotChunks chunks;
      walk.next(t, kNodesPerJob, chunks);
      temp.db().add_snapshot_chunks(id, chunks);
    }
    temp.db().finish_snapshot(id, t.last_zxid(), static_cast<int64_t>(t.node_count()), 1);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(t.node_count()));
}
BENCHMARK(BM_SnapshotWrite)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
