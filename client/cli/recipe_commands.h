// Runs corral's recipe commands (lock, elect, barrier, group, counter) on a session.
#pragma once

#include "client/cli/printer.h"
#include "client/cli/recipe_args.h"
#include "corral/client/blocking.h"

namespace corral::cli {

/// Runs `command` and returns corral's exit status: the child's for lock and elect, else
/// kExitOk, kExitZooKeeperError (a ZooKeeper error or a timeout) or kExitInterrupted.
int run_recipe_command(client::BlockingClient& client, Printer& out, const RecipeCommand& command);

}  // namespace corral::cli
