#include "apps/master-worker/dashboard/view.h"

#include "apps/master-worker/layout.h"

namespace corral::mw {
namespace {

nlohmann::json worker_or_null(const std::string& worker) {
  return worker.empty() ? nlohmann::json() : nlohmann::json(worker);
}

TaskView from_task(const std::string& id, const Task& t, const std::string& state,
                   const std::string& worker) {
  TaskView v;
  v.id = id;
  v.kind = t.kind;
  v.arg = t.arg;
  v.state = state;
  v.worker = worker;
  v.attempts = t.attempt;
  v.submitted_ms = t.submitted_ms;
  return v;
}

/// Adds what /status says to `v`: every run, and the latest run's outcome when it is the
/// run of the current assignment (`current`).
void add_status(TaskView& v, const TaskStatus& s, bool current) {
  v.runs = nlohmann::json::array();
  for (const auto& run : s.runs) v.runs.push_back(to_json(run));
  if (!current) return;
  v.state = task_state_name(s.state);
  v.started_ms = s.started_ms;
  v.finished_ms = s.finished_ms;
  v.result = s.result;
}

/// Kind, arg and submitted_ms of a task known only from /status: the status's own fields
/// if a worker wrote them there, else what was seen of the task earlier.
void add_origin(TaskView& v, const std::string& data,
                const std::map<std::string, TaskOrigin>& origins) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_object() && j.contains("kind") && j["kind"].is_string() && j.contains("arg") &&
      j["arg"].is_string()) {
    v.kind = j["kind"];
    v.arg = j["arg"];
    if (j.contains("submitted_ms") && j["submitted_ms"].is_number_integer())
      v.submitted_ms = j["submitted_ms"];
    return;
  }
  if (auto it = origins.find(v.id); it != origins.end()) {
    v.kind = it->second.kind;
    v.arg = it->second.arg;
    v.submitted_ms = it->second.submitted_ms;
  }
}

void skip(std::vector<std::string>* skipped, const std::string& path, const std::string& why) {
  if (skipped) skipped->push_back(path + ": " + why);
}

}  // namespace

View build_view(const RawTree& raw, std::map<std::string, TaskOrigin>& origins,
                std::vector<std::string>* skipped) {
  View view;
  view.loaded = true;
  if (!raw.masters.empty()) {
    view.master = raw.masters.front();
    view.backups.assign(raw.masters.begin() + 1, raw.masters.end());
  }
  for (const auto& [id, data] : raw.workers) {
    std::string error;
    auto w = parse_worker_info(data, &error);
    if (!w) {
      skip(skipped, worker_path(id), error);
      continue;
    }
    WorkerView worker;
    worker.id = id;
    worker.host = w->host;
    worker.slots = w->slots;
    worker.started_ms = w->started_ms;
    view.workers[id] = std::move(worker);
  }
  for (const auto& [id, data] : raw.tasks) {
    std::string error;
    auto t = parse_task(data, false, &error);
    if (!t) {
      skip(skipped, task_path(id), error);
      continue;
    }
    origins[id] = TaskOrigin{t->kind, t->arg, t->submitted_ms};
    view.tasks[id] = from_task(id, *t, "pending", "");
  }
  for (const auto& [worker, tasks] : raw.assign) {
    for (const auto& [id, data] : tasks) {
      std::string error;
      auto t = parse_task(data, true, &error);
      if (!t) {
        skip(skipped, assign_path(worker, id), error);
        continue;
      }
      origins[id] = TaskOrigin{t->kind, t->arg, t->submitted_ms};
      // In /tasks and /assign at once cannot last (one multi moves it): pending wins.
      view.tasks.try_emplace(id, from_task(id, *t, "assigned", worker));
    }
  }
  for (const auto& [id, entry] : raw.status) {
    const auto& [data, version] = entry;
    std::string error;
    auto s = parse_task_status(data, &error);
    if (!s) {
      skip(skipped, status_path(id), error);
      continue;
    }
    auto it = view.tasks.find(id);
    if (it == view.tasks.end()) {
      // Only in /status: finished (or a run whose assignment is gone).
      TaskView v;
      v.id = id;
      v.worker = s->worker;
      v.attempts = s->attempt;
      add_origin(v, data, origins);
      add_status(v, *s, true);
      if (s->finished()) view.archivable[id] = version;
      view.tasks[id] = std::move(v);
      continue;
    }
    TaskView& v = it->second;
    bool current = v.state == "assigned" && s->worker == v.worker && s->attempt == v.attempts;
    add_status(v, *s, current);
  }
  for (const auto& [id, v] : view.tasks) {
    auto w = view.workers.find(v.worker);
    if (w == view.workers.end() || !raw.assign.count(v.worker) ||
        !raw.assign.at(v.worker).count(id))
      continue;
    if (v.state == "running") w->second.running.push_back(id);
    if (v.state == "assigned") w->second.assigned.push_back(id);
  }
  return view;
}

std::vector<ViewEvent> diff_views(const View& before, const View& after) {
  std::vector<ViewEvent> events;
  // A worker replaced by another of its id (restarted) between two views is lost and joined.
  auto has = [](const View& v, const std::string& id, int64_t started_ms) {
    auto it = v.workers.find(id);
    return it != v.workers.end() && it->second.started_ms == started_ms;
  };
  for (const auto& [id, w] : before.workers)
    if (!has(after, id, w.started_ms)) events.push_back({"worker_lost", {{"id", id}}});
  for (const auto& [id, w] : after.workers)
    if (!has(before, id, w.started_ms)) events.push_back({"worker_joined", {{"id", id}}});
  if (after.master && after.master != before.master)
    events.push_back({"master_elected", {{"id", *after.master}}});
  std::vector<ViewEvent> changes;
  for (const auto& [id, now] : after.tasks) {
    auto it = before.tasks.find(id);
    if (it != before.tasks.end()) {
      const TaskView& was = it->second;
      bool was_assigned = was.state == "assigned" || was.state == "running";
      bool moved =
          now.state == "pending" || (now.worker != was.worker && now.attempts > was.attempts);
      if (was_assigned && !was.worker.empty() && moved)
        events.push_back({"task_reassigned", {{"id", id}, {"from", was.worker}}});
      if (was.state == now.state && was.worker == now.worker) continue;
    }
    changes.push_back(
        {"task", {{"id", id}, {"state", now.state}, {"worker", worker_or_null(now.worker)}}});
  }
  events.insert(events.end(), changes.begin(), changes.end());
  return events;
}

std::optional<int64_t> master_since(const View& before, const View& after, int64_t leader_ctime_ms,
                                    int64_t now_ms) {
  if (!after.master) return std::nullopt;
  if (before.loaded && before.master == after.master) return before.master_since_ms;
  if (!before.loaded) return leader_ctime_ms > 0 ? leader_ctime_ms : now_ms;
  return now_ms;
}

}  // namespace corral::mw
