// corral-bench's arithmetic and parsing, without servers: the percentiles it prints, the
// command line it accepts and refuses, how sessions are pinned to hosts, and the CPU time and
// bytes written it reads from /proc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/corral_bench/latency.h"
#include "bench/corral_bench/options.h"
#include "bench/corral_bench/sessions.h"
#include "bench/corral_bench/usage.h"

namespace corral::bench {
namespace {

std::variant<Options, ParseError> parse(std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("corral-bench")};
  for (auto& a : args) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(Percentiles, NearestRankOverAThousandValues) {
  LatencyRecorder r;
  // 1..1000 microseconds, recorded out of order.
  for (int64_t i = 1000; i >= 1; --i) r.record(i * 1000);
  auto s = r.summarise();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.p50_us, 500);
  EXPECT_DOUBLE_EQ(s.p99_us, 990);
  EXPECT_DOUBLE_EQ(s.p999_us, 999);
  EXPECT_DOUBLE_EQ(s.max_us, 1000);
  EXPECT_DOUBLE_EQ(s.mean_us, 500.5);
}

TEST(Percentiles, OneSlowOperationInAHundredShowsOnlyAboveP99) {
  LatencyRecorder a, b;
  for (int i = 0; i < 99; ++i) a.record(100'000);
  b.record(50'000'000);
  a.merge(std::move(b));
  auto s = a.summarise();
  EXPECT_DOUBLE_EQ(s.p50_us, 100);
  EXPECT_DOUBLE_EQ(s.p99_us, 100);
  EXPECT_DOUBLE_EQ(s.p999_us, 50'000);
  EXPECT_EQ(b.count(), 0u);
}

TEST(Percentiles, NothingRecordedIsAllZero) {
  LatencyRecorder r;
  auto s = r.summarise();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p999_us, 0);
}

TEST(BenchOptions, ReadsEveryOption) {
  auto v = parse({"--connect",     "a:1,b:2/x", "--workload", "get,lock",
                  "--sessions",    "12",        "--inflight", "3",
                  "--value-size",  "0",         "--keys",     "7",
                  "--read-ratio",  "0.5",       "--ops",      "1000",
                  "--warmup",      "0",         "--threads",  "2",
                  "--server-pids", "10,20",     "--json",     "--no-pin",
                  "--keep",        "--root",    "/b",         "--session-timeout-ms",
                  "4000"});
  ASSERT_TRUE(std::holds_alternative<Options>(v)) << std::get<ParseError>(v).message;
  auto o = std::get<Options>(v);
  EXPECT_EQ(o.connect, "a:1,b:2/x");
  EXPECT_EQ(o.workloads, (std::vector<std::string>{"get", "lock"}));
  EXPECT_EQ(o.sessions, 12);
  EXPECT_EQ(o.inflight, 3);
  EXPECT_EQ(o.value_size, 0);
  EXPECT_EQ(o.keys, 7);
  EXPECT_DOUBLE_EQ(o.read_ratio, 0.5);
  EXPECT_EQ(o.ops, 1000u);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.server_pids, (std::vector<pid_t>{10, 20}));
  EXPECT_TRUE(o.json);
  EXPECT_FALSE(o.pin);
  EXPECT_TRUE(o.keep);
  EXPECT_EQ(o.root, "/b");
  EXPECT_EQ(o.session_timeout_ms, 4000);
}

TEST(BenchOptions, AllRunsEveryWorkload) {
  auto v = parse({"--connect", "h:1", "--workload", "all"});
  ASSERT_TRUE(std::holds_alternative<Options>(v));
  EXPECT_EQ(std::get<Options>(v).workloads.size(), 9u);
}

TEST(BenchOptions, RefusesWhatMakesNoSense) {
  for (std::vector<std::string> bad : {
           std::vector<std::string>{"--workload", "set"},               // no --connect
           {"--connect", "h:1", "--workload", "sett"},                  // unknown workload
           {"--connect", "h:1", "--sessions", "0"},                     // no session
           {"--connect", "h:1", "--inflight", "x"},                     // not a number
           {"--connect", "h:1", "--read-ratio", "1.5"},                 // above 1
           {"--connect", "h:1", "--server-pids", "12,-3"},              // bad pid
           {"--connect", "h:1", "--workload", "multi", "--keys", "4"},  // 5 distinct keys
           {"--connect", "h:1", "--root", "/"},                         // not a child
           {"--connect", "h:1", "--bogus"},                             // unknown flag
           {"--connect"},                                               // value missing
       }) {
    auto v = parse(bad);
    EXPECT_TRUE(std::holds_alternative<ParseError>(v)) << bad.back();
  }
  auto help = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<ParseError>(help));
  EXPECT_TRUE(std::get<ParseError>(help).help);
}

TEST(BenchSessions, PinsSessionIToHostIModN) {
  Options o;
  o.connect = "a:1,b:2,c:3/root";
  o.threads = 1;
  SessionPool pool(o);
  EXPECT_EQ(pool.connect_string_for(0), "a:1/root");
  EXPECT_EQ(pool.connect_string_for(4), "b:2/root");
  EXPECT_EQ(pool.connect_string_for(5), "c:3/root");
  o.pin = false;
  EXPECT_EQ(pool.connect_string_for(4), "a:1,b:2,c:3/root");
}

TEST(BenchUsage, ReadsThisProcessCpuAndRefusesAMissingOne) {
  auto before = process_cpu_seconds(getpid());
  ASSERT_TRUE(before.has_value());
  // Burn CPU until a clock tick is charged to this process (a few at most; 5 s is a bound).
  std::optional<double> after;
  volatile uint64_t x = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    for (int i = 0; i < 1'000'000; ++i) x = x + 1;
    after = process_cpu_seconds(getpid());
  } while (after && *after == *before && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(*after, *before);
  EXPECT_LT(*after - *before, 10);  // seconds, not clock ticks

  UsageSampler gone({getpid(), 0x3fffffff});
  EXPECT_TRUE(gone.start().has_value());
}

TEST(BenchUsage, ReadsWriteBytesFromProcIo) {
  std::istringstream io(
      "rchar: 5\nwchar: 7\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 12288\n"
      "cancelled_write_bytes: 4096\n");
  EXPECT_EQ(parse_write_bytes(io), 12288u);
  std::istringstream none("rchar: 5\ncancelled_write_bytes: 4096\n");
  EXPECT_FALSE(parse_write_bytes(none).has_value());
}

TEST(BenchUsage, CountsTheBytesThisProcessWritesToAFile) {
  // In the test's working directory (the build tree, on a disk): a tmpfs keeps no such count.
  const std::string file = "bench_usage_write_test.tmp";
  UsageSampler usage({getpid()});
  ASSERT_FALSE(usage.start().has_value());
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << std::string(256 * 1024, 'x');
  }
  ASSERT_FALSE(usage.stop().has_value());
  std::remove(file.c_str());
  ASSERT_TRUE(usage.write_bytes().has_value());
  EXPECT_GE(*usage.write_bytes(), 256u * 1024);

  UsageSampler gone({getpid(), 0x3fffffff});
  (void)gone.start();
  (void)gone.stop();
  EXPECT_FALSE(gone.write_bytes().has_value()) << "a figure for only some servers would mislead";
  EXPECT_FALSE(process_write_bytes(0x3fffffff).has_value());
}

}  // namespace
}  // namespace corral::bench
