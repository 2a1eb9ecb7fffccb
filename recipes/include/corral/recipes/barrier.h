// A barrier that holds processes back while it is set (Curator's DistributedBarrier layout:
// the barrier is the node itself, so a Java service using Curator and a C++ service using
// Corral share one barrier).
//
//   Barrier gate(client, "/barriers/deploy");
//   co_await gate.set(asio::use_awaitable);                  // coordinator: close the gate
//   auto r = co_await gate.wait(30s, asio::use_awaitable);  // workers: wait for it to open
//   co_await gate.remove(asio::use_awaitable);               // coordinator: open it
//
// Keep the Client alive as long as the Barrier.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes {

namespace detail {
class BarrierCore;
}

/// A barrier on `path`: set while the node exists, open once it is gone.
class Barrier {
 public:
  /// A barrier on `path` (nothing is created until set()).
  Barrier(client::Client& client, std::string path);
  /// Fails waits in progress with ZCLOSING (the barrier node stays as it is).
  ~Barrier();
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Sets the barrier: creates its node (and missing parents, as containers). Succeeds when
  /// it was set already.
  template <typename Token>
  auto set(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { set_impl(std::move(done)); });
  }
  /// Removes the barrier: every waiter goes on. Succeeds when it was not set.
  template <typename Token>
  auto remove(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { remove_impl(std::move(done)); });
  }
  /// Waits up to `timeout` (kWaitForever: no limit) until the barrier is not set. Fails with
  /// ZOPERATIONTIMEOUT when the time ran out, ZCLOSING when cancelled, ZSESSIONEXPIRED when
  /// the session was lost, or the client's error.
  template <typename Token>
  auto wait(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<void>(executor(), token, [this, timeout](Done<void> done) {
      wait_impl(timeout, std::move(done));
    });
  }
  /// Fails every wait in progress with ZCLOSING.
  void cancel();
  /// The barrier's path.
  const std::string& path() const { return path_; }

 private:
  asio::any_io_executor executor() const;
  void set_impl(Done<void> done);
  void remove_impl(Done<void> done);
  void wait_impl(std::chrono::milliseconds timeout, Done<void> done);

  std::string path_;
  std::shared_ptr<detail::BarrierCore> core_;
};

}  // namespace corral::recipes
