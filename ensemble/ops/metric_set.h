// A scrape's worth of metrics: named families of samples with a Prometheus type, built on the
// thread that owns the figures and rendered elsewhere (see prometheus_text.h).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/ops/histogram.h"

namespace corral::ops {

/// The Prometheus metric types Corral exports.
enum class MetricType { counter, gauge, summary, histogram };

/// One line of a family: `name` + `suffix` + `{labels}` + value.
struct Sample {
  std::string suffix;  ///< "", "_count", "_sum" or "_bucket".
  std::string labels;  ///< `quantile="0.5"` or `le="10"` (without braces), or empty.
  double value = 0;    ///< NaN for a quantile of an empty summary.
};

/// A metric family: a name, its help text, its type and its samples.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::gauge;
  std::vector<Sample> samples;
};

/// The families of one scrape, in the order they were added.
class MetricSet {
 public:
  /// A value that goes up and down.
  void gauge(std::string_view name, std::string_view help, double value);
  /// A value that only grows (until the server restarts or srst resets it).
  void counter(std::string_view name, std::string_view help, double value);
  /// `h` as a summary with the given quantiles (estimated from its buckets), as ZooKeeper's
  /// Prometheus provider exports its Summary metrics.
  void summary(std::string_view name, std::string_view help, const Histogram& h,
               std::initializer_list<double> quantiles);
  /// `h` as a Prometheus histogram; each bound is multiplied by `scale` (e.g. 0.001 to turn
  /// milliseconds into the seconds Prometheus names use).
  void histogram(std::string_view name, std::string_view help, const Histogram& h,
                 double scale = 1);

  /// The families added so far.
  const std::vector<MetricFamily>& families() const { return families_; }

 private:
  MetricFamily& add(std::string_view name, std::string_view help, MetricType type);

  std::vector<MetricFamily> families_;
};

/// Quantiles of ZooKeeper's ADVANCED summaries (readlatency, updatelatency, ...).
inline constexpr std::initializer_list<double> kAdvancedQuantiles = {0.5, 0.9, 0.99};
/// Quantiles of ZooKeeper's BASIC summaries (fsynctime, snapshottime, ...).
inline constexpr std::initializer_list<double> kBasicQuantiles = {0.5};

}  // namespace corral::ops
