// Runs one command against the session.
#pragma once

#include "client/cli/args.h"
#include "client/cli/context.h"

namespace corral::cli {

/// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitZooKeeperError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNoConnection = 3;
/// A -w wait ended by Ctrl-C before its event came.
inline constexpr int kExitInterrupted = 130;

/// Runs `inv` (help and quit included) and prints its result or error; returns its exit
/// status (kExitOk, kExitZooKeeperError, kExitUsage or kExitInterrupted).
int run_command(Context& ctx, const Invocation& inv);

}  // namespace corral::cli
