// How a recipe's asynchronous operations take Asio completion tokens, as the client's do: a
// callback `void(Result<T>)`, `asio::use_awaitable`, or `asio::use_future`.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <functional>
#include <memory>
#include <type_traits>

#include "corral/client/result.h"

namespace corral::recipes {

using client::ErrorCode;
using client::Result;

/// What a recipe's operation calls once with its outcome.
template <typename T>
using Done = std::function<void(Result<T>)>;

namespace detail {

/// Starts `start(done)` with a `done` that completes `token`'s handler on the handler's
/// executor (`executor` when it has none). The handler never runs inline.
template <typename T, typename Token, typename Start>
auto initiate(asio::any_io_executor executor, Token&& token, Start start) {
  return asio::async_initiate<Token, void(Result<T>)>(
      [executor](auto handler, Start start) mutable {
        auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
        auto ex = asio::get_associated_executor(*h, executor);
        start(Done<T>([h, ex](Result<T> r) mutable {
          asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        }));
      },
      token, std::move(start));
}

}  // namespace detail
}  // namespace corral::recipes
