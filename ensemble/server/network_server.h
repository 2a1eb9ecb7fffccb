// The client port: accepts connections (bounded per IP by maxClientCnxns),
// drives the core's timers, and owns the connections.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "ensemble/server/server_core.h"

namespace corral::server {

class ClientConnection;

/// Accepts clients and ticks the core.
class NetworkServer {
 public:
  NetworkServer(asio::io_context& io, ServerCore& core);
  /// Binds clientPortAddress:clientPort and starts accepting; throws on bind failure.
  void start();
  /// The port actually bound (useful when clientPort is 0).
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  /// Stops accepting and closes every connection.
  void stop();

  ServerCore& core() { return core_; }
  /// Wall-clock milliseconds, the time base handed to the core.
  static int64_t now_ms();
  /// Called by a connection when it has closed.
  void connection_closed(ClientConnection& c);
  /// Runs `f` on every tick, after the core's own timers.
  void on_tick(std::function<void()> f) { on_tick_ = std::move(f); }
  /// Resets every connection's counters (crst).
  void reset_connection_stats();

 private:
  void accept_next();
  void schedule_tick();

  asio::io_context& io_;
  ServerCore& core_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer tick_timer_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientConnection>> connections_;
  std::map<std::string, int> per_ip_;
  uint64_t next_id_ = 1;
  std::function<void()> on_tick_;
};

}  // namespace corral::server
