// Internal to corral_config: one `key=value` line of a zoo.cfg being parsed, and the checks
// the key tables (config.cc, config_tls.cc) share to turn its value into a setting or a
// ConfigError naming file:line:key.
#pragma once

#include <string_view>

#include "ensemble/server/config.h"

namespace corral::server::config_line {

/// One `key=value` line of the file being parsed.
struct Line {
  std::string_view source;  ///< the file's name, for messages
  int number = 0;           ///< 1-based line number
  std::string_view key;
  std::string_view value;
};

/// `s` without the spaces, tabs and line ends around it.
std::string_view trim(std::string_view s);

/// Throws ConfigError "source:number: key: problem".
[[noreturn]] void fail(const Line& line, std::string_view problem);

/// True for `yes`, false for `no`, in any case; anything else fails naming both.
bool boolean(const Line& line, std::string_view yes, std::string_view no);

/// Sets an ssl.quorum.* or ssl.* key (ZooKeeper's X509Util names, after the prefix) of the
/// quorum's or the secure client port's TlsSettings; false for any other key.
bool assign_tls(ServerConfig& config, const Line& line);

}  // namespace corral::server::config_line
