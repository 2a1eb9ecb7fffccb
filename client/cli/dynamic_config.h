// The ensemble's config text (/zookeeper/config, dynamic config files) as zkCli reads it:
// `server.N=spec` lines and a `version=` line, in java.util.Properties syntax.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::cli {

/// The key=value entries of Properties text in the order Java 17's Properties (a
/// ConcurrentHashMap) iterates them, which is the order zkCli prints them in. Blank lines
/// and comments (# or !) are skipped; the key ends at the first '=', ':' or blank; both are
/// trimmed. Line continuations and escapes are not supported (config texts have none).
std::vector<std::pair<std::string, std::string>> properties_in_java_order(std::string_view text);

/// What `config -c` prints (ConfigUtils.getClientConfigStr): the version, a blank, and the
/// client address of every server line, comma-separated ("100000000 127.0.0.1:2181,...").
std::string client_config_text(std::string_view config);

/// The hexadecimal version of a config text ("100000003"), or "" when it has none.
std::string config_version(std::string_view config);

/// A dynamic config file read for `reconfig -file`: the new membership, or why not.
struct MembersFile {
  /// Its server./group./weight. lines, newline-separated, in file order.
  std::string members;
  std::string error;
  bool ok() const { return error.empty(); }
};

/// Reads `path` as zkCli's `reconfig -file` does: only server.N, group.N, weight.N and
/// version keys are allowed, and at least one server.N line is needed.
MembersFile read_members_file(const std::string& path);

}  // namespace corral::cli
