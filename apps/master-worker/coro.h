// What the master's and the worker's coroutines share (internal).
#pragma once

#include <spdlog/spdlog.h>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>

namespace corral::mw {

/// Returns `f()`, an operation's awaitable, made inside `f`: the temporaries of the call
/// (strings built in place, an empty Watcher) die there, not in the coroutine's co_await
/// expression, where g++ 12 destroys some of them twice (GCC bug 100611).
///   auto d = co_await call([&] { return c.get(task_path(t), nullptr, use_awaitable); });
template <typename F>
auto call(F f) {
  return f();
}

/// Waits `d` on a timer of its own.
inline asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  std::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

/// co_spawn's completion: logs an exception that escaped a coroutine (there should be none).
inline void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("internal error: {}", x.what());
  }
}

}  // namespace corral::mw
