// What the servers used over the measured window, and the client's own CPU: CPU time from
// /proc/PID/stat, bytes written to storage from /proc/PID/io.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace corral::bench {

/// utime + stime of process `pid` in seconds, or nothing when /proc/PID/stat cannot be read
/// (the process is gone, or this is not Linux).
std::optional<double> process_cpu_seconds(pid_t pid);

/// The bytes process `pid` has caused to be written to storage (write_bytes of /proc/PID/io:
/// counted as pages of the page cache turn dirty), or nothing when that cannot be read (the process
/// is gone, belongs to another user, or the kernel keeps no I/O accounting).
std::optional<uint64_t> process_write_bytes(pid_t pid);
/// The write_bytes line of a /proc/PID/io text, or nothing without one.
std::optional<uint64_t> parse_write_bytes(std::istream& proc_io);

/// CPU seconds each server spent between start() and stop(), the bytes they wrote to storage,
/// and this process's CPU: on a machine the client shares with the servers, its CPU bounds
/// what they can be driven to.
class UsageSampler {
 public:
  /// Samples `pids` (may be empty: then only the client is sampled).
  explicit UsageSampler(std::vector<pid_t> pids) : pids_(std::move(pids)) {}
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
  /// The bytes all the pids wrote to storage between start() and stop(); nothing when some
  /// pid's could not be read (a figure for only some servers would mislead). Not an error of
  /// start() or stop(): the CPU figures stand without it.
  std::optional<uint64_t> write_bytes() const { return write_bytes_; }
  /// This process's (the client's) CPU seconds between start() and stop().
  double client_seconds() const { return client_after_ - client_before_; }

 private:
  std::optional<std::string> sample(std::vector<double>& into);
  /// The pids' write_bytes together, or nothing when one cannot be read.
  std::optional<uint64_t> total_write_bytes() const;

  std::vector<pid_t> pids_;
  std::vector<double> before_;
  std::vector<double> after_;
  std::optional<uint64_t> write_bytes_before_;
  std::optional<uint64_t> write_bytes_;
  double client_before_ = 0;
  double client_after_ = 0;
};

}  // namespace corral::bench
