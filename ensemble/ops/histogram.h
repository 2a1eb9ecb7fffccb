// A fixed-bucket histogram for figures measured on the request path (latencies, batch sizes):
// one add() is a short scan of a small array, no allocation. It also keeps min and max, so the
// same data can be shown as ZooKeeper's summaries (count, sum, quantiles) and as Prometheus
// histograms. Not thread-safe: each one lives on the thread that records into it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>

namespace corral::ops {

/// Observations counted into at most kMaxBuckets fixed buckets, plus an overflow bucket.
class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 24;

  /// `upper_bounds`: the buckets' inclusive upper bounds, ascending, at most kMaxBuckets.
  Histogram(std::initializer_list<double> upper_bounds) {
    for (double b : upper_bounds) bounds_[size_++] = b;
  }

  /// Milliseconds, from 1 ms to a minute: request latencies, fsync and snapshot times.
  static Histogram milliseconds() {
    return Histogram{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 60000};
  }
  /// Counts per batch: group-commit sizes, queue depths.
  static Histogram counts() {
    return Histogram{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384};
  }

  /// Records one observation.
  void add(double value) {
    size_t i = 0;
    while (i < size_ && value > bounds_[i]) ++i;
    ++counts_[i];
    if (count_ == 0 || value < min_) min_ = value;
    if (count_ == 0 || value > max_) max_ = value;
    ++count_;
    sum_ += value;
  }

  /// Forgets every observation (srst), keeping the buckets.
  void reset() {
    counts_.fill(0);
    count_ = 0;
    sum_ = min_ = max_ = 0;
  }

  uint64_t count() const { return count_; }            ///< Observations recorded.
  double sum() const { return sum_; }                  ///< Their sum.
  double min() const { return min_; }                  ///< The smallest; 0 when empty.
  double max() const { return max_; }                  ///< The largest; 0 when empty.
  size_t buckets() const { return size_; }             ///< Buckets, not counting the overflow one.
  double bound(size_t i) const { return bounds_[i]; }  ///< Upper bound of bucket i.
  /// Observations at or below bound(i) (cumulative, as Prometheus' `le` buckets count).
  uint64_t cumulative(size_t i) const {
    uint64_t total = 0;
    for (size_t j = 0; j <= i; ++j) total += counts_[j];
    return total;
  }

  /// An estimate of quantile `q` (0..1): the upper bound of the bucket holding it, never above
  /// the largest observation; 0 when empty. Good to a bucket's width, which is what fixed
  /// buckets buy in exchange for a constant-time add().
  double quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(count_));
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < size_; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(bounds_[i], min_, max_);
    }
    return max_;
  }

 private:
  std::array<double, kMaxBuckets> bounds_{};
  std::array<uint64_t, kMaxBuckets + 1> counts_{};
  size_t size_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace corral::ops
