// The servers' CPU time over the measured window, and the client's own, from /proc/PID/stat.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace corral::bench {

/// utime + stime of process `pid` in seconds, or nothing when /proc/PID/stat cannot be read
/// (the process is gone, or this is not Linux).
std::optional<double> process_cpu_seconds(pid_t pid);

/// CPU seconds each server spent between start() and stop(), and this process's: on a machine
/// the client shares with the servers, its CPU bounds what they can be driven to.
class CpuSampler {
 public:
  /// Samples `pids` (may be empty: then only the client is sampled).
  explicit CpuSampler(std::vector<pid_t> pids) : pids_(std::move(pids)) {}
  /// Takes the first sample; an error naming the pid when one cannot be read.
  std::optional<std::string> start();
  /// Takes the second sample; an error naming the pid when one is gone.
  std::optional<std::string> stop();
  /// The pids sampled.
  const std::vector<pid_t>& pids() const { return pids_; }
  /// CPU seconds of each pid between start() and stop().
  std::vector<double> per_pid_seconds() const;
  /// Their sum.
  double total_seconds() const;
  /// This process's (the client's) CPU seconds between start() and stop().
  double client_seconds() const { return client_after_ - client_before_; }

 private:
  std::optional<std::string> sample(std::vector<double>& into);

  std::vector<pid_t> pids_;
  std::vector<double> before_;
  std::vector<double> after_;
  double client_before_ = 0;
  double client_after_ = 0;
};

}  // namespace corral::bench
