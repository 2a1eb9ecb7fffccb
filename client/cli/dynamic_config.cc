#include "client/cli/dynamic_config.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace corral::cli {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && (blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One Properties line: the key ends at '=', ':' or a blank; then blanks, one optional '=' or
// ':', and blanks again before the value.
std::pair<std::string, std::string> split_entry(std::string_view line) {
  size_t end = 0;
  while (end < line.size() && line[end] != '=' && line[end] != ':' && !blank(line[end])) ++end;
  std::string_view rest = trim_left(line.substr(end));
  if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) rest.remove_prefix(1);
  return {std::string(line.substr(0, end)), std::string(trim(rest))};
}

// String.hashCode of `s` (its chars taken as bytes: config texts are ASCII).
uint32_t java_hash(std::string_view s) {
  uint32_t h = 0;
  for (char c : s) h = 31 * h + static_cast<unsigned char>(c);
  return h;
}

// The bin of `key` in a ConcurrentHashMap of `bins` bins (ConcurrentHashMap.spread).
uint32_t java_bin(const std::string& key, uint32_t bins) {
  uint32_t h = java_hash(key);
  return ((h ^ (h >> 16)) & 0x7fffffffU) & (bins - 1);
}

// The entries in file order, later duplicates replacing earlier values in place.
std::vector<std::pair<std::string, std::string>> properties_in_file_order(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    auto entry = split_entry(line);
    auto same = [&](const auto& e) { return e.first == entry.first; };
    if (auto it = std::find_if(out.begin(), out.end(), same); it != out.end()) {
      it->second = std::move(entry.second);
    } else {
      out.push_back(std::move(entry));
    }
  }
  return out;
}

// "host:port" of a server spec's client part ("...;host:port" or "...;port"), "" if none.
std::string client_address(std::string_view spec) {
  size_t semi = spec.find(';');
  if (semi == std::string_view::npos) return "";
  std::string_view client = trim(spec.substr(semi + 1));
  if (client.find(':') == std::string_view::npos) return "0.0.0.0:" + std::string(client);
  return std::string(client);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// True for "server.N", "group.N" or "weight.N" with N all digits.
bool member_key(std::string_view key) {
  for (std::string_view prefix : {"server.", "group.", "weight."}) {
    if (!starts_with(key, prefix) || key.size() == prefix.size()) continue;
    std::string_view id = key.substr(prefix.size());
    return std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return false;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> properties_in_java_order(std::string_view text) {
  auto entries = properties_in_file_order(text);
  // Properties holds a ConcurrentHashMap of 16 bins that doubles once 3/4 full; it iterates
  // bin by bin, and a bin's entries in the order they were put (entries are few: no trees).
  uint32_t bins = 16;
  while (entries.size() >= bins * 3 / 4) bins *= 2;
  std::stable_sort(entries.begin(), entries.end(), [bins](const auto& a, const auto& b) {
    return java_bin(a.first, bins) < java_bin(b.first, bins);
  });
  return entries;
}

std::string client_config_text(std::string_view config) {
  std::string version;
  std::string addresses;
  bool first = true;
  for (const auto& [key, value] : properties_in_java_order(config)) {
    if (key == "version") version = value;
    if (!starts_with(key, "server.")) continue;
    // As getClientConfigStr: a server without a client part still gets its comma.
    if (!first) addresses += ",";
    first = false;
    addresses += client_address(value);
  }
  return version + " " + addresses;
}

std::string config_version(std::string_view config) {
  for (const auto& [key, value] : properties_in_file_order(config)) {
    if (key == "version") return value;
  }
  return "";
}

MembersFile read_members_file(const std::string& path) {
  MembersFile out;
  std::ifstream in(path);
  if (!in) {
    out.error = "Error processing " + path + ": cannot read it";
    return out;
  }
  std::stringstream text;
  text << in.rdbuf();
  bool has_server = false;
  for (const auto& [key, value] : properties_in_file_order(text.str())) {
    if (key == "version") continue;  // the leader gives the new config its own version
    if (!member_key(key)) {
      out.error = "Error processing " + path + ": Unrecognised parameter: " + key;
      return out;
    }
    has_server = has_server || starts_with(key, "server.");
    if (!out.members.empty()) out.members += "\n";
    out.members += key + "=" + value;
  }
  if (!has_server) out.error = "Error processing " + path + ": no server.N line";
  return out;
}

}  // namespace corral::cli
