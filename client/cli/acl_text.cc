#include "client/cli/acl_text.h"

#include "wire/protocol.h"

namespace corral::cli {
namespace {

struct PermLetter {
  char letter;
  int32_t bit;
};

// zkCli's order (ZKUtil.getPermString).
constexpr PermLetter kPermLetters[] = {
    {'c', wire::perms::kCreate}, {'d', wire::perms::kDelete}, {'r', wire::perms::kRead},
    {'w', wire::perms::kWrite},  {'a', wire::perms::kAdmin},
};

// Reads one "scheme:id:perms" entry into `out`; returns the reason it is not one.
std::string parse_entry(std::string_view entry, client::Acl& out) {
  size_t first = entry.find(':');
  size_t last = entry.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return "'" + std::string(entry) + "' does not have the form scheme:id:perms";
  }
  if (first == 0) return "'" + std::string(entry) + "' has no scheme";
  int32_t perms = parse_perms(entry.substr(last + 1));
  if (perms < 0) {
    return "'" + std::string(entry) + "' has an unknown permission (use the letters cdrwa)";
  }
  out.id.scheme = std::string(entry.substr(0, first));
  out.id.id = std::string(entry.substr(first + 1, last - first - 1));
  out.perms = perms;
  return "";
}

}  // namespace

AclParse parse_acl(std::string_view text) {
  AclParse result;
  if (text.empty()) {
    result.error = "empty ACL";
    return result;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    client::Acl acl;
    result.error = parse_entry(text.substr(start, comma - start), acl);
    if (!result.error.empty()) {
      result.acl.clear();
      return result;
    }
    result.acl.push_back(std::move(acl));
    start = comma + 1;
  }
  return result;
}

int32_t parse_perms(std::string_view letters) {
  int32_t perms = 0;
  for (char c : letters) {
    int32_t bit = 0;
    for (const PermLetter& p : kPermLetters) {
      if (p.letter == c) bit = p.bit;
    }
    if (bit == 0) return -1;
    perms |= bit;
  }
  return perms;
}

std::string perm_string(int32_t perms) {
  std::string s;
  for (const PermLetter& p : kPermLetters) {
    if (perms & p.bit) s += p.letter;
  }
  return s;
}

std::string acl_string(const client::Acl& acl) {
  return acl.id.scheme + ":" + acl.id.id + ":" + perm_string(acl.perms);
}

}  // namespace corral::cli
