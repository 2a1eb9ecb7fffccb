#include "ensemble/zab/quorum_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <optional>

namespace corral::zab {

using wire::ErrorCode;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// An IPv6 host is printed in brackets (QuorumServer.delimitedHostString).
std::string delimited(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

/// ConfigUtils.getHostAndPort: "[v6]:a:b" keeps the bracketed host whole.
std::vector<std::string> host_and_ports(std::string_view s) {
  std::vector<std::string> out;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return {};
    out.emplace_back(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    if (s.empty()) return out;
    if (s.front() != ':') return {};
    s.remove_prefix(1);
  }
  for (std::string_view part : split(s, ':')) out.emplace_back(part);
  return out;
}

/// Java's Integer.parseInt failing is a ConfigException in QuorumServer (BADARGUMENTS); a
/// number outside 0..65535 makes InetSocketAddress throw past it (MARSHALLINGERROR).
std::variant<int, ErrorCode> port_of(std::string_view s) {
  int64_t v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > INT32_MAX ||
      v < INT32_MIN)
    return ErrorCode::kBadArguments;
  if (v < 0 || v > 65535) return ErrorCode::kMarshallingError;
  return static_cast<int>(v);
}

bool parse_long(std::string_view s, int base, int64_t& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

std::optional<ErrorCode> parse_client_part(std::string_view part, QuorumServer& out) {
  std::vector<std::string> client = host_and_ports(part);
  if (client.empty() || client.size() > 2) return ErrorCode::kBadArguments;
  auto port = port_of(client.back());
  if (auto* err = std::get_if<ErrorCode>(&port)) return *err;
  out.client_host = client.size() == 2 ? client[0] : "0.0.0.0";
  out.client_port = std::get<int>(port);
  return std::nullopt;
}

std::optional<ErrorCode> parse_server_part(std::string_view part, QuorumServer& out) {
  // Several `|` addresses need ZooKeeper's multiAddress.enabled, off by default; Corral
  // does not support them.
  if (part.find('|') != std::string_view::npos) return ErrorCode::kBadArguments;
  std::vector<std::string> fields = host_and_ports(part);
  if (fields.size() < 3 || fields.size() > 4) return ErrorCode::kBadArguments;
  auto quorum = port_of(fields[1]);
  auto election = port_of(fields[2]);
  for (auto* p : {&quorum, &election})
    if (auto* err = std::get_if<ErrorCode>(p)) return *err;
  out.host = fields[0];
  out.quorum_port = std::get<int>(quorum);
  out.election_port = std::get<int>(election);
  if (out.quorum_port == out.election_port) return ErrorCode::kBadArguments;
  if (fields.size() == 4) {
    std::string type = lower(fields[3]);
    if (type == "observer")
      out.role = QuorumRole::kObserver;
    else if (type == "participant")
      out.role = QuorumRole::kParticipant;
    else
      return ErrorCode::kBadArguments;
  }
  return std::nullopt;
}

}  // namespace

std::vector<int64_t> QuorumConfig::voters() const {
  std::vector<int64_t> out;
  for (const auto& [id, s] : servers)
    if (s.role == QuorumRole::kParticipant) out.push_back(id);
  return out;
}

QuorumRole QuorumConfig::role_of(int64_t id) const {
  auto it = servers.find(id);
  return it == servers.end() ? QuorumRole::kAbsent : it->second.role;
}

bool QuorumConfig::majority(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> unique(ids);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  size_t votes = static_cast<size_t>(std::count_if(unique.begin(), unique.end(), [&](int64_t id) {
    return role_of(id) == QuorumRole::kParticipant;
  }));
  return votes > voters().size() / 2;
}

std::string server_spec_text(const QuorumServer& s) {
  std::string out = delimited(s.host) + ":" + std::to_string(s.quorum_port) + ":" +
                    std::to_string(s.election_port);
  out += s.role == QuorumRole::kObserver ? ":observer" : ":participant";
  if (s.client_port != 0 && !s.client_from_static)
    out += ";" + delimited(s.client_host) + ":" + std::to_string(s.client_port);
  return out;
}

std::string QuorumConfig::text() const {
  std::string out;
  for (const auto& [id, s] : servers)
    out += "server." + std::to_string(id) + "=" + server_spec_text(s) + "\n";
  char hex[24];
  auto [end, ec] = std::to_chars(hex, hex + sizeof hex, static_cast<uint64_t>(version), 16);
  (void)ec;
  return out + "version=" + std::string(hex, end);
}

std::variant<QuorumServer, ErrorCode> parse_server_spec(int64_t id, std::string_view spec) {
  QuorumServer out;
  out.id = id;
  // Java's split(";") drops trailing empty parts; an empty client part means none.
  std::vector<std::string_view> parts = split(trim(spec), ';');
  while (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  // A third part is a secure client address, which Corral's ensembles do not carry.
  if (parts.size() > 2) return ErrorCode::kBadArguments;
  if (auto err = parse_server_part(parts[0], out)) return *err;
  if (parts.size() == 2 && !parts[1].empty()) {
    if (auto err = parse_client_part(parts[1], out)) return *err;
  }
  return out;
}

std::variant<QuorumConfig, ErrorCode> parse_dynamic(std::string_view text) {
  std::string lines(text);
  std::replace(lines.begin(), lines.end(), ',', '\n');
  QuorumConfig config;
  for (std::string_view raw : split(lines, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    size_t eq = line.find('=');
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : trim(line.substr(eq + 1));
    if (key == "version") {
      if (!parse_long(value, 16, config.version)) return ErrorCode::kMarshallingError;
    } else if (key.starts_with("server.")) {
      int64_t id = 0;
      if (!parse_long(key.substr(7), 10, id)) return ErrorCode::kMarshallingError;
      auto server = parse_server_spec(id, value);
      if (auto* err = std::get_if<ErrorCode>(&server)) return *err;
      config.servers[id] = std::get<QuorumServer>(server);
    } else {
      return ErrorCode::kBadArguments;  // unknown keys, and group/weight (hierarchical)
    }
  }
  if (config.voters().empty() && !config.servers.empty()) return ErrorCode::kMarshallingError;
  return config;
}

std::shared_ptr<const QuorumConfig> config_of(const tree::Txn& txn) {
  if (txn.type != wire::OpCode::kReconfig || txn.ops.size() != 1 || txn.ops[0].path != kConfigNode)
    return nullptr;
  auto parsed = parse_dynamic(txn.ops[0].data);
  auto* config = std::get_if<QuorumConfig>(&parsed);
  if (!config) return nullptr;
  return std::make_shared<const QuorumConfig>(std::move(*config));
}

}  // namespace corral::zab
