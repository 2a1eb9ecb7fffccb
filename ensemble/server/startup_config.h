// The configuration corral-server runs with: zoo.cfg, then SERVER_JVMFLAGS and the JAAS
// file, then the checks that need all of it. Shared by startup and --check-config, so the
// two cannot disagree about what is an error.
#pragma once

#include <string>

#include "ensemble/server/config.h"

namespace corral::server {

/// Loads `path` as the server does before it opens its data directory: load_config(), the
/// dynamic config file (load_dynamic_config), the SERVER_JVMFLAGS environment variable, the
/// JAAS users; then requires a client port (plain or TLS) and, in an ensemble, this server's
/// myid among the server.N lines (its ports; with reconfigEnabled a newer stored config may
/// still leave it out: see startup_membership). Throws ConfigError naming the file (and line
/// and key where there is one).
ServerConfig load_startup_config(const std::string& path);

}  // namespace corral::server
