#include "bench/corral_bench/latency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace corral::bench {

void LatencyRecorder::merge(LatencyRecorder&& other) {
  ns_.insert(ns_.end(), other.ns_.begin(), other.ns_.end());
  other.ns_.clear();
  other.ns_.shrink_to_fit();
}

int64_t nearest_rank(const std::vector<int64_t>& sorted, double p) {
  // Rank ceil(p * n), 1-based; the epsilon keeps 0.99 * 100 from becoming 100.0000001.
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

LatencySummary LatencyRecorder::summarise() {
  LatencySummary s;
  if (ns_.empty()) return s;
  std::sort(ns_.begin(), ns_.end());
  auto us = [](int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  s.count = ns_.size();
  double sum = std::accumulate(ns_.begin(), ns_.end(), 0.0);
  s.mean_us = sum / static_cast<double>(ns_.size()) / 1000.0;
  s.p50_us = us(nearest_rank(ns_, 0.50));
  s.p99_us = us(nearest_rank(ns_, 0.99));
  s.p999_us = us(nearest_rank(ns_, 0.999));
  s.max_us = us(ns_.back());
  return s;
}

}  // namespace corral::bench
