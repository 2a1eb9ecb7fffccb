// corral-bench's command line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace corral::bench {

/// What one run is asked to do.
struct Options {
  /// The ensemble: "host:port,host:port[/chroot]".
  std::string connect;
  /// Workloads in the order they run: create, set, get, mixed, multi, watch, churn, lock,
  /// latency.
  std::vector<std::string> workloads{"set"};
  /// Client sessions; session i connects to host i mod n of `connect` (unless !pin).
  int sessions = 6;
  /// Requests each session keeps in flight.
  int inflight = 100;
  /// Bytes of each value written.
  int value_size = 100;
  /// Nodes that set, get, mixed and multi spread over.
  int keys = 1000;
  /// The share of reads in the mixed workload.
  double read_ratio = 0.9;
  /// Measured seconds per workload (when ops is 0).
  double duration_s = 10;
  /// Measured operations per workload instead of a duration (0: use the duration).
  uint64_t ops = 0;
  /// Seconds each workload runs before measuring starts (excluded from every figure).
  double warmup_s = 2;
  /// Threads running the clients' I/O and callbacks.
  int threads = 1;
  /// Servers whose CPU time is sampled over the measured window.
  std::vector<pid_t> server_pids;
  /// Print JSON on stdout (the table then goes to stderr).
  bool json = false;
  /// Pin session i to host i mod n; otherwise each session gets the whole connect string.
  bool pin = true;
  /// Asked of the server for each session.
  int session_timeout_ms = 10000;
  /// Where the run's nodes go (a child per run, removed afterwards unless keep).
  std::string root = "/corral-bench";
  /// Leave the run's nodes behind.
  bool keep = false;
};

/// Every workload name, in the order "all" runs them.
const std::vector<std::string>& workload_names();

/// Why parse_options gave no Options: a usage error, or the help text when help is true.
struct ParseError {
  std::string message;
  bool help = false;
};

/// Parses argv, checking every value and that the combination makes sense.
std::variant<Options, ParseError> parse_options(int argc, char** argv);

/// The help text.
std::string usage();

}  // namespace corral::bench
