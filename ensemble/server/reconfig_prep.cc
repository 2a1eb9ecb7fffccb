#include "ensemble/server/reconfig_prep.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "wire/jute.h"

namespace corral::server {

using wire::ErrorCode;
using zab::QuorumConfig;
using zab::QuorumServer;

namespace {

/// Java's String.trim: strips every char <= ' ' from both ends.
std::string_view java_trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

/// ZooKeeper's StringUtils.split: split, trim each part, drop the empty ones.
std::vector<std::string_view> split_trimmed(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != sep) continue;
    std::string_view part = java_trim(s.substr(start, i - start));
    if (!part.empty()) out.push_back(part);
    start = i + 1;
  }
  return out;
}

/// Java's Long.parseLong (decimal, optional sign, no spaces).
std::optional<int64_t> parse_long(std::string_view s) {
  if (s.starts_with('+') && s.size() > 1 && s[1] != '-') s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// One socket address of a member, as InetSocketAddress.equals compares them.
struct Endpoint {
  std::string host;  ///< Canonical: an IP literal's bytes, or the lower-case name.
  int port = 0;
  bool operator==(const Endpoint&) const = default;
};

std::optional<std::string> comparable_v4(const unsigned char* v4) {
  bool wildcard = std::all_of(v4, v4 + 4, [](auto b) { return b == 0; });
  if (wildcard || v4[0] == 127) return std::nullopt;
  return std::string(v4, v4 + 4);
}

/// The canonical host, or nothing for a wildcard or loopback address, which
/// checkAddressDuplicate leaves out (excludedSpecialAddresses).
std::optional<std::string> comparable_host(const std::string& host) {
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, host.c_str(), bytes.data()) == 1) return comparable_v4(bytes.data());
  if (inet_pton(AF_INET6, host.c_str(), bytes.data()) == 1) {
    // Java reads an IPv4-mapped literal as the IPv4 address.
    bool mapped = std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; }) &&
                  bytes[10] == 0xff && bytes[11] == 0xff;
    if (mapped) return comparable_v4(bytes.data() + 12);
    bool wildcard = std::all_of(bytes.begin(), bytes.end(), [](auto b) { return b == 0; });
    bool loopback = std::all_of(bytes.begin(), bytes.end() - 1, [](auto b) { return b == 0; }) &&
                    bytes[15] == 1;
    if (wildcard || loopback) return std::nullopt;
    return std::string(bytes.begin(), bytes.end());
  }
  std::string name = host;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "localhost") return std::nullopt;
  return name;
}

/// QuorumServer.myAddrs: quorum, client and election addresses, special ones left out.
std::vector<Endpoint> endpoints(const QuorumServer& s) {
  std::vector<Endpoint> out;
  auto add = [&](const std::string& host, int port) {
    if (auto h = comparable_host(host)) out.push_back({*h, port});
  };
  add(s.host, s.quorum_port);
  if (s.client_port != 0) add(s.client_host, s.client_port);
  add(s.host, s.election_port);
  return out;
}

/// The non-incremental form: the new member list replaces the config
/// (QuorumPeerConfig.parseDynamicConfig with its standaloneEnabled rules).
std::variant<QuorumConfig, ErrorCode> parse_members(std::string_view members,
                                                    bool standalone_enabled) {
  auto parsed = zab::parse_dynamic(members);  // commas count as line breaks there
  if (auto* err = std::get_if<ErrorCode>(&parsed)) return *err;
  QuorumConfig next = std::get<QuorumConfig>(std::move(parsed));
  size_t voters = next.voters().size();
  size_t observers = next.servers.size() - voters;
  // parseDynamicConfig throws IllegalArgumentException for these, which ZooKeeper's reconfig
  // does not catch as a ConfigException.
  if (voters == 0 && !standalone_enabled) return ErrorCode::kMarshallingError;
  if (voters <= 1 && standalone_enabled && observers > 0) return ErrorCode::kMarshallingError;
  return next;
}

/// One `server.N=spec` of the joining list, checked against the members so far.
std::optional<ErrorCode> join(std::string_view joiner, QuorumConfig& next) {
  std::vector<std::string_view> parts = split_trimmed(joiner, '=');
  if (parts.size() != 2) return ErrorCode::kBadArguments;
  size_t dot = parts[0].rfind('.');
  auto id = parse_long(dot == std::string_view::npos ? parts[0] : parts[0].substr(dot + 1));
  if (!id) return ErrorCode::kMarshallingError;  // NumberFormatException
  auto spec = zab::parse_server_spec(*id, parts[1]);
  if (auto* err = std::get_if<ErrorCode>(&spec)) return *err;
  const QuorumServer& server = std::get<QuorumServer>(spec);
  if (server.client_port == 0) return ErrorCode::kBadArguments;  // all three ports are needed
  for (const auto& [other_id, other] : next.servers) {
    if (other_id != server.id && addresses_clash(server, other)) return ErrorCode::kBadArguments;
  }
  next.servers[server.id] = server;
  return std::nullopt;
}

/// The incremental form: `leaving` ids go, then each joiner is added or replaces its id.
std::variant<QuorumConfig, ErrorCode> apply_changes(const wire::ReconfigRequest& request,
                                                    const QuorumConfig& last_seen) {
  QuorumConfig next = last_seen;
  if (request.leaving) {
    for (std::string_view leaving : split_trimmed(*request.leaving, ',')) {
      auto id = parse_long(leaving);
      if (!id) return ErrorCode::kMarshallingError;  // NumberFormatException
      next.servers.erase(*id);
    }
  }
  if (request.joining) {
    for (std::string_view joiner : split_trimmed(*request.joining, ',')) {
      if (auto err = join(joiner, next)) return *err;
    }
  }
  return next;
}

}  // namespace

std::variant<wire::ReconfigRequest, ErrorCode> decode_reconfig(std::string_view body) {
  try {
    wire::JuteReader r(body);
    return wire::ReconfigRequest::read(r);
  } catch (const wire::DecodeError&) {
    return ErrorCode::kMarshallingError;
  }
}

bool addresses_clash(const QuorumServer& a, const QuorumServer& b) {
  std::vector<Endpoint> theirs = endpoints(b);
  for (const Endpoint& mine : endpoints(a)) {
    if (std::find(theirs.begin(), theirs.end(), mine) != theirs.end()) return true;
  }
  return false;
}

std::variant<QuorumConfig, ErrorCode> plan_reconfig(const wire::ReconfigRequest& request,
                                                    const ReconfigView& view, int64_t new_version) {
  if (!view.reconfig_enabled) return ErrorCode::kReconfigDisabled;
  if (view.standalone) return ErrorCode::kUnimplemented;
  const QuorumConfig& active = *view.active;
  const QuorumConfig& last_seen = view.last_seen ? *view.last_seen : active;
  if (last_seen.version != active.version) return ErrorCode::kReconfigInProgress;
  if (request.cur_config_id != -1 && request.cur_config_id != last_seen.version)
    return ErrorCode::kBadVersion;

  auto planned = request.new_members ? parse_members(*request.new_members, view.standalone_enabled)
                                     : apply_changes(request, last_seen);
  if (auto* err = std::get_if<ErrorCode>(&planned)) return *err;
  QuorumConfig next = std::get<QuorumConfig>(std::move(planned));
  next.version = new_version;

  size_t min_voters = view.standalone_enabled ? 2 : 1;
  if (next.voters().size() < min_voters) return ErrorCode::kBadArguments;
  if (!view.quorum_synced(next)) return ErrorCode::kNewConfigNoQuorum;
  return next;
}

}  // namespace corral::server
