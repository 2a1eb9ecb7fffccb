#include "wire/path.h"

#include <cstdint>

namespace corral::wire {
namespace {

// Decodes one UTF-8 code point at `i`; malformed input yields U+FFFD, which the
// rules below reject, as Java's decoder would substitute it.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i++]);
  if (b < 0x80) return b;
  int extra = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : -1;
  if (extra < 0 || b >= 0xf8) return 0xfffd;
  uint32_t cp = b & (0x3f >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size()) return 0xfffd;
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xc0) != 0x80) return 0xfffd;
    cp = cp << 6 | (c & 0x3f);
    ++i;
  }
  // Overlong forms are malformed too (they would smuggle in '/', '.' or NUL).
  static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[extra]) return 0xfffd;
  return cp;
}

bool is_forbidden(uint32_t c) {
  return (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) ||
         c >= 0xfff0;  // includes code points outside the BMP (surrogate pairs in Java)
}

// True for a path of printable ASCII with no empty name and no name starting with '.': valid
// without decoding (the common case, checked per write on every server). Anything else takes
// the full check.
bool plain_ascii_names(std::string_view path) {
  for (size_t i = 1; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c >= 0x7f) return false;
    if ((c == '/' || c == '.') && path[i - 1] == '/') return false;
  }
  return true;
}

}  // namespace

std::string validate_path(std::string_view path, bool sequential) {
  // As PathUtils.validatePath(path, true): the counter a sequential create appends
  // completes the last name, so "/a/" and "/a/." are fine there.
  if (sequential) return validate_path(std::string(path) + '1', false);
  if (path.empty()) return "Path length must be > 0";
  if (path[0] != '/') return "Path must start with / character";
  if (path.size() == 1) return {};
  if (path.back() == '/') return "Path must not end with / character";
  if (plain_ascii_names(path)) return {};
  size_t i = 0;
  while (i < path.size()) {
    size_t at = i;
    uint32_t c = next_code_point(path, i);
    char prev = at > 0 ? path[at - 1] : '\0';
    bool component_ends = i == path.size() || path[i] == '/';
    if (c == 0) return "null character not allowed @" + std::to_string(at);
    if (c == '/' && prev == '/') return "empty node name specified @" + std::to_string(at);
    if (c == '.' && prev == '.' && at >= 2 && path[at - 2] == '/' && component_ends)
      return "relative paths not allowed @" + std::to_string(at);
    if (c == '.' && prev == '/' && component_ends)
      return "relative paths not allowed @" + std::to_string(at);
    if (is_forbidden(c)) return "invalid character @" + std::to_string(at);
  }
  return {};
}

std::string_view parent_path(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) { return path.substr(path.rfind('/') + 1); }

std::string child_path(std::string_view parent, std::string_view name) {
  std::string p(parent);
  if (p.size() > 1) p.push_back('/');
  p.append(name);
  return p;
}

}  // namespace corral::wire
