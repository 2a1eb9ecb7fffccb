// The DataTree applying committed txns and answering lookups, as the core does for every
// write and read.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro/create_txn.h"
#include "ensemble/storage/incremental_snapshot.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"

namespace {

using namespace corral;
using bench::create_txn;

/// A tree with /b and `n` children of it, /b/n0 .. /b/n<n-1>, of 100 bytes each.
tree::DataTree tree_of(int64_t n, int64_t& zxid) {
  tree::DataTree t;
  t.apply(create_txn(++zxid, "/b", 0));
  for (int64_t i = 0; i < n; ++i) t.apply(create_txn(++zxid, "/b/n" + std::to_string(i), 100));
  return t;
}

/// `n` create txns of new children of /b (built outside the timed loop): c<first>.. with one
/// lane, else as corral-bench's create names them, c<lane>-<seq> with the lanes taking turns,
/// so that each insert lands in another part of the parent's names.
std::vector<tree::Txn> creates(int64_t first, int64_t n, int64_t lanes, int64_t& zxid) {
  std::vector<tree::Txn> out;
  for (int64_t i = first; i < first + n; ++i) {
    std::string name = lanes == 1 ? std::to_string(i)
                                  : std::to_string(i % lanes) + "-" + std::to_string(i / lanes);
    out.push_back(create_txn(++zxid, "/b/c" + name, 100));
  }
  return out;
}

/// Applies creates of new children of /b to `t`, one an iteration.
void apply_creates(benchmark::State& state, tree::DataTree& t, int64_t& zxid) {
  constexpr int64_t kBatch = 1 << 14;
  int64_t made = 0;
  std::vector<tree::Txn> batch;
  size_t next = 0;
  for (auto _ : state) {
    if (next == batch.size()) {
      // Building txns is the pipeline's work, not the tree's; pausing is costly, so rarely.
      state.PauseTiming();
      batch = creates(made, kBatch, state.range(1), zxid);
      made += kBatch;
      next = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(t.apply(batch[next++]));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_TreeApplyCreate(benchmark::State& state) {
  int64_t zxid = 0;
  tree::DataTree t = tree_of(state.range(0), zxid);
  apply_creates(state, t, zxid);
}
// Args: the children /b starts with, and the lanes naming the new ones.
BENCHMARK(BM_TreeApplyCreate)->Args({1000, 1})->Args({100000, 1})->Args({100000, 100});

/// As BM_TreeApplyCreate, every change told to the runs of a snapshot of the starting tree
/// (what a server's Snapshotter does between snapshots): the cost of keeping them.
void BM_TreeApplyCreateTracked(benchmark::State& state) {
  int64_t zxid = 0;
  tree::DataTree t = tree_of(state.range(0), zxid);
  storage::IncrementalSnapshot snapshot;
  snapshot.begin();
  while (!snapshot.done()) snapshot.next(t);
  snapshot.complete();
  t.set_change_listener([&](std::string_view path) { snapshot.changed(path); });
  apply_creates(state, t, zxid);
}
BENCHMARK(BM_TreeApplyCreateTracked)->Args({100000, 1})->Args({100000, 100});

void BM_TreeApplySetData(benchmark::State& state) {
  int64_t zxid = 0;
  tree::DataTree t = tree_of(state.range(0), zxid);
  std::vector<tree::Txn> txns;
  for (int64_t i = 0; i < 1024; ++i) {
    tree::Txn txn;
    txn.type = wire::OpCode::kSetData;
    tree::TxnOp op;
    op.type = wire::OpCode::kSetData;
    op.path = "/b/n" + std::to_string(i % state.range(0));
    op.data.assign(100, 'y');
    txn.ops.push_back(std::move(op));
    txns.push_back(std::move(txn));
  }
  size_t i = 0;
  int32_t version = 0;
  for (auto _ : state) {
    auto& txn = txns[i++ % txns.size()];
    txn.zxid = ++zxid;
    txn.ops[0].version = ++version;
    benchmark::DoNotOptimize(t.apply(txn));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeApplySetData)->Arg(1000)->Arg(100000);

void BM_TreeFind(benchmark::State& state) {
  int64_t zxid = 0;
  tree::DataTree t = tree_of(state.range(0), zxid);
  std::vector<std::string> paths;
  for (int64_t i = 0; i < 1024; ++i) paths.push_back("/b/n" + std::to_string(i % state.range(0)));
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(t.find(paths[i++ % paths.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeFind)->Arg(1000)->Arg(100000);

}  // namespace
