#include "apps/master-worker/dashboard/task_view.h"

namespace corral::mw {

bool is_task_state(const std::string& state) {
  for (const char* s : kTaskStates)
    if (state == s) return true;
  return false;
}

bool is_finished_state(const std::string& state) { return state == "done" || state == "failed"; }

int64_t TaskView::reassignments() const {
  // attempt counts assignments: a pending task with attempt N was moved back N times; any
  // other with attempt N was moved back N - 1 times.
  if (attempts <= 0) return 0;
  return state == "pending" ? attempts : attempts - 1;
}

nlohmann::json task_json(const TaskView& task, bool with_runs) {
  nlohmann::json j = {
      {"id", task.id},
      {"kind", task.kind},
      {"arg", task.arg},
      {"state", task.state},
      {"worker", task.worker.empty() ? nlohmann::json() : nlohmann::json(task.worker)},
      {"attempts", task.attempts},
      {"submitted_ms", task.submitted_ms},
      {"started_ms", task.started_ms},
      {"finished_ms", task.finished_ms},
      {"result", task.result}};
  if (with_runs) j["runs"] = task.runs.is_array() ? task.runs : nlohmann::json::array();
  return j;
}

}  // namespace corral::mw
