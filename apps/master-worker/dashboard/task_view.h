// A task as the REST API shows it: from the znodes (/tasks, /assign, /status) or from the
// history database, in one shape.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace corral::mw {

/// The five states of a task as the dashboard reports them.
inline constexpr const char* kTaskStates[] = {"pending", "assigned", "running", "done", "failed"};

/// True for "pending", "assigned", "running", "done" and "failed".
bool is_task_state(const std::string& state);

/// True for "done" and "failed": the task will not run again (unless reassigned).
bool is_finished_state(const std::string& state);

/// One task, merged from every place it appears.
struct TaskView {
  std::string id;
  std::string kind;
  std::string arg;
  std::string state;
  /// The worker of the latest assignment or run; empty if never assigned.
  std::string worker;
  /// Assignments so far (the `attempt` of the latest assignment or run).
  int64_t attempts = 0;
  int64_t submitted_ms = 0;
  /// The latest run's start and end; 0 while not started / not finished.
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::string result;
  /// /status's `runs` array (empty array if never run).
  nlohmann::json runs = nlohmann::json::array();
  /// Times the task went back from an assignment to /tasks.
  int64_t reassignments() const;
  /// True when it ran more than once (runs.size() > 1).
  bool ran_twice() const { return runs.is_array() && runs.size() > 1; }
  bool operator==(const TaskView&) const = default;
};

/// The REST API's task object; with `runs` only when `with_runs` (GET /api/tasks/ID).
/// `worker` is null when empty.
nlohmann::json task_json(const TaskView& task, bool with_runs);

}  // namespace corral::mw
