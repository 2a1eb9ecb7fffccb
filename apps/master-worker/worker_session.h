// One session of a worker (internal to worker.cc): its Client and the tasks it runs. A lost
// session is never reused: the worker makes a new one.
#pragma once

#include <asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "apps/master-worker/session.h"
#include "apps/master-worker/task_runner.h"

namespace corral::mw {

/// A worker's session; used on the io_context's one thread only.
struct WorkerSession : Session, std::enable_shared_from_this<WorkerSession> {
  WorkerSession(asio::io_context& io, const std::string& zk, std::chrono::milliseconds timeout)
      : Session(io, zk, timeout), suspended(io) {}

  /// A child watch on /assign/<id> is pending.
  bool armed = false;
  /// Bumped each time the running tasks are abandoned; a task's steps stop when it changed.
  uint64_t epoch = 0;
  /// Tasks taken, by id (a null handle while its status is being written).
  std::map<std::string, std::shared_ptr<RunningTask>> running;
  /// Assignments found malformed (logged once, then skipped).
  std::set<std::string> malformed;
  /// Runs while the connection is suspended; at the session timeout the tasks are stopped.
  asio::steady_timer suspended;

  /// Stops every running task (their completions are dropped); how many there were.
  size_t abandon() {
    ++epoch;
    size_t n = running.size();
    for (auto& [id, task] : running)
      if (task) task->cancel();
    running.clear();
    return n;
  }
  /// Ends the session: tasks stopped, loop ended.
  size_t end() {
    ended = true;
    suspended.cancel();
    wake.cancel();
    return abandon();
  }
};

}  // namespace corral::mw
