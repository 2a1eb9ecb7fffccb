// The metrics building blocks: fixed-bucket histograms, summaries and histograms as metric
// families, and Prometheus' text format.
#include <gtest/gtest.h>

#include <cmath>

#include "ensemble/ops/histogram.h"
#include "ensemble/ops/metric_set.h"
#include "ensemble/ops/prometheus_text.h"

namespace corral::ops {
namespace {

TEST(Histogram, CountsSumMinMaxAndCumulativeBuckets) {
  Histogram h{1, 10, 100};
  for (double v : {0.5, 3.0, 7.0, 50.0, 500.0}) h.add(v);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_DOUBLE_EQ(h.sum(), 560.5);
  EXPECT_DOUBLE_EQ(h.min(), 0.5);
  EXPECT_DOUBLE_EQ(h.max(), 500.0);
  EXPECT_EQ(h.cumulative(0), 1u);  // <= 1
  EXPECT_EQ(h.cumulative(1), 3u);  // <= 10
  EXPECT_EQ(h.cumulative(2), 4u);  // <= 100; 500 only in the overflow bucket
}

TEST(Histogram, QuantileIsTheBucketBoundClampedToWhatWasSeen) {
  Histogram h{1, 10, 100};
  EXPECT_EQ(h.quantile(0.5), 0);  // empty
  for (int i = 0; i < 90; ++i) h.add(5);
  for (int i = 0; i < 10; ++i) h.add(60);
  EXPECT_DOUBLE_EQ(h.quantile(0.5), 10);
  EXPECT_DOUBLE_EQ(h.quantile(0.9), 10);
  EXPECT_DOUBLE_EQ(h.quantile(0.99), 60);  // bucket bound 100, clamped to the max seen
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.cumulative(2), 0u);
}

TEST(PrometheusText, GaugeCounterAndEscapedHelp) {
  MetricSet m;
  m.gauge("znode_count", "Znodes\nin the tree \\ all", 5);
  m.counter("corral_things_total", "Things", 1.5);
  EXPECT_EQ(render_prometheus(m.families()),
            "# HELP znode_count Znodes\\nin the tree \\\\ all\n"
            "# TYPE znode_count gauge\n"
            "znode_count 5\n"
            "# HELP corral_things_total Things\n"
            "# TYPE corral_things_total counter\n"
            "corral_things_total 1.5\n");
}

TEST(PrometheusText, SummaryHasQuantilesCountAndSumAndNaNWhenEmpty) {
  Histogram h = Histogram::milliseconds();
  MetricSet m;
  m.summary("readlatency", "Reads", h, kAdvancedQuantiles);
  EXPECT_EQ(render_prometheus(m.families()),
            "# HELP readlatency Reads\n"
            "# TYPE readlatency summary\n"
            "readlatency{quantile=\"0.5\"} NaN\n"
            "readlatency{quantile=\"0.9\"} NaN\n"
            "readlatency{quantile=\"0.99\"} NaN\n"
            "readlatency_count 0\n"
            "readlatency_sum 0\n");
  h.add(3);
  MetricSet again;
  again.summary("fsynctime", "Fsyncs", h, kBasicQuantiles);
  EXPECT_EQ(render_prometheus(again.families()),
            "# HELP fsynctime Fsyncs\n"
            "# TYPE fsynctime summary\n"
            "fsynctime{quantile=\"0.5\"} 3\n"
            "fsynctime_count 1\n"
            "fsynctime_sum 3\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeAndScaled) {
  Histogram h{1, 10};
  h.add(0.5);
  h.add(5);
  h.add(50);
  MetricSet m;
  m.histogram("corral_commit_seconds", "Commits", h, 0.001);
  EXPECT_EQ(render_prometheus(m.families()),
            "# HELP corral_commit_seconds Commits\n"
            "# TYPE corral_commit_seconds histogram\n"
            "corral_commit_seconds_bucket{le=\"0.001\"} 1\n"
            "corral_commit_seconds_bucket{le=\"0.01\"} 2\n"
            "corral_commit_seconds_bucket{le=\"+Inf\"} 3\n"
            "corral_commit_seconds_count 3\n"
            "corral_commit_seconds_sum 0.0555\n");
}

TEST(PrometheusText, ValuesUseShortestFormAndSpecialNames) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-1), "-1");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
}

}  // namespace
}  // namespace corral::ops
