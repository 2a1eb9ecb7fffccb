// The interactive shell: `corral -s HOSTS` without a command.
#pragma once

#include <string>

#include "client/cli/context.h"

namespace corral::cli {

/// Reads commands until quit, exit or end of input and runs each; an error is printed and
/// the shell goes on. On a terminal it prompts "[corral: HOSTS] " with line editing,
/// completion of commands and paths, and history in ~/.corral_history; otherwise it reads
/// plain lines (for scripts). Returns the exit status of the last command (0 if none ran),
/// as zkCli.sh does.
int run_shell(Context& ctx, const std::string& hosts);

}  // namespace corral::cli
