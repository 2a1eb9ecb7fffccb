// The server's figures as Prometheus metrics: ZooKeeper 3.8's names and types (those its
// PrometheusMetricsProvider exports, so ZooKeeper dashboards work unchanged) for what Corral
// measures, plus Corral's own, prefixed `corral_`.
#pragma once

#include "ensemble/ops/metric_set.h"
#include "ensemble/server/admin/ops_view.h"

namespace corral::server {

/// Every metric, read now. Runs on the core's thread.
ops::MetricSet collect_metrics(const OpsView& view);

}  // namespace corral::server
