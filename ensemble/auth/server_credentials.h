// The DIGEST-MD5 users of a ZooKeeper server, from its JAAS configuration file: each
// `user_NAME="password"` option of the login section (by default `Server`).
#pragma once

#include <map>
#include <string>

#include "wire/sasl/jaas_config.h"

namespace corral::auth {

/// User name -> password.
using SaslUsers = std::map<std::string, std::string>;

/// Reads and parses the JAAS file at `path`. Throws sasl::JaasError naming the file (and line)
/// when it cannot be read or parsed.
sasl::JaasConfig read_jaas_file(const std::string& path);

/// Reads the JAAS file at `path` and collects the `user_*` options of every login module in
/// section `section`. Throws sasl::JaasError naming the file (and line) when the file cannot
/// be read or parsed, or has no such section while `required` (else: no users).
SaslUsers load_server_users(const std::string& path, const std::string& section,
                            bool required = true);

}  // namespace corral::auth
