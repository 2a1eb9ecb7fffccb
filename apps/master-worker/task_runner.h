// The task kinds a worker runs (apps/master-worker/DESIGN.md, "Znodes"):
//   sleep  ARG ms, result "slept ARG ms"
//   hash   SHA-256 of ARG bytes of the fixed pattern (byte i is i mod 256), result the hex digest
//   fail   always fails, result "failed on purpose"
//   shell  /bin/sh -c ARG in a process group of its own, result its stdout (at most 4 KiB);
//          fails on a non-zero exit. Refused (failed) unless the runner allows shell.
// Sleeps run on the io executor's timers; hashes and shells on a thread pool of their own.
// A running task can be cancelled: its sleep or hash is abandoned, its shell's process group
// killed, and its completion is never called.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace corral::mw {

/// How a task ended.
struct TaskOutcome {
  /// True for done, false for failed.
  bool ok = false;
  /// The result or the error (at most kMaxResultBytes).
  std::string result;
};

/// The hex SHA-256 of `bytes` bytes of the hash pattern (byte i is i mod 256); what a `hash`
/// task's result must be. Stops early (returning "") once `*cancelled` is set.
std::string pattern_digest(uint64_t bytes, const std::atomic<bool>* cancelled = nullptr);

/// A task being run; cancel() abandons it.
class RunningTask {
 public:
  virtual ~RunningTask() = default;
  /// Stops the task (kills a shell's process group); its completion is not called.
  virtual void cancel() = 0;
};

/// Runs tasks of every kind.
class TaskRunner {
 public:
  /// Completions are posted to `executor`; `threads` run hashes and shells (one per slot).
  TaskRunner(asio::any_io_executor executor, int threads, bool allow_shell);
  /// Cancels nothing by itself (cancel the tasks first); waits for the pool's threads.
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  /// Starts a task; `done` is called once on the executor with its outcome, unless it was
  /// cancelled first. Unknown kinds and bad args end failed.
  std::shared_ptr<RunningTask> run(const std::string& kind, const std::string& arg,
                                   std::function<void(TaskOutcome)> done);

 private:
  asio::any_io_executor executor_;
  asio::thread_pool pool_;
  bool allow_shell_;
};

}  // namespace corral::mw
