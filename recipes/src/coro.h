// What the recipes' coroutines share (internal): spawning a coroutine that completes a Done,
// a wake-up signal for watchers, sleeping, and retrying idempotent calls across connection
// losses. Every recipe runs its coroutines on a strand of the client's executor, so a
// recipe's state is only touched there.
#pragma once

#include <algorithm>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <vector>

#include "corral/client/client.h"
#include "corral/client/retry.h"
#include "corral/recipes/async.h"

namespace corral::recipes::detail {

using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::any_io_executor>;
using asio::awaitable;
using asio::use_awaitable;
using client::Client;

/// Runs `coro` on `strand` and calls `done` with what it returns.
template <typename T>
void spawn(Strand strand, awaitable<Result<T>> coro, Done<T> done) {
  auto run = [](awaitable<Result<T>> c, Done<T> d) -> awaitable<void> { d(co_await std::move(c)); };
  asio::co_spawn(strand, run(std::move(coro), std::move(done)), [](std::exception_ptr e) {
    // A recipe's coroutines do not throw; an exception here is a bug in the recipe.
    if (e) std::rethrow_exception(e);
  });
}

/// `inner` (a member coroutine of `*self`, not started yet) with `self` kept alive until it
/// ends: the object may lose its last other owner before the coroutine runs.
template <typename T, typename S>
awaitable<T> holding(std::shared_ptr<S> self, awaitable<T> inner) {
  co_return co_await std::move(inner);
}

/// A wake-up for coroutines waiting on a strand: watchers (on any thread) call notify();
/// a waiter compares generations, so a notification between its look and its wait is not
/// lost. Any number may wait at once. Shared: watchers keep it alive.
class Signal : public std::enable_shared_from_this<Signal> {
 public:
  explicit Signal(Strand strand) : strand_(strand) {}

  /// Wakes every waiter (posted to the strand).
  void notify() {
    asio::post(strand_, [self = shared_from_this()] {
      ++self->generation_;
      for (auto* t : self->waiting_) t->cancel();
    });
  }
  /// A watcher that notifies this signal.
  client::Watcher watcher() {
    return [self = shared_from_this()](const client::WatchEvent&) { self->notify(); };
  }
  /// The count of notifications so far (read on the strand).
  uint64_t generation() const { return generation_; }
  /// Waits (on the strand) until a notification after `seen` or `deadline`; true if notified.
  awaitable<bool> wait(uint64_t seen, Clock::time_point deadline) {
    asio::steady_timer timer(strand_, deadline);
    waiting_.push_back(&timer);
    while (generation_ == seen && Clock::now() < deadline) {
      asio::error_code ec;
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &timer));
    co_return generation_ != seen;
  }

 private:
  Strand strand_;
  std::vector<asio::steady_timer*> waiting_;
  uint64_t generation_ = 0;
};

/// Sleeps on the current coroutine's executor.
inline awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  asio::error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

/// Calls `op()` (returning an awaitable Result) again after connection losses, with backoff,
/// for idempotent operations; stops at success, another error or after the policy's attempts.
template <typename Op>
auto retrying(Op op, client::RetryPolicy policy = {}) -> decltype(op()) {
  auto delay = policy.base_delay;
  for (int attempt = 1;; ++attempt) {
    auto r = co_await op();
    if (r.ok() || !client::retryable(r.error()) || attempt >= policy.max_attempts) co_return r;
    co_await sleep_for(delay);
    delay = std::min(delay * 2, policy.max_delay);
  }
}

/// For cleanup that must happen while the session lives (removing a lock node): retried
/// across connection losses until the session is back or gone.
inline constexpr client::RetryPolicy kUntilSessionEnds{1 << 30, std::chrono::milliseconds(50),
                                                       std::chrono::milliseconds(1000)};

/// True for the errors after which the session is gone for good.
inline bool session_gone(ErrorCode e) {
  return e == ErrorCode::kSessionExpired || e == ErrorCode::kClosing || e == ErrorCode::kAuthFailed;
}

}  // namespace corral::recipes::detail
