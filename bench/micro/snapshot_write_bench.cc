// Writing a snapshot, as every member does each snapCount txns: the walk and the encoding of
// each node, then the chunks stored in SQLite, a run of nodes a transaction (the Snapshotter
// writes four runs a transaction). Items are znodes, so 1/items-per-second is a snapshot's cost per
// znode.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/micro/sample_tree.h"
#include "bench/micro/stored_snapshot.h"
#include "bench/micro/temp_database.h"
#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_walk.h"

namespace {

using namespace corral;

/// The walk, the encoding and the checksum only.
void BM_SnapshotWalk(benchmark::State& state) {
  tree::DataTree t;
  bench::fill_sample_tree(t, state.range(0));
  storage::SnapshotWalk walk;
  for (auto _ : state) {
    walk.restart();
    while (!walk.done()) {
      storage::SnapshotChunks chunks;
      walk.next_run(t, chunks);
      benchmark::DoNotOptimize(chunks.checksum());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(t.node_count()));
}
BENCHMARK(BM_SnapshotWalk)->Arg(100000)->Unit(benchmark::kMillisecond);

/// The first snapshot in a database: every chunk is written.
void BM_SnapshotWriteFirst(benchmark::State& state) {
  tree::DataTree t;
  bench::fill_sample_tree(t, state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto temp = std::make_unique<bench::TempDatabase>();
    state.ResumeTiming();
    bench::write_snapshot(temp->db(), t);
    state.PauseTiming();
    temp.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(t.node_count()));
}
BENCHMARK(BM_SnapshotWriteFirst)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The next snapshot of a tree that did not change: no chunk is written again.
void BM_SnapshotWriteAgain(benchmark::State& state) {
  tree::DataTree t;
  bench::fill_sample_tree(t, state.range(0));
  bench::TempDatabase temp;
  bench::write_snapshot(temp.db(), t);
  for (auto _ : state) bench::write_snapshot(temp.db(), t);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(t.node_count()));
}
BENCHMARK(BM_SnapshotWriteAgain)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
