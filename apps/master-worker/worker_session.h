// One session of a worker (internal to worker.cc): its Client and the tasks it runs. A lost
// session is never reused: the worker makes a new one.
#pragma once

#include <corral/client/client.h>

#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "apps/master-worker/task_runner.h"

namespace corral::mw {

/// A worker's session; used on the io_context's one thread only.
struct WorkerSession : std::enable_shared_from_this<WorkerSession> {
  WorkerSession(asio::io_context& io, std::unique_ptr<client::Client> c)
      : client(std::move(c)), wake(io), suspended(io) {}

  std::unique_ptr<client::Client> client;
  client::StateSubscription subscription;

  /// Lost or stopping: nothing more is done with this session.
  bool ended = false;
  /// Something changed under /assign/<id>: the loop looks again.
  bool dirty = true;
  /// A child watch on /assign/<id> is pending.
  bool armed = false;
  /// Bumped each time the running tasks are abandoned; a task's steps stop when it changed.
  uint64_t epoch = 0;
  /// Tasks taken, by id (a null handle while its status is being written).
  std::map<std::string, std::shared_ptr<RunningTask>> running;
  /// Assignments found malformed (logged once, then skipped).
  std::set<std::string> malformed;
  /// Wakes the loop.
  asio::steady_timer wake;
  /// Runs while the connection is suspended; at the session timeout the tasks are stopped.
  asio::steady_timer suspended;

  /// Marks the view dirty and wakes the loop.
  void notify() {
    dirty = true;
    wake.cancel();
  }
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
  /// Waits `d` or until woken; true when the time ran out.
  asio::awaitable<bool> sleep(std::chrono::milliseconds d) {
    std::error_code ec;
    wake.expires_after(d);
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }
};

}  // namespace corral::mw
