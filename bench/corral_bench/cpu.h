// The servers' CPU time over the measured window, from /proc/PID/stat.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace corral::bench {

/// utime + stime of process `pid` in seconds, or nothing when /proc/PID/stat cannot be read
/// (the process is gone, or this is not Linux).
std::optional<double> process_cpu_seconds(pid_t pid);

/// CPU seconds each server spent between start() and stop().
class CpuSampler {
 public:
  /// Samples `pids` (may be empty: then everything reports zero).
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

 private:
  std::optional<std::string> sample(std::vector<double>& into);

  std::vector<pid_t> pids_;
  std::vector<double> before_;
  std::vector<double> after_;
};

}  // namespace corral::bench
