// One nemesis run: an ensemble in network namespaces, the clients of workload.h and churn.h,
// the seeded faults of faults.h, then every member healed and the checks of history.h and
// checks.h run over what the clients saw and what each server holds at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace corral::nemesis {

/// What to run.
struct RunConfig {
  int members = 3;
  uint64_t seed = 1;
  /// The faults' total time (the run takes longer: start, recovery waits, final checks).
  std::chrono::milliseconds duration{10000};
  int register_clients = 3;
};

/// What happened.
struct RunReport {
  /// Setup or liveness problems (the ensemble never served, no quorum after heal).
  std::vector<std::string> errors;
  /// Safety violations found by the checkers.
  std::vector<std::string> violations;
  /// The schedule as applied, recovery times and counts, for the test's output.
  std::string log;
  /// The ensemble's state and log tails, when something failed.
  std::string cluster_state;
};

/// Runs it (needs root, `ip netns` and iptables: see netns.h's unavailable_reason()).
RunReport run_nemesis(const RunConfig& config);

}  // namespace corral::nemesis
