// Ephemeral churn: owners (nemesis_owner processes, one session each) come and go while the
// faults run. Each creates two ephemerals under /eph, holds them a little, then either closes
// its session or is killed with SIGKILL (its session left to expire). Every session is
// recorded as an EphemeralSession with when it ended; a survivor started at the end stays
// alive for the final check.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/nemesis/checks.h"

namespace corral::nemesis {

/// The parent of every ephemeral.
constexpr const char* kEphemeralRoot = "/eph";

/// One nemesis_owner process and the pipes to it.
class OwnerProcess {
 public:
  /// Starts an owner of `paths` on `connect_string` with that session timeout; check pid().
  OwnerProcess(const std::string& connect_string, int session_timeout_ms,
               const std::vector<std::string>& paths);
  /// Kills it if it still runs.
  ~OwnerProcess();
  OwnerProcess(const OwnerProcess&) = delete;
  OwnerProcess& operator=(const OwnerProcess&) = delete;

  /// The process, or -1 if it could not start or was killed.
  pid_t pid() const { return pid_; }
  /// Reads its report up to "ready" (or "noconnect", or the deadline); fills the session.
  /// True when it got to "ready".
  bool wait_ready(Clock::time_point deadline, EphemeralSession& session, int& granted_ms);
  /// Asks it to close its session; true if it answered "closed 0" by the deadline.
  bool close_session(Clock::time_point deadline);
  /// SIGKILL and reap.
  void kill9();

 private:
  bool read_line(Clock::time_point deadline, std::string& line);

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
};

/// One thread of owners, one after another, until stop().
class EphemeralChurn {
 public:
  /// Starts the thread: owners on `connect_string`, hold times and endings drawn from `seed`.
  EphemeralChurn(std::string connect_string, uint64_t seed);
  /// Stops the thread.
  ~EphemeralChurn();
  EphemeralChurn(const EphemeralChurn&) = delete;
  EphemeralChurn& operator=(const EphemeralChurn&) = delete;

  /// Stops the thread; the current owner is killed (its session ends now).
  void stop();
  /// Starts an owner that stays alive (for the final check); false if it did not get ready.
  bool start_survivor(const std::string& connect_string);
  /// Every session so far.
  std::vector<EphemeralSession> sessions() const;
  /// The longest session timeout the servers granted a churned owner.
  int max_timeout_ms() const { return max_timeout_ms_; }

 private:
  void loop(uint64_t seed);
  void record(const EphemeralSession& s, int granted_ms);

  std::string connect_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<EphemeralSession> sessions_;
  std::atomic<int> max_timeout_ms_{0};
  std::unique_ptr<OwnerProcess> survivor_;
  int next_owner_ = 0;
  std::thread thread_;
};

}  // namespace corral::nemesis
