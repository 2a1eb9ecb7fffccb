// What the cores of the waiting recipes (barriers, queue, group, config) share (internal):
// the client, a strand of its executor, the signal their waits sleep on, and the two flags
// a waiter checks after every wake-up: the session was lost, or cancel() was called (an
// epoch, so that only the waits begun before the cancel end).
#pragma once

#include <memory>

#include "coro.h"

namespace corral::recipes::detail {

/// The shared part of a recipe's core; its members are touched on `strand` only.
struct WaitingCore {
  explicit WaitingCore(Client& c)
      : client(c),
        strand(asio::make_strand(c.executor())),
        wake(std::make_shared<Signal>(strand)) {}
  virtual ~WaitingCore() = default;

  /// From now on, the loss of the session (or the client's close) sets `lost`, runs
  /// on_session_lost() and wakes every waiter, on the strand. `self` is this core.
  void watch_session(std::weak_ptr<WaitingCore> self) {
    subscription = client.subscribe_state([self](client::ConnectionState s) {
      auto core = self.lock();
      if (!core || (s != client::ConnectionState::kLost && s != client::ConnectionState::kClosed))
        return;
      asio::post(core->strand, [core] {
        core->lost = true;
        core->on_session_lost();
        core->wake->notify();
      });
    });
  }

  /// Ends every wait begun before now with ZCLOSING. `self` is this core.
  static void cancel_waits(std::shared_ptr<WaitingCore> self) {
    asio::post(self->strand, [self] {
      ++self->cancel_epoch;
      self->wake->notify();
    });
  }

  /// What else the loss of the session changes (on the strand).
  virtual void on_session_lost() {}

  Client& client;
  Strand strand;
  std::shared_ptr<Signal> wake;
  client::StateSubscription subscription;
  uint64_t cancel_epoch = 0;
  bool lost = false;
};

}  // namespace corral::recipes::detail
