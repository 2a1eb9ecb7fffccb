// ZooKeeper 3.8's AdminServer commands (/commands/NAME), answered as JSON with ZooKeeper's
// command names, aliases and field names, from the server's own figures.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ensemble/server/admin/ops_view.h"

namespace corral::server {

/// The primary name of every command, sorted (what /commands lists).
std::vector<std::string> admin_command_names();

/// Runs command `name` (a primary name or an alias). Every answer
/// has "command" (the primary name) and "error" (null, or why it failed); an unknown name gets
/// ZooKeeper's {"command": name, "error": "Unknown command: name"}. Runs on the core's thread.
nlohmann::json run_admin_command(const std::string& name, const OpsView& view);

}  // namespace corral::server
