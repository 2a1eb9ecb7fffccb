// Retrying idempotent operations across connection losses, with backoff.
// (Writes that are not idempotent use Client::create_protected instead: after a
// connection loss it finds the node it created rather than creating a second one.)
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "corral/client/result.h"

namespace corral::client {

/// How often and how patiently to retry.
struct RetryPolicy {
  /// Attempts in all, the first included.
  int max_attempts = 10;
  /// The wait after the first failure; doubles each time up to `max_delay`.
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{2000};
};

/// True for the errors after which an idempotent operation may simply be tried again:
/// the connection was lost, or the server timed out; the session is still alive.
inline bool retryable(ErrorCode err) {
  return err == ErrorCode::kConnectionLoss || err == ErrorCode::kOperationTimeout;
}

/// Runs `op` (which starts one attempt and calls its argument with the Result) until it
/// succeeds, fails with a non-retryable error, or the attempts run out; completes `token`
/// with the last Result. Only for idempotent operations (reads, versioned writes, sync...).
///
///   auto r = co_await retry<DataResult>(ex, {}, [&](auto done) {
///     client.get("/cfg", nullptr, std::move(done));
///   }, asio::use_awaitable);
template <typename T, typename Op, typename Token>
auto retry(asio::any_io_executor executor, RetryPolicy policy, Op op, Token&& token) {
  return asio::async_initiate<Token, void(Result<T>)>(
      [executor, policy](auto handler, Op op) {
        struct State {
          std::function<void(std::function<void(Result<T>)>)> op;
          std::function<void(Result<T>)> finish;
          asio::steady_timer timer;
          RetryPolicy policy;
          int attempt = 0;
          std::chrono::milliseconds delay;
        };
        auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
        auto finish = [h, ex = asio::get_associated_executor(*h, executor)](Result<T> r) {
          asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        };
        auto state = std::make_shared<State>(State{std::move(op), std::move(finish),
                                                   asio::steady_timer(executor), policy, 0,
                                                   policy.base_delay});
        auto attempt = std::make_shared<std::function<void()>>();
        *attempt = [state, attempt] {
          ++state->attempt;
          state->op([state, attempt](Result<T> r) {
            if (r.ok() || !retryable(r.error()) || state->attempt >= state->policy.max_attempts) {
              auto finish = std::move(state->finish);
              *attempt = nullptr;  // breaks the cycle
              return finish(std::move(r));
            }
            state->timer.expires_after(state->delay);
            state->delay = std::min(state->delay * 2, state->policy.max_delay);
            state->timer.async_wait([attempt](const std::error_code&) {
              if (*attempt) (*attempt)();
            });
          });
        };
        (*attempt)();
      },
      token, std::move(op));
}

}  // namespace corral::client
