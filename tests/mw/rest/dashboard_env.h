// What the REST tests share: a 3-server Corral ensemble, one `corral-mw dashboard` process on
// a free port (restartable on the same history database), a Corral client that plays the
// masters, workers and tasks by writing their znodes directly, and waiting on conditions.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/master-worker/layout.h"
#include "corral/client/blocking.h"
#include "tests/e2e/ensemble.h"
#include "tests/mw/rest/http_client.h"

namespace corral::mw::test {

/// Polls `condition` every 25 ms until it holds (true) or `timeout` passes (false).
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// The ensemble, the dashboard and a client, for a whole test suite.
class DashboardEnv {
 public:
  /// Starts the ensemble and the dashboard; check ok() and error().
  DashboardEnv();
  /// Stops the dashboard (SIGTERM) and the ensemble.
  ~DashboardEnv();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// Starts the dashboard (on the same port and database as before); false if it does
  /// not answer /api/summary within 30 s.
  bool start_dashboard();
  /// SIGTERM, then SIGKILL after 10 s; true if it exited by itself with status 0.
  bool stop_dashboard();
  /// The dashboard's stderr so far.
  std::string dashboard_log() const;

  uint16_t port() const { return port_; }
  /// The dashboard's process id (-1 when stopped).
  pid_t dashboard_pid() const { return dashboard_; }
  e2e::Ensemble& ensemble() { return *ensemble_; }
  client::BlockingClient& zk() { return *zk_; }
  /// A new client session on the ensemble (for ephemerals that must go with it).
  std::unique_ptr<client::BlockingClient> new_session() const;

  /// GET `target`; the JSON answer of a 200 (or null after an ADD_FAILURE).
  nlohmann::json get_json(const std::string& target);
  /// GET `target`; the JSON answer of a 200, else null (for polling: no failure).
  nlohmann::json peek_json(const std::string& target);
  /// POST /api/tasks with {"kind","arg"}; the new id (or "" after an ADD_FAILURE).
  std::string submit(const std::string& kind, const std::string& arg);
  /// Creates /tasks/task-<seq> directly (as `corral-mw submit` does); the new id.
  std::string submit_direct(const std::string& kind, const std::string& arg);
  /// How many children /tasks has (after catch_up()).
  size_t pending_count();
  /// Syncs zk_'s server with the leader: it then holds every write the dashboard made before.
  void catch_up();

  /// Plays the master: moves /tasks/T to /assign/W/T with attempt + 1 (one multi), after
  /// catch_up() (T may have been made by the dashboard).
  void assign(const std::string& worker, const std::string& task);
  /// Plays the master after W's loss: moves /assign/W/T back to /tasks/T (one multi).
  void reassign_back(const std::string& worker, const std::string& task);
  /// Plays the worker: /status/T as `status` (created or overwritten).
  void write_status(const std::string& task, const TaskStatus& status);
  /// Plays the worker: deletes /assign/W/T.
  void unassign(const std::string& worker, const std::string& task);

 private:
  std::filesystem::path dir_;
  std::unique_ptr<e2e::Ensemble> ensemble_;
  std::unique_ptr<client::BlockingClient> zk_;
  uint16_t port_ = 0;
  pid_t dashboard_ = -1;
  std::string error_;
};

}  // namespace corral::mw::test
