// What a master's and a worker's sessions share (internal): the Client of one ZooKeeper
// session, its state subscription, and the wake-up of the loop that acts on it. A lost session
// is never reused: the process makes a new one.
#pragma once

#include <corral/client/client.h>

#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace corral::mw {

/// One ZooKeeper session and its loop's wake-up; used on the io_context's one thread only.
struct Session {
  /// A Client (not started) for `zk` with `session_timeout`.
  Session(asio::io_context& io, const std::string& zk, std::chrono::milliseconds session_timeout)
      : client(make_client(io, zk, session_timeout)), wake(io) {}

  std::unique_ptr<client::Client> client;
  client::StateSubscription subscription;
  /// Lost or stopping: nothing more is done with this session.
  bool ended = false;
  /// Something changed: the loop reads the ensemble again.
  bool dirty = true;
  /// Wakes the loop.
  asio::steady_timer wake;

  /// Marks the view dirty and wakes the loop.
  void notify() {
    dirty = true;
    wake.cancel();
  }
  /// Waits `d` or until woken; true when the time ran out.
  asio::awaitable<bool> sleep(std::chrono::milliseconds d) {
    std::error_code ec;
    wake.expires_after(d);
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

 private:
  static std::unique_ptr<client::Client> make_client(asio::io_context& io, const std::string& zk,
                                                     std::chrono::milliseconds session_timeout) {
    client::Options o;
    o.connect_string = zk;
    o.session_timeout = session_timeout;
    return std::make_unique<client::Client>(io.get_executor(), std::move(o));
  }
};

}  // namespace corral::mw
