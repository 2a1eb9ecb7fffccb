// A real corral-server process for the end-to-end tests: a temp directory of its own with
// zoo.cfg, data/ and the server's output; started on a loopback port and waited for with a
// deadline, stopped with SIGTERM or killed with SIGKILL; the directory removed afterwards.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace corral::e2e {

/// A port nobody listens on right now (the kernel's pick for a bound port 0); 0 on failure.
uint16_t free_port();

/// The whole file, or empty if it cannot be read.
std::string read_file(const std::filesystem::path& p);

/// "exit 3" or "signal 9" for a waitpid status.
std::string status_text(int status);

/// corral-server (CORRAL_SERVER_BIN) over one directory, which outlives restarts.
class ServerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  /// Where the server's stdout and stderr go, in dir().
  enum class Output {
    kLog,        ///< both to server.log, emptied at each launch
    kLogAppend,  ///< both to server.log, kept across launches
    kSplit,      ///< stdout to server.log, stderr to server.err, both emptied at each launch
  };

  /// How the server is configured and how long it gets.
  struct Options {
    /// Where its output goes.
    Output output = Output::kLog;
    /// zoo.cfg's tickTime.
    int tick_ms = 2000;
    /// How long start() waits for "serving on", and start_expecting_exit() for the exit.
    std::chrono::milliseconds start_timeout{15000};
    /// How long terminate() waits after SIGTERM before it sends SIGKILL.
    std::chrono::milliseconds stop_timeout{5000};
  };

  /// What wait_until() saw.
  enum class Wait { kReady, kExited, kTimeout };

  /// Makes a fresh directory `<temp dir>/<name>.XXXXXX` with data/ in it; dir() is empty if
  /// that failed. Nothing runs yet.
  ServerProcess(std::string_view name, Options options);
  /// Kills the process if it still runs, and removes the directory unless keep_dir() was called.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// The directory: zoo.cfg, data/, server.log (and server.err).
  const std::filesystem::path& dir() const { return dir_; }
  /// zoo.cfg's dataDir.
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  /// The server's SQLite database in data_dir().
  std::filesystem::path db_file() const { return data_dir() / "corral.db"; }
  /// The client port of the latest configure().
  uint16_t port() const { return port_; }
  /// "127.0.0.1:port", as clients take it.
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  /// The running process, or -1.
  pid_t pid() const { return pid_; }
  /// The waitpid status of the latest run that ended.
  int exit_status() const { return exit_status_; }
  /// What the server wrote to stdout (and stderr, unless Output::kSplit).
  std::string log() const;
  /// What the server wrote to stderr with Output::kSplit; empty otherwise.
  std::string err() const;
  /// What the server wrote since the latest launch() (stdout and stderr).
  std::string output_since_launch() const;
  /// Leaves the directory behind when this object goes, for a look afterwards.
  void keep_dir() { keep_dir_ = true; }

  /// Writes zoo.cfg: tickTime, dataDir, clientPort `port` on 127.0.0.1, then the `extra` lines.
  void configure(uint16_t port, const std::string& extra);
  /// Forks and execs the server on zoo.cfg; false if it could not fork. The child is killed
  /// when this process dies.
  bool launch();
  /// Polls `ready` every `interval` until it holds (kReady), the process has exited (kExited)
  /// or `timeout` passed (kTimeout).
  Wait wait_until(const std::function<bool()>& ready, Clock::duration timeout,
                  Clock::duration interval = std::chrono::milliseconds(10));
  /// True when the latest run ended because its port was taken ("cannot listen").
  bool port_was_taken() const;

  /// Configures a free port with `extra` zoo.cfg lines, launches the server and waits until
  /// it logged "serving on". Tries again with another port (5 tries in all) if the chosen one
  /// was taken meanwhile. False if it exits otherwise, or does not serve within
  /// start_timeout (then it is left running).
  bool start(const std::string& extra);
  /// Configures a free port and launches the server expecting it to refuse: its exit code
  /// (128 + the signal if one ended it), or nullopt if it still runs after start_timeout
  /// (then it is killed).
  std::optional<int> start_expecting_exit(const std::string& extra);
  /// SIGTERM, then waits up to stop_timeout; true if it exited with status 0. SIGKILL if it
  /// did not stop in time (and false).
  bool terminate();
  /// SIGKILL and reap: no chance to flush or close anything. True if the process was still
  /// running (it had not died by itself).
  bool kill_now();
  /// True while the process has not exited (it is reaped once it has).
  bool running();

 private:
  std::filesystem::path dir_;
  Options options_;
  bool keep_dir_ = false;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = 0;
  size_t log_offset_ = 0;  // the size of server.log when the latest run was launched
};

}  // namespace corral::e2e
