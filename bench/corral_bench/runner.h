// Runs a lane workload: warm-up, then the measured window (a duration or a number of
// operations), then a drain in which the lanes finish what they started.
#pragma once

#include "bench/corral_bench/report.h"
#include "bench/corral_bench/workload.h"

namespace corral::bench {

/// What one run of a workload gave.
struct RunOutcome {
  WorkloadResult result;
  /// Operations each lane started (for the workload's cleanup).
  std::vector<uint64_t> issued;
  /// Set when operations never completed: their lanes may still be touched, so the caller
  /// must not destroy the workload or the sessions; it reports and exits.
  bool stuck = false;
  /// Set when a server pid's CPU could not be sampled.
  std::string usage_error;
};

/// Runs `workload` (already prepared) named `name` with ctx's options.
RunOutcome run_lanes(const std::string& name, Workload& workload, Context& ctx);

/// Nanoseconds on the steady clock.
int64_t now_ns();

}  // namespace corral::bench
