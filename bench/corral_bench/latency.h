// Latencies of one workload's operations and their exact percentiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace corral::bench {

/// p50/p99/p99.9 and friends of a set of latencies, in microseconds.
struct LatencySummary {
  uint64_t count = 0;
  double mean_us = 0;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

/// Every recorded latency, kept whole (8 bytes an operation) so that percentiles are exact at
/// the steady clock's resolution rather than a histogram's bucket width. One recorder per
/// lane of operations, so recording takes no lock; merged once the run is over.
class LatencyRecorder {
 public:
  /// Adds one latency in nanoseconds.
  void record(int64_t ns) { ns_.push_back(ns); }
  /// Makes room for `n` latencies, so recording them does not grow the store meanwhile.
  void reserve(size_t n) { ns_.reserve(n); }
  /// Moves every latency of `other` into this one.
  void merge(LatencyRecorder&& other);
  /// The number recorded so far.
  uint64_t count() const { return ns_.size(); }
  /// Sorts what was recorded and summarises it (all zeros when nothing was recorded).
  LatencySummary summarise();

 private:
  std::vector<int64_t> ns_;
};

/// The nearest-rank percentile `p` (0 < p <= 1) of ascending `sorted`: the smallest value
/// with at least p of all values at or below it. `sorted` must not be empty.
int64_t nearest_rank(const std::vector<int64_t>& sorted, double p);

}  // namespace corral::bench
