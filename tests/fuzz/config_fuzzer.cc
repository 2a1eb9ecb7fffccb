// libFuzzer target: parse_config (ensemble/server/config.h) on arbitrary text.
//
// The outcome must be a ConfigError whose message names the file, or a config
// that holds what the server relies on (ranges, timeouts min <= max, unique
// server ids, ...). And a parsed config, written back as zoo.cfg, must parse to
// the same settings: the parser keeps exactly what the file says. Only the
// settings below are written back, so keys added later do not break that check.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "ensemble/server/config.h"

namespace {

using corral::server::ConfigError;
using corral::server::parse_config;
using corral::server::PeerType;
using corral::server::ServerConfig;

constexpr const char* kSource = "fuzz.cfg";

/// Reports a broken invariant and aborts, so libFuzzer records the input.
void check(bool ok, const char* what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "config_fuzzer: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

/// A host or address as zoo.cfg needs it: IPv6 addresses in brackets.
std::string host(const std::string& h) {
  return h.find(':') == std::string::npos ? h : "[" + h + "]";
}

/// The settings the parser knows, as zoo.cfg text.
std::string render(const ServerConfig& c) {
  std::string out;
  auto put = [&](const std::string& key, const std::string& value) {
    out += key + "=" + value + "\n";
  };
  put("tickTime", std::to_string(c.tick_ms));
  put("dataDir", c.data_dir);
  put("dataLogDir", c.data_log_dir);
  if (c.client_port != 0) {
    put("clientPort", std::to_string(c.client_port));
    put("clientPortAddress", c.client_port_address);
  }
  put("maxClientCnxns", std::to_string(c.max_client_cnxns));
  put("minSessionTimeout", std::to_string(c.min_session_timeout_ms));
  put("maxSessionTimeout", std::to_string(c.max_session_timeout_ms));
  std::string words;
  for (const auto& w : c.four_letter_words) words += (words.empty() ? "" : ",") + w;
  put("4lw.commands.whitelist", words);
  put("jute.maxbuffer", std::to_string(c.jute_max_buffer));
  put("znode.container.checkIntervalMs", std::to_string(c.container_check_interval_ms));
  put("extendedTypesEnabled", c.extended_types_enabled ? "true" : "false");
  if (!c.super_digest.empty()) put("DigestAuthenticationProvider.superDigest", c.super_digest);
  put("initLimit", std::to_string(c.init_limit));
  put("syncLimit", std::to_string(c.sync_limit));
  put("peerType", c.peer_type == PeerType::observer ? "observer" : "participant");
  put("forceSync", c.force_sync ? "yes" : "no");
  put("snapCount", std::to_string(c.snap_count));
  put("autopurge.snapRetainCount", std::to_string(c.autopurge_snap_retain_count));
  put("autopurge.purgeInterval", std::to_string(c.autopurge_purge_interval_hours));
  put("readonlymode.enabled", c.readonly_mode_enabled ? "true" : "false");
  for (const auto& s : c.servers) {
    std::string v = host(s.host) + ":" + std::to_string(s.quorum_port) + ":" +
                    std::to_string(s.election_port) + (s.observer ? ":observer" : ":participant");
    if (s.client_port != 0) v += ";" + host(s.client_address) + ":" + std::to_string(s.client_port);
    put("server." + std::to_string(s.id), v);
  }
  return out;
}

/// What the server relies on in any config parse_config accepts.
void check_valid(const ServerConfig& c) {
  check(c.tick_ms > 0 && c.init_limit > 0 && c.sync_limit > 0, "a non-positive time setting");
  check(c.jute_max_buffer > 0 && c.snap_count > 0 && c.container_check_interval_ms > 0,
        "a non-positive size or interval");
  check(c.max_client_cnxns >= 0 && c.autopurge_purge_interval_hours >= 0, "a negative limit");
  check(c.autopurge_snap_retain_count >= 3, "fewer than 3 snapshots retained");
  check(!c.data_dir.empty() && !c.data_log_dir.empty(), "no dataDir or dataLogDir");
  check(c.client_port >= 0 && c.client_port <= 65535, "clientPort out of range");
  int min_ms = c.effective_min_session_timeout_ms();
  int max_ms = c.effective_max_session_timeout_ms();
  check(min_ms >= 0 && min_ms <= max_ms, "session timeouts: min > max or negative");
  check(c.four_letter_word_enabled("srvr"), "srvr is not answered");
  for (const auto& w : c.four_letter_words)
    check(!w.empty() && (w != "*" || c.four_letter_words.size() == 1), "a bad 4lw list entry", w);
  std::set<int64_t> ids;
  for (const auto& s : c.servers) {
    check(s.id >= 0 && ids.insert(s.id).second, "a negative or repeated server id");
    check(!s.host.empty(), "a server without a host");
    check(s.quorum_port >= 1 && s.quorum_port <= 65535 && s.election_port >= 1 &&
              s.election_port <= 65535,
          "a server port out of range");
    check(s.client_port >= 0 && s.client_port <= 65535 &&
              (s.client_port == 0) == s.client_address.empty(),
          "a server's client part is half set");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ServerConfig config;
  try {
    config = parse_config(text, kSource);
  } catch (const ConfigError& e) {
    check(std::string_view(e.what()).starts_with(kSource), "a ConfigError without the file name",
          e.what());
    return 0;
  }
  check_valid(config);
  std::string once = render(config);
  ServerConfig again;
  try {
    again = parse_config(once, kSource);
  } catch (const ConfigError& e) {
    check(false, "a parsed config, written back, does not parse", e.what());
  }
  check(render(again) == once, "a parsed config, written back, parses differently", once);
  return 0;
}
