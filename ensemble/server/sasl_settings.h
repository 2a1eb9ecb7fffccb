// The SASL settings that come from outside zoo.cfg: ZooKeeper takes them as Java system
// properties (zkServer.sh passes SERVER_JVMFLAGS to the JVM), and its users from a JAAS file.
#pragma once

#include <string_view>

#include "ensemble/server/config.h"

namespace corral::server {

/// Applies the `-Dname=value` words of `jvm_flags` that ZooKeeper's SASL reads:
/// java.security.auth.login.config, zookeeper.sasl.serverconfig, zookeeper.superUser,
/// zookeeper.kerberos.removeHostFromPrincipal and zookeeper.kerberos.removeRealmFromPrincipal;
/// and zookeeper.skipACL (ZooKeeperServer's, which is no SASL setting). A setting zoo.cfg already
/// made (one not at its default) wins, as zoo.cfg's keys override system properties in ZooKeeper.
/// Other words are ignored.
void apply_jvm_flags(ServerConfig& config, std::string_view jvm_flags);

/// Fills config.sasl_users from the JAAS file (nothing when none is named). Throws ConfigError
/// naming the file and line when it cannot be read or parsed or lacks the login section.
void load_sasl_users(ServerConfig& config);

}  // namespace corral::server
