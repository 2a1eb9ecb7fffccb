// A worker (apps/master-worker/DESIGN.md, "The worker"): registers /workers/<id> (ephemeral,
// with host and slots) and /assign/<id>, watches /assign/<id>, runs up to `slots` tasks at once
// in id order, records each run in /status/<task> by compare-and-set, then deletes the
// assignment. When its session is lost (or suspended for longer than the session timeout) it
// stops its running tasks, then rejoins under a new session with the same id.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace corral::mw {

/// How a worker runs.
struct WorkerOptions {
  /// The ensemble's connect string.
  std::string zk;
  /// Its id: /workers/<id>, /assign/<id>.
  std::string id;
  /// Tasks run at once (>= 1).
  int slots = 1;
  /// Runs `shell` tasks (/bin/sh -c ARG); without it they fail, refused.
  bool allow_shell = false;
  /// Asked of the server for each session.
  std::chrono::milliseconds session_timeout{10000};
};

class WorkerImpl;

/// One worker process's registration and task loop, on one single-threaded io_context.
class Worker {
 public:
  /// A worker running on `io` (which must run on one thread and outlive it).
  Worker(asio::io_context& io, WorkerOptions options);
  /// Call after stop() has completed and the io_context has returned.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Connects, registers and starts taking tasks.
  void start();
  /// Abandons running tasks (shell children killed), closes the session (so /workers/<id>
  /// goes at once and the master reassigns what was left), then calls `done` on the
  /// io_context.
  void stop(std::function<void()> done);

 private:
  std::shared_ptr<WorkerImpl> impl_;
};

}  // namespace corral::mw
