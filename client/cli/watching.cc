#include "client/cli/watching.h"

#include <atomic>
#include <memory>

#include "client/cli/commands.h"

namespace corral::cli {
namespace {

using client::ConnectionState;
using client::EventType;

constexpr std::chrono::milliseconds kPollInterval{100};

bool is_lost(ConnectionState state) {
  return state == ConnectionState::kLost || state == ConnectionState::kClosed ||
         state == ConnectionState::kAuthFailed;
}

Event watch_event(const client::WatchEvent& e) {
  return Event{ConnectionState::kConnected, e.type, e.path};
}

// Ends a wait because the session is gone.
int session_lost(Context& ctx, const std::string& what, const std::string& path) {
  ctx.out.error(what, path, client::ErrorCode::kSessionExpired);
  return kExitZooKeeperError;
}

}  // namespace

client::Watcher one_shot_watcher(Context& ctx) {
  if (ctx.interactive) {
    Printer& out = ctx.out;
    return [&out](const client::WatchEvent& e) { out.event(watch_event(e)); };
  }
  ctx.events.clear();
  EventQueue& events = ctx.events;
  return [&events](const client::WatchEvent& e) { events.push(watch_event(e)); };
}

int wait_for_watch_event(Context& ctx, const std::string& path) {
  if (ctx.interactive) return kExitOk;
  InterruptScope interrupts(/*also_sigterm=*/true);
  take_interrupt();
  while (true) {
    if (take_interrupt()) return kExitInterrupted;
    if (is_lost(ctx.client.state())) return session_lost(ctx, "watch " + path, path);
    std::optional<Event> event = ctx.events.pop(kPollInterval);
    if (event && event->type != EventType::kNone) {
      ctx.out.event(*event);
      return kExitOk;
    }
  }
}

int watch_command(Context& ctx, const std::string& path, bool recursive) {
  InterruptScope interrupts(/*also_sigterm=*/true);
  take_interrupt();
  // Events that come after the command ended (in the shell) are dropped.
  auto active = std::make_shared<std::atomic<bool>>(true);
  EventQueue& events = ctx.events;
  events.clear();
  auto mode =
      recursive ? client::AddWatchMode::kPersistentRecursive : client::AddWatchMode::kPersistent;
  auto r = ctx.client.add_watch(path, mode, [active, &events](const client::WatchEvent& e) {
    if (*active) events.push(watch_event(e));
  });
  if (!r) {
    ctx.out.error("watch " + path, path, r.error());
    return kExitZooKeeperError;
  }
  ctx.out.message("corral: watching " + path + (recursive ? " and its descendants" : "") +
                  "; Ctrl-C stops");
  int status = kExitOk;
  while (!take_interrupt()) {
    if (is_lost(ctx.client.state())) {
      status = session_lost(ctx, "watch " + path, path);
      break;
    }
    std::optional<Event> event = events.pop(kPollInterval);
    if (event) ctx.out.event(*event);
  }
  *active = false;
  if (ctx.interactive && status == kExitOk) {
    ctx.out.message("");  // the prompt on a line of its own, after the terminal's "^C"
    ctx.client.remove_watches(path, client::WatcherType::kAny);
  }
  return status;
}

}  // namespace corral::cli
