// The client ports: accepts plain (clientPort) and TLS (secureClientPort) connections,
// bounded per IP by maxClientCnxns over both, drives the core's timers, and owns the
// connections.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "ensemble/server/output_budget.h"
#include "ensemble/server/server_core.h"

namespace corral::server {

class ClientConnection;

/// Accepts clients and ticks the core.
class NetworkServer {
 public:
  NetworkServer(asio::io_context& io, ServerCore& core);
  /// Binds clientPortAddress:clientPort and secureClientPortAddress:secureClientPort (those
  /// set) and starts accepting; throws on bind failure, ConfigError on unusable ssl.* keys.
  void start();
  /// The plain port bound; 0 without clientPort.
  uint16_t port() const;
  /// The TLS port bound; 0 without secureClientPort.
  uint16_t secure_port() const;
  /// Stops accepting and closes every connection.
  void stop();

  ServerCore& core() { return core_; }
  /// Bytes queued for all clients against corral.outputBudgetBytes.
  OutputBudget& output_budget() { return budget_; }
  /// Wall-clock milliseconds, the time base handed to the core.
  static int64_t now_ms();
  /// Called by a connection when it has closed.
  void connection_closed(ClientConnection& c);
  /// Runs `f` on every tick, after the core's own timers.
  void on_tick(std::function<void()> f) { on_tick_ = std::move(f); }
  /// Resets every connection's counters (crst).
  void reset_connection_stats();

 private:
  void listen(asio::ip::tcp::acceptor& acceptor, const std::string& address, int port);
  void accept_next(asio::ip::tcp::acceptor& acceptor);
  void admit(std::shared_ptr<ClientConnection> c);
  void schedule_tick();
  /// Lets connection `id`, refused by the output budget, take requests again.
  void wake_connection(uint64_t id);
  /// Logs, at most every 10 s, that the output budget holds connections back.
  void log_budget_throttling(int64_t now_ms);
  /// Once a second: keeps alive the sessions of connections the output budget holds back,
  /// and closes connections whose replies have not moved for maxSessionTimeout.
  void sweep_connections(int64_t now_ms);

  asio::io_context& io_;
  ServerCore& core_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::acceptor secure_acceptor_;
  std::optional<asio::ssl::context> tls_;  ///< From ssl.*, with secureClientPort.
  asio::steady_timer tick_timer_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientConnection>> connections_;
  std::map<std::string, int> per_ip_;
  uint64_t next_id_ = 1;
  std::function<void()> on_tick_;
  OutputBudget budget_;
  uint64_t budget_refusals_logged_ = 0;
  int64_t budget_logged_ms_ = 0;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace corral::server
