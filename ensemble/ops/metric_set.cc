#include "ensemble/ops/metric_set.h"

#include <limits>

#include "ensemble/ops/prometheus_text.h"

namespace corral::ops {

MetricFamily& MetricSet::add(std::string_view name, std::string_view help, MetricType type) {
  families_.push_back(MetricFamily{std::string(name), std::string(help), type, {}});
  return families_.back();
}

void MetricSet::gauge(std::string_view name, std::string_view help, double value) {
  add(name, help, MetricType::gauge).samples.push_back({"", "", value});
}

void MetricSet::counter(std::string_view name, std::string_view help, double value) {
  add(name, help, MetricType::counter).samples.push_back({"", "", value});
}

void MetricSet::summary(std::string_view name, std::string_view help, const Histogram& h,
                        std::initializer_list<double> quantiles) {
  MetricFamily& f = add(name, help, MetricType::summary);
  for (double q : quantiles) {
    // No observations, no quantile: NaN, as Prometheus client libraries report it.
    double value = h.count() ? h.quantile(q) : std::numeric_limits<double>::quiet_NaN();
    f.samples.push_back({"", "quantile=\"" + format_value(q) + "\"", value});
  }
  f.samples.push_back({"_count", "", static_cast<double>(h.count())});
  f.samples.push_back({"_sum", "", h.sum()});
}

void MetricSet::histogram(std::string_view name, std::string_view help, const Histogram& h,
                          double scale) {
  MetricFamily& f = add(name, help, MetricType::histogram);
  for (size_t i = 0; i < h.buckets(); ++i) {
    f.samples.push_back({"_bucket", "le=\"" + format_value(h.bound(i) * scale) + "\"",
                         static_cast<double>(h.cumulative(i))});
  }
  f.samples.push_back({"_bucket", "le=\"+Inf\"", static_cast<double>(h.count())});
  f.samples.push_back({"_count", "", static_cast<double>(h.count())});
  f.samples.push_back({"_sum", "", h.sum() * scale});
}

}  // namespace corral::ops
