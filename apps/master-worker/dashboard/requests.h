// What the REST API reads from requests, checked before anything is done: the query's
// paging and state filter, and the body of POST /api/tasks. Pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace corral::mw {

/// The most a request body may hold (POST /api/tasks): bigger is 413.
inline constexpr size_t kMaxBodyBytes = 64 * 1024;

/// A query string's parameters, %-decoded ("a=1&b=x%20y"); false with `error` set when it
/// cannot be decoded. A repeated name keeps its last value.
bool parse_query(const std::string& query, std::map<std::string, std::string>& out,
                 std::string& error);

/// ?limit=&offset= (and ?state= for /api/tasks).
struct Paging {
  /// 1..1000, default 100.
  int64_t limit = 100;
  /// >= 0, default 0.
  int64_t offset = 0;
  /// One of the task states, or empty for all.
  std::string state;
};

/// Reads the paging (and the state filter when `with_state`); "" when valid, else why not.
std::string parse_paging(const std::map<std::string, std::string>& query, bool with_state,
                         Paging& out);

/// The body of POST /api/tasks.
struct NewTask {
  std::string kind;
  std::string arg;
};

/// Reads and checks a new task: 0 when it may be created, else the HTTP status (400, 403
/// for shell without --allow-shell, 413) with `error` set.
int parse_new_task(const std::string& body, bool allow_shell, NewTask& out, std::string& error);

}  // namespace corral::mw
