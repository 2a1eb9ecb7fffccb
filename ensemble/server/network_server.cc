#include "ensemble/server/network_server.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "ensemble/server/client_connection.h"

namespace corral::server {
namespace {

// How often the core's timers run: session expiry and container checks are
// decided at this granularity.
constexpr auto kTickInterval = std::chrono::milliseconds(20);

}  // namespace

NetworkServer::NetworkServer(asio::io_context& io, ServerCore& core)
    : io_(io), core_(core), acceptor_(io), tick_timer_(io) {}

int64_t NetworkServer::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void NetworkServer::start() {
  const auto& cfg = core_.config();
  asio::ip::tcp::endpoint ep(asio::ip::make_address(cfg.client_port_address),
                             static_cast<uint16_t>(cfg.client_port));
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  accept_next();
  schedule_tick();
}

void NetworkServer::stop() {
  asio::error_code ec;
  acceptor_.close(ec);
  tick_timer_.cancel();
  auto all = connections_;
  for (auto& [id, c] : all) c->close();
}

void NetworkServer::accept_next() {
  acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) accept_next();
      return;
    }
    auto c = std::make_shared<ClientConnection>(std::move(socket), *this, next_id_++);
    int limit = core_.config().max_client_cnxns;
    if (limit > 0 && per_ip_[c->address] >= limit) {
      spdlog::warn("too many connections from {} (max {}): closing", c->address, limit);
      ++core_.stats().connections_rejected;
      // Dropping the connection here closes its socket; the client sees the end.
    } else {
      ++per_ip_[c->address];
      connections_[c->id] = c;
      core_.attach(*c, now_ms());
      c->start();
    }
    accept_next();
  });
}

void NetworkServer::connection_closed(ClientConnection& c) {
  core_.detach(c);
  auto it = connections_.find(c.id);
  if (it == connections_.end()) return;
  if (--per_ip_[c.address] <= 0) per_ip_.erase(c.address);
  connections_.erase(it);
}

void NetworkServer::reset_connection_stats() {
  for (auto& [id, c] : connections_) {
    c->packets_received = c->packets_sent = 0;
    c->min_latency_ms = -1;
    c->max_latency_ms = c->total_latency_ms = c->last_latency_ms = 0;
    c->requests_completed = 0;
    c->last_zxid = 0;
    c->last_cxid = 0;
    c->last_op = "NA";
  }
}

void NetworkServer::schedule_tick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    core_.tick(now_ms());
    if (on_tick_) on_tick_();
    schedule_tick();
  });
}

}  // namespace corral::server
