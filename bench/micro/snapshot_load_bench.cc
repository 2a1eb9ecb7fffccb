// Building a tree from a snapshot's rows, as recovery does at every start (from the database)
// and a learner does with a leader's SNAP (from its image): decode each node's record, check
// it, and add it to the tree.
#include <benchmark/benchmark.h>

#include "bench/micro/sample_tree.h"
#include "bench/micro/stored_snapshot.h"
#include "bench/micro/temp_database.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/state_image.h"
#include "ensemble/tree/data_tree.h"

namespace {

using namespace corral;

/// The image of a tree of `n` znodes (sample_tree.h).
storage::StateImage image_of(int64_t n) {
  tree::DataTree t;
  bench::fill_sample_tree(t, n);
  return storage::capture_image(t, {});
}

void BM_LoadImage(benchmark::State& state) {
  const storage::StateImage image = image_of(state.range(0));
  for (auto _ : state) {
    tree::DataTree t;
    storage::load_image(image, t);
    benchmark::DoNotOptimize(t.node_count());
    state.PauseTiming();  // freeing the tree is not loading it
    { tree::DataTree gone = std::move(t); }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(image.nodes.size()));
}
BENCHMARK(BM_LoadImage)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

/// Recovery's load of a stored snapshot: its chunks read from SQLite, each row checksummed,
/// decoded and added.
void BM_LoadStoredSnapshot(benchmark::State& state) {
  bench::TempDatabase temp;
  {
    tree::DataTree t;
    bench::fill_sample_tree(t, state.range(0));
    bench::write_snapshot(temp.db(), t);
  }
  const storage::SnapshotInfo snap = temp.db().snapshots().front();
  for (auto _ : state) {
    tree::DataTree t;
    std::string problem;
    if (!storage::load_snapshot(temp.db(), snap, t, problem)) state.SkipWithError(problem.c_str());
    state.PauseTiming();
    { tree::DataTree gone = std::move(t); }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LoadStoredSnapshot)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
