// What `corral-server --check-config` prints: every setting the server will run with, as
// zoo.cfg keys with the defaults filled in and secrets masked. A key added to config.cc's
// setters belongs here too (tests/admin_tool/server_flags_test.cc checks the list).
#pragma once

#include <string>

#include "ensemble/server/config.h"

namespace corral::server {

/// `key=value` lines for every setting of `config`, in zoo.cfg's vocabulary; passwords and
/// digests show as "****" when set. Lines starting with '#' are notes (ignored keys, the
/// JAAS users' names).
std::string effective_config_text(const ServerConfig& config);

}  // namespace corral::server
