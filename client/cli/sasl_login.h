// The CLI's SASL login: `--sasl USER:PASSWORD`, or `--jaas FILE` naming a ZooKeeper client JAAS
// file whose `Client` section holds the DigestLoginModule's username and password.
#pragma once

#include <string>
#include <variant>

#include "corral/client/types.h"

namespace corral::cli {

/// Credentials, or why there are none (a message for the user).
using SaslLogin = std::variant<client::SaslCredentials, std::string>;

/// "USER:PASSWORD" (the password may contain ':'; the user may not be empty).
SaslLogin sasl_from_argument(const std::string& user_password);

/// The first login module of section `Client` in the JAAS file at `path` that has both a
/// `username` and a `password` option (ZooKeeper's client section,
/// e.g. `Client { org.apache.zookeeper.server.auth.DigestLoginModule required
/// username="bob" password="bobsecret"; };`).
SaslLogin sasl_from_jaas_file(const std::string& path);

}  // namespace corral::cli
