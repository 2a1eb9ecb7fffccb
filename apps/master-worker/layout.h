// The master-worker znode layout (apps/master-worker/DESIGN.md, "Znodes"): the paths, the JSON
// of every node, and the rules for task ids, kinds and args. Shared by the master, the workers,
// the submitter and the dashboard.
//
// Parsing never throws: a parse_* function returns std::nullopt for malformed data and says
// why in `*error` (when given). Unknown fields are ignored; missing or mistyped required fields
// make the node malformed. Serializing never throws either: invalid UTF-8 (a shell's output) is
// replaced, not refused.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::mw {

// ---------------------------------------------------------------- paths

/// The LeaderLatch directory of the masters.
inline constexpr std::string_view kMasterPath = "/master";
/// Live workers: /workers/<worker> (ephemeral).
inline constexpr std::string_view kWorkersPath = "/workers";
/// Pending tasks: /tasks/task-<seq>.
inline constexpr std::string_view kTasksPath = "/tasks";
/// Assigned tasks: /assign/<worker>/task-<seq>.
inline constexpr std::string_view kAssignPath = "/assign";
/// Task status: /status/task-<seq>.
inline constexpr std::string_view kStatusPath = "/status";
/// The prefix of a task's node name; the server appends 10 digits.
inline constexpr std::string_view kTaskPrefix = "task-";

/// /workers/<worker>.
std::string worker_path(std::string_view worker);
/// /tasks/<task>.
std::string task_path(std::string_view task);
/// /assign/<worker>.
std::string assign_dir(std::string_view worker);
/// /assign/<worker>/<task>.
std::string assign_path(std::string_view worker, std::string_view task);
/// /status/<task>.
std::string status_path(std::string_view task);

// ---------------------------------------------------------------- validation

/// True for a task id: "task-" followed by exactly 10 digits ("task-0000000042").
bool valid_task_id(std::string_view id);

/// True for a usable worker or master id: 1..128 characters of [A-Za-z0-9._:-], not "." or
/// "..", so it is a valid znode name.
bool valid_member_id(std::string_view id);

/// Limits of the task kinds' args.
inline constexpr int64_t kMaxSleepMs = 600000;
inline constexpr int64_t kMaxHashBytes = 1000000000;
/// The most of a result that is kept (bytes).
inline constexpr size_t kMaxResultBytes = 4096;

/// Checks a task's kind and arg: "" when it may be submitted, else a message for the user
/// ("unknown kind \"x\": expected sleep, hash, fail or shell", "sleep wants milliseconds
/// 0..600000, got \"abc\""). `sleep`: an integer 0..600000; `hash`: an integer 1..1e9; `fail`:
/// any arg; `shell`: a non-empty command, and only when `allow_shell`.
std::string validate_task(std::string_view kind, std::string_view arg, bool allow_shell = true);

/// `text` cut to at most kMaxResultBytes bytes, not in the middle of a UTF-8 sequence.
std::string truncate_result(std::string text);

/// Milliseconds since the Unix epoch, now.
int64_t now_ms();

// ---------------------------------------------------------------- nodes

/// /workers/<worker>: a live worker.
struct WorkerInfo {
  std::string id;
  std::string host;
  int64_t pid = 0;
  /// How many tasks it runs at once (>= 1).
  int slots = 1;
  int64_t started_ms = 0;
};

/// A task's data: pending under /tasks/T, or assigned under /assign/W/T (then `assigned_ms`
/// and `master` are set).
struct Task {
  std::string kind;
  std::string arg;
  int64_t submitted_ms = 0;
  /// Assignments so far: 0 while never assigned, +1 at each assignment.
  int attempt = 0;
  /// When assigned (0 while pending).
  int64_t assigned_ms = 0;
  /// The id of the master that assigned it ("" while pending).
  std::string master;

  /// True once assigned (a node under /assign).
  bool assigned() const { return !master.empty(); }
  /// The same task as a pending node: without assigned_ms and master.
  Task pending() const;
};

/// The state of a task's status (and of each run).
enum class TaskState { kRunning, kDone, kFailed };

/// "running", "done", "failed".
const char* task_state_name(TaskState state);
/// Parses a state name; std::nullopt for anything else.
std::optional<TaskState> parse_task_state(std::string_view name);

/// One run of a task by a worker (an entry of TaskStatus::runs).
struct Run {
  std::string worker;
  int attempt = 0;
  int64_t started_ms = 0;
  /// 0 while running (or when the run was cut off and never finished).
  int64_t finished_ms = 0;
  TaskState state = TaskState::kRunning;
};

/// /status/<task>: the latest run's outcome, and every run.
struct TaskStatus {
  TaskState state = TaskState::kRunning;
  /// The worker and attempt of the latest run.
  std::string worker;
  int attempt = 0;
  /// The output (hash digest, "slept N ms", the error, a shell's stdout); at most 4 KiB.
  std::string result;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  /// Every run, oldest first. More than one: the task ran more than once ("ran twice").
  std::vector<Run> runs;
  /// The task's kind, arg and submission time, copied by the worker from its assignment so
  /// that the status describes the task on its own (the dashboard reads them once /tasks and
  /// /assign are gone). Optional: written only when `kind` is set, read when present.
  std::string kind;
  std::string arg;
  int64_t submitted_ms = 0;

  /// True when state is done or failed.
  bool finished() const { return state != TaskState::kRunning; }
};

/// The JSON object of each node.
nlohmann::json to_json(const WorkerInfo& w);
nlohmann::json to_json(const Task& t);
nlohmann::json to_json(const Run& r);
nlohmann::json to_json(const TaskStatus& s);

/// A node's data: the JSON object as compact text (invalid UTF-8 replaced).
std::string serialize(const WorkerInfo& w);
std::string serialize(const Task& t);
std::string serialize(const TaskStatus& s);

/// Reads a node's data; std::nullopt (and `*error` set) when it is not a JSON object with the
/// required fields of the right types. For a Task, `assigned_ms` and `master` are required when
/// `assigned` (a node under /assign), optional otherwise.
std::optional<WorkerInfo> parse_worker_info(std::string_view data, std::string* error = nullptr);
std::optional<Task> parse_task(std::string_view data, bool assigned, std::string* error = nullptr);
std::optional<TaskStatus> parse_task_status(std::string_view data, std::string* error = nullptr);

/// The same, from JSON already parsed.
std::optional<WorkerInfo> worker_info_from_json(const nlohmann::json& j,
                                                std::string* error = nullptr);
std::optional<Task> task_from_json(const nlohmann::json& j, bool assigned,
                                   std::string* error = nullptr);
std::optional<Run> run_from_json(const nlohmann::json& j, std::string* error = nullptr);
std::optional<TaskStatus> task_status_from_json(const nlohmann::json& j,
                                                std::string* error = nullptr);

}  // namespace corral::mw
