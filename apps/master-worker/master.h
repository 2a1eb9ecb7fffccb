// The master (apps/master-worker/DESIGN.md, "The master"): a LeaderLatch contender on /master;
// while it leads, it rebuilds its view from the ensemble only, watches /workers, /tasks and each
// /assign/<worker>, assigns pending tasks (one multi per task, fenced by a check of its own
// latch node) and moves the tasks of vanished workers back to /tasks. It stops assigning at
// once when leadership is suspended or lost; after a lost session it starts over with a new
// Client and rejoins the election.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace corral::mw {

/// How a master runs.
struct MasterOptions {
  /// The ensemble's connect string.
  std::string zk;
  /// Its id in the election (the latch node's data); unique among masters.
  std::string id;
  /// Asked of the server for each session.
  std::chrono::milliseconds session_timeout{10000};
  /// Testing only: waits this long between deciding an assignment and sending its multi,
  /// without looking at leadership again, to show that a deposed master's writes are fenced.
  std::chrono::milliseconds test_assign_delay{0};
};

class MasterImpl;

/// One master process's election and assignment loop, on one single-threaded io_context.
class Master {
 public:
  /// A master running on `io` (which must run on one thread and outlive it).
  Master(asio::io_context& io, MasterOptions options);
  /// Call after stop() has completed and the io_context has returned.
  ~Master();
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  /// Connects and joins the election.
  void start();
  /// Stops assigning, resigns (its latch node goes), closes the session, then calls `done`
  /// on the io_context.
  void stop(std::function<void()> done);

 private:
  std::shared_ptr<MasterImpl> impl_;
};

}  // namespace corral::mw
