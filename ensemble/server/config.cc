#include "ensemble/server/config.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "ensemble/server/config_line.h"

namespace corral::server {

namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kIdMax = std::numeric_limits<int64_t>::max();

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t next = s.find(separator, at);
    parts.push_back(s.substr(at, next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

// Decimal, or hexadecimal with 0x as Java's Integer.decode (behind Integer.getInteger) allows.
std::optional<int64_t> to_int(std::string_view text, int64_t min, int64_t max) {
  int base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

namespace config_line {

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\f\v\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

void fail(const Line& line, std::string_view problem) {
  throw ConfigError(fmt::format("{}:{}: {}: {}", line.source, line.number, line.key, problem));
}

bool boolean(const Line& line, std::string_view yes, std::string_view no) {
  std::string value = lower(line.value);
  if (value != yes && value != no) {
    fail(line, fmt::format("expected {} or {}, got '{}'", yes, no, line.value));
  }
  return value == yes;
}

}  // namespace config_line

namespace {

using config_line::boolean;
using config_line::fail;
using config_line::Line;
using config_line::trim;

int64_t int_value(const Line& line, int64_t min, int64_t max, std::string_view expected) {
  auto value = to_int(line.value, min, max);
  if (!value) fail(line, fmt::format("expected {}, got '{}'", expected, line.value));
  return *value;
}

int positive(const Line& line) { return int_value(line, 1, kIntMax, "a positive integer"); }

int non_negative(const Line& line) { return int_value(line, 0, kIntMax, "a non-negative integer"); }

int session_timeout(const Line& line) {
  return int_value(line, -1, kIntMax, "a non-negative integer or -1");
}

std::vector<std::string> word_list(std::string_view value) {
  std::vector<std::string> words;
  for (std::string_view part : split(value, ',')) {
    std::string_view word = trim(part);
    if (word == "*") return {"*"};
    if (!word.empty()) words.emplace_back(word);
  }
  return words;
}

std::string digest(const Line& line) {
  size_t colon = line.value.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == line.value.size()) {
    fail(line, fmt::format("expected user:base64hash, got '{}'", line.value));
  }
  return std::string(line.value);
}

// ZooKeeper keeps at least three snapshots whatever the setting says.
int snap_retain_count(const Line& line) {
  int count = non_negative(line);
  if (count >= 3) return count;
  spdlog::warn("{}:{}: {}: {} is below the minimum, using 3", line.source, line.number, line.key,
               count);
  return 3;
}

PeerType peer_type(const Line& line) {
  return boolean(line, "observer", "participant") ? PeerType::observer : PeerType::participant;
}

constexpr std::string_view kPrometheusProvider =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

// ZooKeeper loads the named class; Corral has its two providers built in.
std::string metrics_provider(const Line& line) {
  if (line.value != kPrometheusProvider &&
      line.value != "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider") {
    fail(line, fmt::format("only {} and org.apache.zookeeper.metrics.impl.DefaultMetricsProvider "
                           "are built in, got '{}'",
                           kPrometheusProvider, line.value));
  }
  return std::string(line.value);
}

using Setter = void (*)(ServerConfig&, const Line&);
// The keys Corral uses, other than server.N.
const std::map<std::string_view, Setter>& setters() {
  static const std::map<std::string_view, Setter> table = {
      {"tickTime", [](ServerConfig& c, const Line& l) { c.tick_ms = positive(l); }},
      {"dataDir", [](ServerConfig& c, const Line& l) { c.data_dir = l.value; }},
      {"dataLogDir", [](ServerConfig& c, const Line& l) { c.data_log_dir = l.value; }},
      {"clientPort",
       [](ServerConfig& c, const Line& l) {
         c.client_port = int_value(l, 0, 65535, "a port number (0-65535)");
       }},
      {"clientPortAddress",
       [](ServerConfig& c, const Line& l) { c.client_port_address = l.value; }},
      {"maxClientCnxns",
       [](ServerConfig& c, const Line& l) { c.max_client_cnxns = non_negative(l); }},
      {"minSessionTimeout",
       [](ServerConfig& c, const Line& l) { c.min_session_timeout_ms = session_timeout(l); }},
      {"maxSessionTimeout",
       [](ServerConfig& c, const Line& l) { c.max_session_timeout_ms = session_timeout(l); }},
      {"4lw.commands.whitelist",
       [](ServerConfig& c, const Line& l) { c.four_letter_words = word_list(l.value); }},
      {"jute.maxbuffer", [](ServerConfig& c, const Line& l) { c.jute_max_buffer = positive(l); }},
      {"znode.container.checkIntervalMs",
       [](ServerConfig& c, const Line& l) { c.container_check_interval_ms = positive(l); }},
      {"extendedTypesEnabled",
       [](ServerConfig& c, const Line& l) {
         c.extended_types_enabled = boolean(l, "true", "false");
       }},
      {"DigestAuthenticationProvider.superDigest",
       [](ServerConfig& c, const Line& l) { c.super_digest = digest(l); }},
      {"zookeeper.DigestAuthenticationProvider.superDigest",
       [](ServerConfig& c, const Line& l) { c.super_digest = digest(l); }},
      {"initLimit", [](ServerConfig& c, const Line& l) { c.init_limit = positive(l); }},
      {"syncLimit", [](ServerConfig& c, const Line& l) { c.sync_limit = positive(l); }},
      {"peerType", [](ServerConfig& c, const Line& l) { c.peer_type = peer_type(l); }},
      {"forceSync", [](ServerConfig& c, const Line& l) { c.force_sync = boolean(l, "yes", "no"); }},
      {"snapCount", [](ServerConfig& c, const Line& l) { c.snap_count = positive(l); }},
      {"autopurge.snapRetainCount",
       [](ServerConfig& c, const Line& l) {
         c.autopurge_snap_retain_count = snap_retain_count(l);
       }},
      {"autopurge.purgeInterval",
       [](ServerConfig& c, const Line& l) { c.autopurge_purge_interval_hours = non_negative(l); }},
      {"readonlymode.enabled",
       [](ServerConfig& c, const Line& l) {
         c.readonly_mode_enabled = boolean(l, "true", "false");
       }},
      // -- authorization (watch ACLs, exists READ) --
      {"corral.exists.checkReadAcl",
       [](ServerConfig& c, const Line& l) { c.exists_checks_read = boolean(l, "true", "false"); }},
      // -- SASL (client port) --
      {"java.security.auth.login.config",
       [](ServerConfig& c, const Line& l) { c.jaas_config_path = l.value; }},
      {"sasl.serverconfig", [](ServerConfig& c, const Line& l) { c.sasl_login_section = l.value; }},
      {"superUser", [](ServerConfig& c, const Line& l) { c.sasl_super_user = l.value; }},
      {"kerberos.removeHostFromPrincipal",
       [](ServerConfig& c, const Line& l) {
         c.kerberos_remove_host = boolean(l, "true", "false");
       }},
      {"kerberos.removeRealmFromPrincipal",
       [](ServerConfig& c, const Line& l) {
         c.kerberos_remove_realm = boolean(l, "true", "false");
       }},
      // -- TLS (client port, x509) --
      {"secureClientPort",
       [](ServerConfig& c, const Line& l) {
         c.secure_client_port = int_value(l, 0, 65535, "a port number (0-65535)");
       }},
      {"secureClientPortAddress",
       [](ServerConfig& c, const Line& l) { c.secure_client_port_address = l.value; }},
      // ZooKeeper needs NettyServerCnxnFactory for TLS; Corral's one network layer does both.
      {"serverCnxnFactory", [](ServerConfig&, const Line&) {}},
      {"sslQuorum",
       [](ServerConfig& c, const Line& l) { c.ssl_quorum = boolean(l, "true", "false"); }},
      // ZooKeeper enables its x509 provider itself when secureClientPort is set; naming it
      // again is allowed, naming another class is not something Corral can load.
      {"authProvider.x509",
       [](ServerConfig&, const Line& l) {
         if (l.value != "org.apache.zookeeper.server.auth.X509AuthenticationProvider") {
           fail(l, "only org.apache.zookeeper.server.auth.X509AuthenticationProvider is built in");
         }
       }},
      {"ssl.authProvider",
       [](ServerConfig&, const Line& l) {
         if (l.value != "x509") fail(l, fmt::format("only x509 is built in, got '{}'", l.value));
       }},
      {"X509AuthenticationProvider.superUser",
       [](ServerConfig& c, const Line& l) { c.x509_super_user = l.value; }},
      // ssl.* and ssl.quorum.*: see tls_setters().
      // -- quorum security (sslQuorum, quorum SASL) --
      {"quorum.auth.enableSasl",
       [](ServerConfig& c, const Line& l) {
         c.quorum_auth_enable_sasl = boolean(l, "true", "false");
       }},
      {"quorum.auth.learnerRequireSasl",
       [](ServerConfig& c, const Line& l) {
         c.quorum_auth_learner_require_sasl = boolean(l, "true", "false");
       }},
      {"quorum.auth.serverRequireSasl",
       [](ServerConfig& c, const Line& l) {
         c.quorum_auth_server_require_sasl = boolean(l, "true", "false");
       }},
      {"quorum.auth.learner.saslLoginContext",
       [](ServerConfig& c, const Line& l) { c.quorum_learner_login_context = l.value; }},
      {"quorum.auth.server.saslLoginContext",
       [](ServerConfig& c, const Line& l) { c.quorum_server_login_context = l.value; }},
      {"corral.quorum.sendQueueMaxBytes",
       [](ServerConfig& c, const Line& l) {
         c.quorum_send_queue_max_bytes = int_value(l, 1, kIdMax, "a positive number of bytes");
       }},
      // -- limits and overload --
      {"globalOutstandingLimit",
       [](ServerConfig& c, const Line& l) { c.global_outstanding_limit = positive(l); }},
      {"corral.connectionOutstandingLimit",
       [](ServerConfig& c, const Line& l) { c.connection_outstanding_limit = positive(l); }},
      {"corral.connectionOutputLimitBytes",
       [](ServerConfig& c, const Line& l) {
         c.connection_output_limit_bytes = int_value(l, 65536, kIntMax, "at least 65536 bytes");
       }},
      {"corral.outputBudgetBytes",
       [](ServerConfig& c, const Line& l) {
         c.output_budget_bytes = int_value(l, 1 << 20, kIdMax, "at least 1048576 bytes");
       }},
      // -- metrics (metricsProvider.*) --
      {"metricsProvider.className",
       [](ServerConfig& c, const Line& l) { c.metrics_provider_class = metrics_provider(l); }},
      {"metricsProvider.httpPort",
       [](ServerConfig& c, const Line& l) {
         c.metrics_http_port = int_value(l, 1, 65535, "a port number (1-65535)");
       }},
      {"metricsProvider.httpHost",
       [](ServerConfig& c, const Line& l) { c.metrics_http_host = l.value; }},
      {"metricsProvider.exportJvmInfo",
       [](ServerConfig& c, const Line& l) {
         c.metrics_export_jvm_info = boolean(l, "true", "false");
       }},
      // -- AdminServer (admin.*) --
      {"admin.enableServer",
       [](ServerConfig& c, const Line& l) { c.admin_enable_server = boolean(l, "true", "false"); }},
      {"admin.serverAddress",
       [](ServerConfig& c, const Line& l) { c.admin_server_address = l.value; }},
      {"admin.serverPort",
       [](ServerConfig& c, const Line& l) {
         c.admin_server_port = int_value(l, 1, 65535, "a port number (1-65535)");
       }},
      {"admin.commandURL",
       [](ServerConfig& c, const Line& l) {
         if (!l.value.starts_with('/')) fail(l, fmt::format("expected a path starting with '/', got '{}'", l.value));
         c.admin_command_url = l.value;
       }},
      {"admin.idleTimeout",
       [](ServerConfig& c, const Line& l) { c.admin_idle_timeout_ms = positive(l); }},
      // -- quorum frames (hostile peers) --
      {"corral.quorum.maxFrameBytes",
       [](ServerConfig& c, const Line& l) {
         // A PROPOSAL carries one txn of up to jute.maxbuffer (1 MiB) of data, or txns folded
         // up to zab::kFoldBytes (512 KiB); the length is 32 bits.
         c.quorum_max_frame_bytes = int_value(l, int64_t{2} << 20, 0xffffffffll,
                                              "between 2097152 and 4294967295 bytes");
       }},
      // -- dynamic reconfiguration (reconfigEnabled, dynamicConfigFile) --
      {"reconfigEnabled",
       [](ServerConfig& c, const Line& l) { c.reconfig_enabled = boolean(l, "true", "false"); }},
      {"standaloneEnabled",
       [](ServerConfig& c, const Line& l) { c.standalone_enabled = boolean(l, "true", "false"); }},
      // Read (with the zoo.cfg lines it forbids) by load_dynamic_config, once all is parsed.
      {"dynamicConfigFile",
       [](ServerConfig& c, const Line& l) {
         if (l.value.empty()) fail(l, "expected the path of a dynamic config file");
         c.dynamic_config_file = l.value;
       }},
      // -- skipACL --
      // ZooKeeper compares with "yes" and takes any other word for no; refusing other words
      // keeps a "true" or "YES" from being silently ignored.
      {"skipACL",
       [](ServerConfig& c, const Line& l) {
         if (l.value != "yes" && l.value != "no")
           fail(l, fmt::format("expected yes or no, got '{}'", l.value));
         c.skip_acl = l.value == "yes";
         c.skip_acl_in_cfg = true;
         if (c.skip_acl) spdlog::warn("{}:{}: skipACL=yes: no ACL is checked", l.source, l.number);
       }},
  };
  return table;
}

// Splits "host:port:..." at colons, taking a bracketed IPv6 host ("[::1]:2888") whole, as
// ZooKeeper's ConfigUtils.getHostAndPort does. Returns nothing for an unclosed bracket.
std::optional<std::vector<std::string_view>> host_and_ports(std::string_view s) {
  if (!s.starts_with('[')) return split(s, ':');
  size_t close = s.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = s.substr(close + 1);
  if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
  std::vector<std::string_view> parts{s.substr(1, close - 1)};
  if (!rest.empty()) {
    for (std::string_view part : split(rest.substr(1), ':')) parts.push_back(part);
  }
  return parts;
}

int port(const Line& line, std::string_view what, std::string_view text) {
  auto value = to_int(text, 1, 65535);
  if (!value) fail(line, fmt::format("{}: expected a port number (1-65535), got '{}'", what, text));
  return static_cast<int>(*value);
}

void parse_client_part(const Line& line, std::string_view text, PeerSpec& peer) {
  auto parts = host_and_ports(text);
  if (!parts || parts->size() > 2 || (parts->size() == 2 && (*parts)[0].empty())) {
    fail(line, fmt::format("expected [clientAddress:]clientPort after ';', got '{}'", text));
  }
  peer.client_address = parts->size() == 2 ? (*parts)[0] : "0.0.0.0";
  peer.client_port = port(line, "client port", parts->back());
}

// server.N=host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]
PeerSpec parse_server(const Line& line) {
  constexpr std::string_view kForm =
      "host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]";
  auto id = to_int(line.key.substr(line.key.find('.') + 1), 0, kIdMax);
  if (!id) fail(line, "expected server.N with N a non-negative integer");
  if (line.value.find('|') != std::string_view::npos) {
    fail(line, "several addresses per server ('|') are not supported");
  }
  std::vector<std::string_view> halves = split(line.value, ';');
  auto parts = host_and_ports(halves[0]);
  if (halves.size() > 2 || !parts || parts->size() < 3 || parts->size() > 4 ||
      (*parts)[0].empty()) {
    fail(line, fmt::format("expected {}, got '{}'", kForm, line.value));
  }
  PeerSpec peer;
  peer.id = *id;
  peer.host = (*parts)[0];
  peer.quorum_port = port(line, "quorum port", (*parts)[1]);
  peer.election_port = port(line, "election port", (*parts)[2]);
  if (parts->size() == 4) {
    std::string type = lower((*parts)[3]);
    if (type != "observer" && type != "participant") {
      fail(line, fmt::format("expected participant or observer, got '{}'", (*parts)[3]));
    }
    peer.observer = type == "observer";
  }
  if (halves.size() == 2) parse_client_part(line, halves[1], peer);
  return peer;
}

/// Parsing state: the config being filled and where each key was last seen.
class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  void take(int number, std::string_view text) {
    text = trim(text);
    if (text.empty() || text[0] == '#' || text[0] == '!') return;
    size_t eq = text.find('=');
    Line line{source_, number, trim(text.substr(0, eq)), {}};
    if (eq == std::string_view::npos) fail(line, "expected key=value");
    if (line.key.empty()) fail(Line{source_, number, text, {}}, "expected a key before '='");
    line.value = trim(text.substr(eq + 1));
    key_lines_[std::string(line.key)] = number;
    assign(line);
  }

  ServerConfig finish() {
    if (config_.data_dir.empty()) {
      throw ConfigError(fmt::format("{}: dataDir: missing (required)", source_));
    }
    if (config_.data_log_dir.empty()) config_.data_log_dir = config_.data_dir;
    if (config_.client_port == 0 && key_lines_.contains("clientPortAddress")) {
      fail(line_of("clientPortAddress"), "set but clientPort is not");
    }
    int min_ms = config_.effective_min_session_timeout_ms();
    int max_ms = config_.effective_max_session_timeout_ms();
    if (min_ms > max_ms) {
      bool min_set = key_lines_.contains("minSessionTimeout");
      fail(line_of(min_set ? "minSessionTimeout" : "maxSessionTimeout"),
           fmt::format("the minimum session timeout ({} ms) is larger than the maximum ({} ms)",
                       min_ms, max_ms));
    }
    return std::move(config_);
  }

 private:
  void assign(const Line& line) {
    if (line.key.starts_with("server.")) return add_server(line);
    auto setter = setters().find(line.key);
    if (setter != setters().end()) return setter->second(config_, line);
    if (config_line::assign_tls(config_, line)) return;
    spdlog::warn("{}:{}: ignoring '{}' (not used by Corral)", source_, line.number, line.key);
    config_.ignored_keys.emplace_back(line.key);
  }

  void add_server(const Line& line) {
    PeerSpec peer = parse_server(line);
    auto [first, added] = server_lines_.emplace(peer.id, line.number);
    if (!added) {
      fail(line, fmt::format("duplicate server id {} (first at line {})", peer.id, first->second));
    }
    config_.servers.push_back(std::move(peer));
  }

  Line line_of(std::string_view key) const {
    return Line{source_, key_lines_.find(key)->second, key, {}};
  }

  std::string_view source_;
  ServerConfig config_;
  std::map<std::string, int, std::less<>> key_lines_;
  std::map<int64_t, int> server_lines_;
};

// The whole file; nothing if it does not exist; ConfigError if it cannot be read.
std::optional<std::string> read_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file && errno == ENOENT) return std::nullopt;
  std::string text;
  char buffer[4096];
  size_t n = 0;
  while (file && (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (!file || std::ferror(file.get())) {
    throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  }
  return text;
}

std::optional<int64_t> read_my_id(const std::string& data_dir) {
  std::string path = data_dir + "/myid";
  std::optional<std::string> text = read_file(path);
  if (!text) return std::nullopt;
  std::string_view first_line = trim(std::string_view(*text).substr(0, text->find('\n')));
  auto id = to_int(first_line, 0, kIdMax);
  if (!id) {
    throw ConfigError(fmt::format("{}: expected a server id (a non-negative integer), got '{}'",
                                  path, first_line));
  }
  return id;
}

// `ticks` * tick_ms, saturated rather than overflowing for absurd tick times.
int ticks_ms(const ServerConfig& config, int ticks) {
  return static_cast<int>(std::min<int64_t>(int64_t{ticks} * config.tick_ms, kIntMax));
}

bool is_any_address(std::string_view address) {
  return address == "0.0.0.0" || address == "::" || address == "0:0:0:0:0:0:0:0";
}

}  // namespace

// ZooKeeper's QuorumPeerConfig.setupClientPort: this server's client address comes from its
// server.N line when that has one; clientPort/clientPortAddress may only repeat it.
void apply_own_client_address(ServerConfig& config, const std::string& source) {
  auto own = std::find_if(config.servers.begin(), config.servers.end(),
                          [&](const PeerSpec& peer) { return peer.id == config.my_id; });
  if (own == config.servers.end() || own->client_port == 0) return;
  bool conflict = config.client_port != 0 && (config.client_port != own->client_port ||
                                              (!is_any_address(config.client_port_address) &&
                                               config.client_port_address != own->client_address));
  if (conflict) {
    throw ConfigError(fmt::format(
        "{}: server.{}: client address {}:{} differs from clientPortAddress:clientPort {}:{}",
        source, own->id, own->client_address, own->client_port, config.client_port_address,
        config.client_port));
  }
  config.client_port = own->client_port;
  config.client_port_address = own->client_address;
}

int ServerConfig::effective_min_session_timeout_ms() const {
  return min_session_timeout_ms == -1 ? ticks_ms(*this, 2) : min_session_timeout_ms;
}

int ServerConfig::effective_max_session_timeout_ms() const {
  return max_session_timeout_ms == -1 ? ticks_ms(*this, 20) : max_session_timeout_ms;
}

bool ServerConfig::prometheus_enabled() const {
  return metrics_provider_class == kPrometheusProvider;
}

bool ServerConfig::four_letter_word_enabled(std::string_view word) const {
  if (word == "srvr" || (word == "isro" && readonly_mode_enabled)) return true;
  return std::any_of(four_letter_words.begin(), four_letter_words.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == word; });
}

ServerConfig parse_config(std::string_view text, const std::string& source_name) {
  Parser parser(source_name);
  int number = 1;
  for (std::string_view line : split(text, '\n')) parser.take(number++, line);
  return parser.finish();
}

ServerConfig load_config(const std::string& path) {
  std::optional<std::string> text = read_file(path);
  if (!text) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(ENOENT)));
  ServerConfig config = parse_config(*text, path);
  std::optional<int64_t> my_id = read_my_id(config.data_dir);
  if (!my_id) return config;
  config.my_id = *my_id;
  apply_own_client_address(config, path);
  return config;
}

}  // namespace corral::server
