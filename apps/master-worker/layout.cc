#include "apps/master-worker/layout.h"

#include <charconv>
#include <chrono>
#include <limits>

namespace corral::mw {

using nlohmann::json;

// ---------------------------------------------------------------- paths

namespace {
std::string join(std::string_view parent, std::string_view child) {
  std::string p(parent);
  p += '/';
  p += child;
  return p;
}
}  // namespace

std::string worker_path(std::string_view worker) { return join(kWorkersPath, worker); }
std::string task_path(std::string_view task) { return join(kTasksPath, task); }
std::string assign_dir(std::string_view worker) { return join(kAssignPath, worker); }
std::string assign_path(std::string_view worker, std::string_view task) {
  return join(assign_dir(worker), task);
}
std::string status_path(std::string_view task) { return join(kStatusPath, task); }

// ---------------------------------------------------------------- validation

bool valid_task_id(std::string_view id) {
  if (id.size() != kTaskPrefix.size() + 10 || !id.starts_with(kTaskPrefix)) return false;
  for (char c : id.substr(kTaskPrefix.size()))
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_member_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

/// The whole of `text` as a decimal integer (no sign, no spaces), or std::nullopt.
std::optional<int64_t> parse_count(std::string_view text) {
  int64_t v = 0;
  if (text.empty() || text.size() > 18) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

std::string quoted(std::string_view s) {
  std::string shown(s.substr(0, 40));
  if (s.size() > 40) shown += "...";
  return json(shown).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string validate_task(std::string_view kind, std::string_view arg, bool allow_shell) {
  if (kind == "sleep") {
    auto ms = parse_count(arg);
    if (!ms || *ms > kMaxSleepMs) return "sleep wants milliseconds 0..600000, got " + quoted(arg);
    return "";
  }
  if (kind == "hash") {
    auto bytes = parse_count(arg);
    if (!bytes || *bytes < 1 || *bytes > kMaxHashBytes)
      return "hash wants a byte count 1..1000000000, got " + quoted(arg);
    return "";
  }
  if (kind == "fail") return "";
  if (kind == "shell") {
    if (!allow_shell) return "shell tasks are not allowed here (start with --allow-shell)";
    if (arg.empty()) return "shell wants a command, got \"\"";
    return "";
  }
  return "unknown kind " + quoted(kind) + ": expected sleep, hash, fail or shell";
}

std::string truncate_result(std::string text) {
  if (text.size() <= kMaxResultBytes) return text;
  size_t cut = kMaxResultBytes;
  // Back up over continuation bytes (10xxxxxx) so a multi-byte sequence is not split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------- states

const char* task_state_name(TaskState state) {
  switch (state) {
    case TaskState::kRunning:
      return "running";
    case TaskState::kDone:
      return "done";
    case TaskState::kFailed:
      return "failed";
  }
  return "running";
}

std::optional<TaskState> parse_task_state(std::string_view name) {
  if (name == "running") return TaskState::kRunning;
  if (name == "done") return TaskState::kDone;
  if (name == "failed") return TaskState::kFailed;
  return std::nullopt;
}

Task Task::pending() const {
  Task t = *this;
  t.assigned_ms = 0;
  t.master.clear();
  return t;
}

// ---------------------------------------------------------------- to JSON

json to_json(const WorkerInfo& w) {
  return {{"id", w.id},
          {"host", w.host},
          {"pid", w.pid},
          {"slots", w.slots},
          {"started_ms", w.started_ms}};
}

json to_json(const Task& t) {
  json j = {
      {"kind", t.kind}, {"arg", t.arg}, {"submitted_ms", t.submitted_ms}, {"attempt", t.attempt}};
  if (t.assigned()) {
    j["assigned_ms"] = t.assigned_ms;
    j["master"] = t.master;
  }
  return j;
}

json to_json(const Run& r) {
  return {{"worker", r.worker},
          {"attempt", r.attempt},
          {"started_ms", r.started_ms},
          {"finished_ms", r.finished_ms},
          {"state", task_state_name(r.state)}};
}

json to_json(const TaskStatus& s) {
  json runs = json::array();
  for (const Run& r : s.runs) runs.push_back(to_json(r));
  json j = {{"state", task_state_name(s.state)},
            {"worker", s.worker},
            {"attempt", s.attempt},
            {"result", s.result},
            {"started_ms", s.started_ms},
            {"finished_ms", s.finished_ms},
            {"runs", std::move(runs)}};
  if (!s.kind.empty()) {  // optional: a status without them stays as it was
    j["kind"] = s.kind;
    j["arg"] = s.arg;
    j["submitted_ms"] = s.submitted_ms;
  }
  return j;
}

namespace {
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

std::string serialize(const WorkerInfo& w) { return dump(to_json(w)); }
std::string serialize(const Task& t) { return dump(to_json(t)); }
std::string serialize(const TaskStatus& s) { return dump(to_json(s)); }

// ---------------------------------------------------------------- from JSON

namespace {

/// Reads the fields of one object, remembering the first problem.
class Fields {
 public:
  Fields(const json& j, std::string* error) : j_(j), error_(error) {
    if (!j_.is_object()) fail("not a JSON object");
  }
  bool ok() const { return ok_; }

  void text(const char* key, std::string& out, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    if (!v->is_string()) return fail(std::string("\"") + key + "\" is not a string");
    out = v->get<std::string>();
  }
  template <typename Int>
  void integer(const char* key, Int& out, int64_t min, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    if (!v->is_number_integer()) return fail(std::string("\"") + key + "\" is not an integer");
    int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? -1 : v->get<int64_t>();
    if (n < min || n > static_cast<int64_t>(std::numeric_limits<Int>::max()))
      return fail(std::string("\"") + key + "\" is out of range");
    out = static_cast<Int>(n);
  }
  void state(const char* key, TaskState& out) {
    std::string name;
    text(key, name);
    if (!ok_) return;
    auto s = parse_task_state(name);
    if (!s) return fail(std::string("\"") + key + "\" is not running, done or failed");
    out = *s;
  }
  const json* find(const char* key, bool required) {
    if (!ok_) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) fail(std::string("missing \"") + key + "\"");
      return nullptr;
    }
    return &*it;
  }
  void fail(std::string why) {
    if (!ok_) return;
    ok_ = false;
    if (error_) *error_ = std::move(why);
  }

 private:
  const json& j_;
  std::string* error_;
  bool ok_ = true;
};

/// Parses `data` as JSON and hands it to `from` (one of the *_from_json functions).
template <typename From>
auto parse_with(std::string_view data, std::string* error, From from)
    -> decltype(from(json(), error)) {
  json j = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    if (error) *error = "not JSON";
    return std::nullopt;
  }
  return from(j, error);
}

}  // namespace

std::optional<WorkerInfo> worker_info_from_json(const json& j, std::string* error) {
  WorkerInfo w;
  Fields f(j, error);
  f.text("id", w.id);
  f.text("host", w.host);
  f.integer("pid", w.pid, 0);
  f.integer("slots", w.slots, 1);
  f.integer("started_ms", w.started_ms, 0);
  if (!f.ok()) return std::nullopt;
  return w;
}

std::optional<Task> task_from_json(const json& j, bool assigned, std::string* error) {
  Task t;
  Fields f(j, error);
  f.text("kind", t.kind);
  f.text("arg", t.arg);
  f.integer("submitted_ms", t.submitted_ms, 0);
  f.integer("attempt", t.attempt, 0);
  f.integer("assigned_ms", t.assigned_ms, 0, assigned);
  f.text("master", t.master, assigned);
  if (!f.ok()) return std::nullopt;
  if (assigned && t.master.empty()) {
    if (error) *error = "\"master\" is empty";
    return std::nullopt;
  }
  if (!assigned) t = t.pending();
  return t;
}

std::optional<Run> run_from_json(const json& j, std::string* error) {
  Run r;
  Fields f(j, error);
  f.text("worker", r.worker);
  f.integer("attempt", r.attempt, 0);
  f.integer("started_ms", r.started_ms, 0);
  f.integer("finished_ms", r.finished_ms, 0);
  f.state("state", r.state);
  if (!f.ok()) return std::nullopt;
  return r;
}

std::optional<TaskStatus> task_status_from_json(const json& j, std::string* error) {
  TaskStatus s;
  Fields f(j, error);
  f.state("state", s.state);
  f.text("worker", s.worker);
  f.integer("attempt", s.attempt, 0);
  f.text("result", s.result);
  f.integer("started_ms", s.started_ms, 0);
  f.integer("finished_ms", s.finished_ms, 0);
  f.text("kind", s.kind, false);
  f.text("arg", s.arg, false);
  f.integer("submitted_ms", s.submitted_ms, 0, false);
  const json* runs = f.find("runs", true);
  if (runs && !runs->is_array()) f.fail("\"runs\" is not an array");
  if (!f.ok()) return std::nullopt;
  for (const json& entry : *runs) {
    std::string why;
    auto r = run_from_json(entry, &why);
    if (!r) {
      if (error) *error = "a run: " + why;
      return std::nullopt;
    }
    s.runs.push_back(std::move(*r));
  }
  return s;
}

std::optional<WorkerInfo> parse_worker_info(std::string_view data, std::string* error) {
  return parse_with(data, error,
                    [](const json& j, std::string* e) { return worker_info_from_json(j, e); });
}

std::optional<Task> parse_task(std::string_view data, bool assigned, std::string* error) {
  return parse_with(data, error, [assigned](const json& j, std::string* e) {
    return task_from_json(j, assigned, e);
  });
}

std::optional<TaskStatus> parse_task_status(std::string_view data, std::string* error) {
  return parse_with(data, error,
                    [](const json& j, std::string* e) { return task_status_from_json(j, e); });
}

}  // namespace corral::mw
