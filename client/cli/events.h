// Watch events and connection changes handed from the client's thread to the thread that
// waits for them, and the interruption (Ctrl-C) that ends such a wait.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <optional>

#include "client/cli/format.h"

namespace corral::cli {

/// A queue of events, filled from any thread and emptied by one waiting thread.
class EventQueue {
 public:
  /// Adds `event` and wakes the waiting thread.
  void push(Event event);
  /// The oldest event, waiting up to `timeout` for one.
  std::optional<Event> pop(std::chrono::milliseconds timeout);
  /// Drops every queued event.
  void clear();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

/// While alive, SIGINT (and SIGTERM when asked) set a flag instead of ending the process;
/// the signals' previous handlers come back afterwards. Installed without SA_RESTART, so a
/// blocking read returns EINTR.
class InterruptScope {
 public:
  explicit InterruptScope(bool also_sigterm);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  bool also_sigterm_;
};

/// True if SIGINT or SIGTERM arrived (under an InterruptScope) since the last call.
bool take_interrupt();

}  // namespace corral::cli
