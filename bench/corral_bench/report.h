// What a workload's measured window produced, and how it is printed: a table for people and
// JSON for scripts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench/corral_bench/latency.h"
#include "bench/corral_bench/nodes.h"
#include "bench/corral_bench/options.h"
#include "bench/corral_bench/usage.h"

namespace corral::bench {

/// One workload's figures over its measured window (warm-up excluded).
struct WorkloadResult {
  std::string workload;
  /// Operations that succeeded within the window.
  uint64_t ops = 0;
  /// The window's length.
  double seconds = 0;
  /// Latencies of those operations.
  LatencySummary latency;
  /// Operations that failed, warm-up and drain included, by error code: never dropped.
  ErrorCounts errors;
  /// Connection losses and session expiries the sessions saw meanwhile.
  uint64_t connection_losses = 0;
  /// The sessions that expired (or were refused) by the end: their lanes stopped there.
  std::vector<size_t> sessions_lost;
  /// Each sampled server's CPU seconds over the window (empty without --server-pids).
  std::vector<pid_t> server_pids;
  std::vector<double> server_cpu_seconds;
  /// The bytes the sampled servers wrote to storage over the window, together (nothing
  /// without --server-pids, or when one's /proc/PID/io could not be read).
  std::optional<uint64_t> server_write_bytes;
  /// The client's (corral-bench's own) CPU seconds over the window.
  double client_cpu_seconds = 0;
  /// Figures particular to the workload (watch: rounds and the time to the last
  /// notification).
  std::map<std::string, double> extra;

  /// ops / seconds (0 for an empty window).
  double ops_per_sec() const;
  /// The servers' CPU seconds together.
  double total_cpu_seconds() const;
  /// ops per server CPU-second (0 without CPU figures).
  double ops_per_cpu_sec() const;
  /// Bytes the servers wrote to storage per operation (nothing without the figure or ops).
  std::optional<double> write_bytes_per_op() const;
  /// All errors together.
  uint64_t error_total() const;
};

/// Prints an aligned table, a row per workload, then every error code seen.
void print_table(std::ostream& out, const Options& options, const std::vector<WorkloadResult>& r);

/// Prints one JSON document with the run's settings and every workload's figures.
void print_json(std::ostream& out, const Options& options, const std::vector<WorkloadResult>& r);

}  // namespace corral::bench
