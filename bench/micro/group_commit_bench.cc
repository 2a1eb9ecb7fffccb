// Group commit: txns appended to the SQLite log in batches of 1..1000 per transaction (one
// fsync each), as the storage thread does. Items are txns, so items/s is the log's write rate
// for that batch size. The database lives in $TMPDIR; forceSync is on, as in production.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/micro/temp_database.h"
#include "ensemble/tree/txn.h"

namespace {

using namespace corral;

void BM_GroupCommit(benchmark::State& state) {
  bench::TempDatabase temp;
  std::vector<tree::Txn> batch(static_cast<size_t>(state.range(0)));
  for (auto& t : batch) {
    t.type = wire::OpCode::kSetData;
    tree::TxnOp op;
    op.type = wire::OpCode::kSetData;
    op.path = "/corral-bench/keys/k1";
    op.data.assign(100, 'x');
    t.ops.push_back(std::move(op));
  }
  int64_t zxid = int64_t{1} << 32;
  for (auto _ : state) {
    for (auto& t : batch) t.zxid = ++zxid;
    temp.db().append(batch);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GroupCommit)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

}  // namespace
