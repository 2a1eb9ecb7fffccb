// Prometheus' text exposition format, version 0.0.4 (what /metrics answers).
#pragma once

#include <string>
#include <vector>

#include "ensemble/ops/metric_set.h"

namespace corral::ops {

/// The Content-Type of a scrape's answer.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A sample value as the format writes it: shortest round-trip decimal, NaN, +Inf or -Inf.
std::string format_value(double value);

/// `families` as the text format: for each a `# HELP` and a `# TYPE` line, then its samples.
std::string render_prometheus(const std::vector<MetricFamily>& families);

}  // namespace corral::ops
