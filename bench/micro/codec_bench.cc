// The jute codec on the hot path: a setData request decoded as the server reads it, and a
// getData reply (header, data, Stat) encoded as the server answers.
#include <benchmark/benchmark.h>

#include <string>

#include "wire/jute.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace {

using namespace corral::wire;

std::string set_data_frame(size_t value_size) {
  std::string out;
  JuteWriter w(out);
  RequestHeader{7, static_cast<int32_t>(OpCode::kSetData)}.write(w);
  SetDataRequest req;
  req.path = "/corral-bench/keys/k123";
  req.data.assign(value_size, 'x');
  req.write(w);
  return out;
}

void BM_DecodeSetDataRequest(benchmark::State& state) {
  std::string frame = set_data_frame(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    JuteReader r(frame);
    auto header = RequestHeader::read(r);
    auto req = SetDataRequest::read(r);
    benchmark::DoNotOptimize(header);
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_DecodeSetDataRequest)->Arg(100)->Arg(4096);

void BM_EncodeGetDataReply(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'y');
  Stat stat;
  stat.czxid = stat.mzxid = stat.pzxid = 0x100000042;
  stat.data_length = static_cast<int32_t>(data.size());
  std::string out;
  for (auto _ : state) {
    out.clear();  // the capacity stays: one buffer per connection, as the server keeps it
    JuteWriter w(out);
    ReplyHeader{7, 0x100000042, 0}.write(w);
    w.buffer(data);
    stat.write(w);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeGetDataReply)->Arg(100)->Arg(4096);

void BM_StatRoundTrip(benchmark::State& state) {
  Stat stat;
  stat.czxid = 0x100000001;
  stat.version = 12;
  std::string out;
  for (auto _ : state) {
    out.clear();
    JuteWriter w(out);
    stat.write(w);
    JuteReader r(out);
    benchmark::DoNotOptimize(Stat::read(r));
  }
}
BENCHMARK(BM_StatRoundTrip);

}  // namespace
