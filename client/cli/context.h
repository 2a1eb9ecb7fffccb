// What every command runs with.
#pragma once

#include "client/cli/events.h"
#include "client/cli/printer.h"
#include "corral/client/blocking.h"

namespace corral::cli {

/// The session, where output goes, and where watch events and connection changes arrive.
struct Context {
  client::BlockingClient& client;
  Printer& out;
  /// Filled by the client's state callback and by the watchers of waiting commands.
  EventQueue& events;
  /// In the shell: a -w watch prints its event whenever it comes instead of being waited for.
  bool interactive = false;
};

}  // namespace corral::cli
