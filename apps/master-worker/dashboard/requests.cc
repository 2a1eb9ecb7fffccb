#include "apps/master-worker/dashboard/requests.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "apps/master-worker/dashboard/task_view.h"
#include "apps/master-worker/layout.h"

namespace corral::mw {
namespace {

/// %XX and '+' decoded; false on a bad escape.
bool decode(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int v = 0;
      auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
      if (ec != std::errc() || end != in.data() + i + 3) return false;
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

/// A whole decimal integer in [min, max].
bool parse_int(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return false;
  if (v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

bool parse_query(const std::string& query, std::map<std::string, std::string>& out,
                 std::string& error) {
  size_t at = 0;
  while (at <= query.size()) {
    size_t end = query.find('&', at);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(at, end - at);
    at = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!decode(pair.substr(0, eq), name) ||
        !decode(eq == std::string::npos ? "" : pair.substr(eq + 1), value)) {
      error = "malformed query string";
      return false;
    }
    out[name] = value;
  }
  return true;
}

std::string parse_paging(const std::map<std::string, std::string>& query, bool with_state,
                         Paging& out) {
  if (auto it = query.find("limit");
      it != query.end() && !parse_int(it->second, 1, 1000, out.limit))
    return "limit must be an integer 1..1000";
  if (auto it = query.find("offset");
      it != query.end() && !parse_int(it->second, 0, int64_t{1} << 40, out.offset))
    return "offset must be an integer >= 0";
  if (!with_state) return "";
  if (auto it = query.find("state"); it != query.end()) {
    if (!is_task_state(it->second))
      return "state must be pending, assigned, running, done or failed";
    out.state = it->second;
  }
  return "";
}

int parse_new_task(const std::string& body, bool allow_shell, NewTask& out, std::string& error) {
  if (body.size() > kMaxBodyBytes) {
    error = "the body is over 64 KiB";
    return 413;
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    error = "malformed JSON";
    return 400;
  }
  if (!j.is_object()) {
    error = "the body must be a JSON object {\"kind\": ..., \"arg\": ...}";
    return 400;
  }
  if (!j.contains("kind") || !j["kind"].is_string()) {
    error = "\"kind\" must be a string";
    return 400;
  }
  if (j.contains("arg") && !j["arg"].is_string()) {
    error = "\"arg\" must be a string";
    return 400;
  }
  out.kind = j["kind"];
  out.arg = j.value("arg", "");
  if (out.kind == "shell" && !allow_shell) {
    error = "shell tasks are refused: the dashboard was started without --allow-shell";
    return 403;
  }
  error = validate_task(out.kind, out.arg, allow_shell);
  return error.empty() ? 0 : 400;
}

}  // namespace corral::mw
