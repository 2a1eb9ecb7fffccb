// The end-to-end tests' shared world: one 3-server ensemble per test binary (corral-server or
// Apache ZooKeeper, from ENSEMBLE_IMPL), a directory for the processes' logs, a client to look
// at the tree, and helpers to start masters and workers and to submit tasks.
#pragma once

#include <corral/client/blocking.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/master-worker/layout.h"
#include "tests/e2e/ensemble.h"
#include "tests/mw/processes.h"

namespace corral::mw::test {

/// The session timeout the tests give masters and workers (ms).
inline constexpr int kSessionTimeoutMs = 4000;

/// The ensemble and its helpers (set up once per binary).
class World {
 public:
  static World& get();

  e2e::Ensemble& ensemble() { return *ensemble_; }
  std::string hosts() const { return ensemble_->connect_string(); }
  /// The client that looks at the tree (10 s sessions).
  client::BlockingClient& zk() { return *zk_; }
  /// Where processes log: dir/<name>.log.
  std::string log_path(const std::string& name) const;
  /// The directory of the logs (and of the dashboard's history database).
  const std::string& dir() const { return dir_; }

  /// A master (started) with `extra` arguments.
  std::unique_ptr<Process> master(const std::string& id, std::vector<std::string> extra = {});
  /// A worker (started).
  std::unique_ptr<Process> worker(const std::string& id, int slots);
  /// Runs `corral-mw submit`; the ids it printed (empty on failure).
  std::vector<std::string> submit(const std::string& kind, const std::string& arg, int count);

  /// The active master's id (first latch node's data), or "".
  std::string active_master();
  /// /status of each id that has one.
  std::map<std::string, TaskStatus> statuses(const std::vector<std::string>& ids);
  /// The children of `path` (empty on error).
  std::vector<std::string> children(const std::string& path);

  void set_up();
  void tear_down();

 private:
  std::unique_ptr<e2e::Ensemble> ensemble_;
  std::unique_ptr<client::BlockingClient> zk_;
  std::string dir_;
};

}  // namespace corral::mw::test
