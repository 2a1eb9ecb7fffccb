#include "ensemble/server/dynamic_config_file.h"

#include <fcntl.h>
#include <spdlog/fmt/fmt.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <system_error>
#include <vector>

#include "ensemble/server/config_line.h"

namespace corral::server {
namespace {

using config_line::fail;
using config_line::Line;
using config_line::trim;

// Calls `each` with every `key=value` line of a properties text, numbered from 1 as
// parse_config numbers them; comments and blank lines are skipped, and a line without '='
// is a key with an empty value (as Java's Properties reads it).
void for_each_line(std::string_view text, std::string_view source,
                   const std::function<void(const Line&)>& each) {
  int number = 0;
  for (size_t at = 0; at <= text.size();) {
    size_t end = std::min(text.find('\n', at), text.size());
    std::string_view raw = trim(text.substr(at, end - at));
    at = end + 1;
    ++number;
    size_t eq = raw.find('=');
    if (raw.empty() || raw[0] == '#' || raw[0] == '!') continue;
    std::string_view value = eq == std::string_view::npos ? "" : trim(raw.substr(eq + 1));
    each(Line{source, number, trim(raw.substr(0, eq)), value});
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

PeerSpec peer_spec(const zab::QuorumServer& s) {
  PeerSpec p;
  p.id = s.id;
  p.host = s.host;
  p.quorum_port = s.quorum_port;
  p.election_port = s.election_port;
  p.observer = s.role == zab::QuorumRole::kObserver;
  p.client_address = s.client_port == 0 ? "" : s.client_host;
  p.client_port = s.client_port;
  return p;
}

// Why one line of a dynamic file is refused (parse_dynamic gives only ZooKeeper's code).
void check_dynamic_line(const Line& line) {
  if (line.key == "version")
    fail(line, "a dynamic config file has no version line: its version is the file name's suffix");
  if (!line.key.starts_with("server."))
    fail(line, "only server.N lines belong in a dynamic config file");
  std::string_view digits = line.key.substr(7);
  int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || id < 0)
    fail(line, "expected server.N with N a non-negative integer");
  if (std::holds_alternative<wire::ErrorCode>(zab::parse_server_spec(id, line.value)))
    fail(line, fmt::format("expected host:quorumPort:electionPort[:participant|:observer]"
                           "[;[clientAddress:]clientPort], got '{}'",
                           line.value));
}

std::string hex(int64_t version) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof text, static_cast<uint64_t>(version), 16);
  return std::string(text, end);
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync " + path);
}

}  // namespace

int64_t dynamic_file_version(std::string_view path) {
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return 0;
  std::string_view suffix = path.substr(dot + 1);
  int64_t version = 0;
  auto [end, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), version, 16);
  bool whole = !suffix.empty() && ec == std::errc{} && end == suffix.data() + suffix.size();
  return whole && version >= 0 ? version : 0;
}

std::string dynamic_file_name(const std::string& cfg_path, int64_t version) {
  return cfg_path + ".dynamic." + hex(version);
}

void load_dynamic_config(ServerConfig& config, const std::string& cfg_path) {
  if (config.dynamic_config_file.empty()) return;
  std::string cfg_text = read_text(cfg_path);
  Line pointer{cfg_path, 0, "dynamicConfigFile", {}};
  for_each_line(cfg_text, cfg_path, [&](const Line& line) {
    if (line.key.starts_with("server.") || line.key.starts_with("group") ||
        line.key.starts_with("weight"))
      fail(line, "must be in the dynamic config file (dynamicConfigFile is set)");
    if (line.key == "dynamicConfigFile") pointer.number = line.number;
  });
  const std::string& path = config.dynamic_config_file;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(pointer, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  for_each_line(text.str(), path, check_dynamic_line);
  auto parsed = zab::parse_dynamic(text.str());
  if (std::holds_alternative<wire::ErrorCode>(parsed))
    throw ConfigError(fmt::format("{}: observers without participants", path));
  config.servers.clear();
  for (const auto& [id, server] : std::get<zab::QuorumConfig>(parsed).servers)
    config.servers.push_back(peer_spec(server));
  config.dynamic_config_version = dynamic_file_version(path);
  apply_own_client_address(config, path);
}

std::string dynamic_file_text(const zab::QuorumConfig& config) {
  std::vector<std::string> lines;
  for (const auto& [id, server] : config.servers)
    lines.push_back("server." + std::to_string(id) + "=" + zab::server_spec_text(server));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

std::string static_config_text(std::string_view cfg_text, const std::string& dynamic_path,
                               bool erase_client_port) {
  std::vector<std::string> order;
  std::map<std::string, std::string, std::less<>> values;
  for_each_line(cfg_text, "", [&](const Line& line) {
    std::string key(line.key);
    if (!values.contains(key)) order.push_back(key);
    values[key] = line.value;
  });
  std::string out;
  for (const auto& key : order) {
    std::string_view k = key;
    bool dropped = k.starts_with("server.") || k.starts_with("group") || k.starts_with("weight") ||
                   k.starts_with("dynamicConfigFile") || k.starts_with("peerType") ||
                   (erase_client_port && k.starts_with("clientPort"));
    if (!dropped) out += key + "=" + values[key] + "\n";
  }
  return out + "dynamicConfigFile=" + dynamic_path + "\n";
}

void write_file_atomically(const std::string& path, std::string_view content) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("cannot create " + temp);
  for (size_t done = 0; done < content.size();) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      throw_errno("cannot write " + temp);
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!synced) throw_errno("cannot fsync " + temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) throw_errno("cannot rename " + temp);
  // The rename is durable only once the directory is.
  std::string dir = std::filesystem::path(path).parent_path().string();
  fsync_path(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
}

std::string write_config_files(const std::string& cfg_path, const zab::QuorumConfig& config,
                               int64_t my_id) {
  std::string cfg_text = read_text(cfg_path);
  bool legacy = true;
  for_each_line(cfg_text, cfg_path, [&](const Line& line) {
    if (line.key == "dynamicConfigFile") legacy = false;
  });
  if (legacy) write_file_atomically(cfg_path + ".bak", cfg_text);
  std::string dynamic_path = dynamic_file_name(cfg_path, config.version);
  write_file_atomically(dynamic_path, dynamic_file_text(config));
  auto own = config.servers.find(my_id);
  bool erase = own != config.servers.end() && own->second.client_port != 0 &&
               !own->second.client_from_static;
  std::string canonical = std::filesystem::canonical(dynamic_path).string();
  write_file_atomically(cfg_path, static_config_text(cfg_text, canonical, erase));
  return dynamic_path;
}

}  // namespace corral::server
