// Building a tree from a snapshot's rows, as recovery does at every start and a learner does
// with a leader's SNAP: decode each node's record, check it, and add it to the tree.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/create_txn.h"
#include "ensemble/storage/state_image.h"
#include "ensemble/tree/data_tree.h"

namespace {

using namespace corral;

/// The image of a tree of `n` znodes of 100 bytes, 500 under each of n/500 parents.
storage::StateImage image_of(int64_t n) {
  tree::DataTree t;
  int64_t zxid = 0;
  auto create = [&](const std::string& path, size_t size) {
    t.apply(bench::create_txn(++zxid, path, size));
  };
  for (int64_t p = 0; p < n / 500; ++p) {
    std::string parent = "/p" + std::to_string(p);
    create(parent, 0);
    for (int64_t c = 0; c < 500; ++c) create(parent + "/c" + std::to_string(c), 100);
  }
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
