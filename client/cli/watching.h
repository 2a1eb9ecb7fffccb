// Watches: the one-shot watch of get/ls/stat -w, and the `watch` command's persistent one.
#pragma once

#include <string>

#include "client/cli/context.h"

namespace corral::cli {

/// A watcher for get/ls/stat -w: in the shell it prints the event when it comes; otherwise
/// it queues the event for wait_for_watch_event. Clears old events from the queue.
client::Watcher one_shot_watcher(Context& ctx);

/// Waits for the event of one_shot_watcher and prints it. Returns kExitOk, kExitInterrupted
/// on Ctrl-C, or kExitZooKeeperError when the session is lost first. Returns kExitOk at once
/// in the shell.
int wait_for_watch_event(Context& ctx, const std::string& path);

/// `watch [-R] path`: adds a persistent (recursive) watch and prints every event until
/// Ctrl-C or SIGTERM (kExitOk) or the session is lost (kExitZooKeeperError).
int watch_command(Context& ctx, const std::string& path, bool recursive);

}  // namespace corral::cli
