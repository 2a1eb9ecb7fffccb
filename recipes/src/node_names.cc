#include "corral/recipes/node_names.h"

#include <algorithm>

namespace corral::recipes {

namespace {
constexpr size_t kSequenceDigits = 10;
}

int64_t sequence_number(std::string_view name) {
  if (name.size() < kSequenceDigits) return -1;
  int64_t n = 0;
  for (char c : name.substr(name.size() - kSequenceDigits)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::vector<std::string> ordered_by_sequence(const std::vector<std::string>& names,
                                             const std::vector<std::string>& markers) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (sequence_number(name) < 0) continue;
    bool marked = markers.empty();
    for (const auto& m : markers)
      if (name.find(m) != std::string::npos) marked = true;
    if (marked) out.push_back(name);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    int64_t sa = sequence_number(a), sb = sequence_number(b);
    return sa != sb ? sa < sb : a < b;
  });
  return out;
}

std::string join_path(std::string_view parent, std::string_view child) {
  std::string out(parent == "/" ? "" : parent);
  out += '/';
  out += child;
  return out;
}

std::string parent_path(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos || path == "/") return "";
  return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

std::string node_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool valid_recipe_path(std::string_view path) {
  return path.size() > 1 && path.front() == '/' && path.back() != '/' &&
         path.find("//") == std::string_view::npos;
}

}  // namespace corral::recipes
