#include "apps/master-worker/dashboard/history.h"

#include <sqlite3.h>

namespace corral::mw {
namespace {

constexpr const char* kSchema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS history ("
    " id TEXT PRIMARY KEY, kind TEXT NOT NULL, arg TEXT NOT NULL, state TEXT NOT NULL,"
    " worker TEXT NOT NULL, attempts INTEGER NOT NULL, runs TEXT NOT NULL,"
    " result TEXT NOT NULL, submitted_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL,"
    " finished_ms INTEGER NOT NULL, archived_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS history_state ON history (state, id);";

constexpr const char* kColumns =
    "id, kind, arg, state, worker, attempts, runs, result, submitted_ms, started_ms, "
    "finished_ms";

/// A prepared statement, finalized when it goes.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  void bind(int i, const std::string& text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int i) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : "";
  }
  int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

TaskView read_row(const Statement& s) {
  TaskView t;
  t.id = s.text(0);
  t.kind = s.text(1);
  t.arg = s.text(2);
  t.state = s.text(3);
  t.worker = s.text(4);
  t.attempts = s.integer(5);
  t.runs = nlohmann::json::parse(s.text(6), nullptr, false);
  if (!t.runs.is_array()) t.runs = nlohmann::json::array();
  t.result = s.text(7);
  t.submitted_ms = s.integer(8);
  t.started_ms = s.integer(9);
  t.finished_ms = s.integer(10);
  return t;
}

// " WHERE state = ?" (bound as parameter 1) or nothing.
std::string state_filter(const std::string& state, const char* joiner = " WHERE ") {
  return state.empty() ? "" : std::string(joiner) + "state = ?";
}

}  // namespace

std::unique_ptr<History> History::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  char* message = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &message) != SQLITE_OK) {
    error = path + ": " + (message ? message : "schema failed");
    sqlite3_free(message);
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<History> history(new History(db));
  if (!history->load_index(error)) return nullptr;
  return history;
}

History::~History() { sqlite3_close(db_); }

bool History::load_index(std::string& error) {
  std::lock_guard lock(mu_);
  Statement s(db_, std::string("SELECT ") + kColumns + " FROM history");
  if (!s.ok()) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  while (s.step() == SQLITE_ROW) {
    TaskView t = read_row(s);
    index(t.id, {t.state, t.reassignments(), t.ran_twice()});
  }
  return true;
}

void History::index(const std::string& id, const Entry& entry) {
  auto count = [this](const Entry& e, int64_t sign) {
    if (e.state == "done") totals_.done += sign;
    if (e.state == "failed") totals_.failed += sign;
    totals_.reassigned += sign * e.reassignments;
    totals_.ran_twice += e.ran_twice ? sign : 0;
  };
  auto [it, inserted] = index_.try_emplace(id, entry);
  if (!inserted) {
    count(it->second, -1);
    it->second = entry;
  }
  count(entry, +1);
}

bool History::archive(const TaskView& task, int64_t archived_ms, std::string& error) {
  std::lock_guard lock(mu_);
  Statement s(db_, std::string("INSERT OR REPLACE INTO history (") + kColumns +
                       ", archived_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s.ok()) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  s.bind(1, task.id);
  s.bind(2, task.kind);
  s.bind(3, task.arg);
  s.bind(4, task.state);
  s.bind(5, task.worker);
  s.bind(6, task.attempts);
  s.bind(7, task.runs.dump());
  s.bind(8, task.result);
  s.bind(9, task.submitted_ms);
  s.bind(10, task.started_ms);
  s.bind(11, task.finished_ms);
  s.bind(12, archived_ms);
  if (s.step() != SQLITE_DONE) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  index(task.id, {task.state, task.reassignments(), task.ran_twice()});
  return true;
}

std::optional<TaskView> History::get(const std::string& id) {
  std::lock_guard lock(mu_);
  Statement s(db_, std::string("SELECT ") + kColumns + " FROM history WHERE id = ?");
  if (!s.ok()) return std::nullopt;
  s.bind(1, id);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return read_row(s);
}

bool History::contains(const std::string& id) const {
  std::lock_guard lock(mu_);
  return index_.count(id) > 0;
}

std::vector<TaskView> History::list(const std::string& state, int64_t limit, int64_t offset) {
  std::lock_guard lock(mu_);
  std::vector<TaskView> out;
  Statement s(db_, std::string("SELECT ") + kColumns + " FROM history" + state_filter(state) +
                       " ORDER BY id DESC LIMIT ? OFFSET ?");
  if (!s.ok()) return out;
  int i = 1;
  if (!state.empty()) s.bind(i++, state);
  s.bind(i++, limit);
  s.bind(i, offset);
  while (s.step() == SQLITE_ROW) out.push_back(read_row(s));
  return out;
}

int64_t History::count(const std::string& state) const {
  std::lock_guard lock(mu_);
  if (state.empty()) return static_cast<int64_t>(index_.size());
  if (state == "done") return totals_.done;
  if (state == "failed") return totals_.failed;
  int64_t n = 0;
  for (const auto& [id, e] : index_) n += e.state == state ? 1 : 0;
  return n;
}

int64_t History::count_newer(const std::string& id, const std::string& state) {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (auto it = index_.upper_bound(id); it != index_.end(); ++it)
    n += state.empty() || it->second.state == state ? 1 : 0;
  return n;
}

History::Totals History::totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

}  // namespace corral::mw
