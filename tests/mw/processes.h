// corral-mw processes for the end-to-end tests: started with fork/exec (stdout and stderr to
// a log file), killed with SIGKILL, paused, stopped with SIGTERM, always reaped. Every wait
// polls a condition with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace corral::mw::test {

using Clock = std::chrono::steady_clock;

/// The corral-mw binary: $CORRAL_MW, else the build's.
std::string mw_binary();

/// Polls `done` every 50 ms until it is true (true) or `timeout` passes (false).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

/// A file's contents ("" if missing).
std::string read_file(const std::string& path);

/// Lines of `text` that contain `needle`.
size_t count_lines(const std::string& text, const std::string& needle);

/// One child process. Its stdout and stderr go to `log` (appended: restarts keep one log).
/// Killed with SIGKILL when the object goes, or when the test process dies.
class Process {
 public:
  Process(std::vector<std::string> args, std::string log);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Starts it (again); false if fork failed.
  bool start();
  /// SIGKILL, reaped.
  void kill9();
  /// SIGTERM, then SIGKILL after `grace`; the exit status (128+N for signal N).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  void pause();
  void resume();
  bool running();
  /// Its log so far.
  std::string log() const { return read_file(log_); }
  const std::string& log_path() const { return log_; }
  pid_t pid() const { return pid_; }

 private:
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

/// Runs a command to its end (or `timeout`, then SIGKILL); its stdout, and its exit status
/// in `status`. Its stderr goes to `log`.
std::string run_capture(const std::vector<std::string>& args, const std::string& log, int& status,
                        std::chrono::milliseconds timeout);

}  // namespace corral::mw::test
