// Building a tree from a snapshot's rows, as recovery does at every start and a learner does
// with a leader's SNAP: decode each node's record, check it, and add it to the tree.
#include <benchmark/benchmark.h>

#include "bench/micro/sample_tree.h"
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

}  // namespace
