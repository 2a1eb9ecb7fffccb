// The dashboard's picture of the application, derived from the cached znodes: each task's
// state (pending, assigned, running, done, failed), each worker's tasks, the active master
// and the backups; and the events between two pictures.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apps/master-worker/dashboard/task_view.h"

namespace corral::mw {

/// The cached znodes, by node name (data as read).
struct RawTree {
  /// The masters' ids in line, the active one first (LeaderLatch::list on /master).
  std::vector<std::string> masters;
  /// When the first in line created its latch node (its ctime).
  int64_t leader_ctime_ms = 0;
  /// /workers/<id> -> data.
  std::map<std::string, std::string> workers;
  /// /tasks/<task> -> data.
  std::map<std::string, std::string> tasks;
  /// /assign/<worker>/<task> -> data (a worker with an empty map: /assign/<worker> alone).
  std::map<std::string, std::map<std::string, std::string>> assign;
  /// /status/<task> -> data and its version.
  std::map<std::string, std::pair<std::string, int32_t>> status;
};

/// What the dashboard remembers of a task once /tasks and /assign no longer say it
/// (/status has neither kind nor arg).
struct TaskOrigin {
  std::string kind;
  std::string arg;
  int64_t submitted_ms = 0;
  bool operator==(const TaskOrigin&) const = default;
};

/// A live worker and its tasks.
struct WorkerView {
  std::string id;
  std::string host;
  int slots = 1;
  /// When it started (its WorkerInfo): another value under the same id is another worker, one
  /// that replaced it between two looks.
  int64_t started_ms = 0;
  /// Tasks assigned to it that it runs now.
  std::vector<std::string> running;
  /// Tasks assigned to it that it has not started.
  std::vector<std::string> assigned;
  bool operator==(const WorkerView&) const = default;
};

/// The whole picture.
struct View {
  /// False until the first complete load (and while a new session loads nothing changes).
  bool loaded = false;
  std::optional<std::string> master;
  std::vector<std::string> backups;
  /// When the active master took over (as seen by the dashboard), if there is one.
  std::optional<int64_t> master_since_ms;
  std::map<std::string, WorkerView> workers;
  /// Every task in /tasks, /assign or /status.
  std::map<std::string, TaskView> tasks;
  /// Finished tasks in /status only (not in /tasks nor /assign): to archive, with the
  /// version of /status/T read.
  std::map<std::string, int32_t> archivable;
};

/// Builds the picture from the znodes; malformed nodes are skipped (and named in `skipped`
/// when given). `origins` supplies kind/arg for tasks seen only in /status, and learns
/// those of every task in /tasks and /assign.
View build_view(const RawTree& raw, std::map<std::string, TaskOrigin>& origins,
                std::vector<std::string>* skipped = nullptr);

/// One event of the stream.
struct ViewEvent {
  std::string type;
  nlohmann::json data;
};

/// The events from `before` to `after`, in this order: worker_lost, worker_joined,
/// master_elected, task_reassigned, task.
std::vector<ViewEvent> diff_views(const View& before, const View& after);

/// "master_since_ms" as kept from `before` when the master did not change, else `now_ms`
/// (or the leader's ctime on the first load).
std::optional<int64_t> master_since(const View& before, const View& after, int64_t leader_ctime_ms,
                                    int64_t now_ms);

}  // namespace corral::mw
