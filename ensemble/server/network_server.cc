#include "ensemble/server/network_server.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <chrono>
#include <vector>

#include "ensemble/server/client_connection.h"
#include "ensemble/server/tls_context.h"

namespace corral::server {
namespace {

// How often the core's timers run: session expiry and container checks are
// decided at this granularity.
constexpr auto kTickInterval = std::chrono::milliseconds(20);
// A crowd can hit the output budget many times a second; the log says so at most this often.
constexpr int64_t kBudgetLogIntervalMs = 10000;
constexpr int64_t kSweepIntervalMs = 1000;

}  // namespace

NetworkServer::NetworkServer(asio::io_context& io, ServerCore& core)
    : io_(io),
      core_(core),
      acceptor_(io),
      secure_acceptor_(io),
      tick_timer_(io),
      budget_(core.config().output_budget_bytes, core.config().jute_max_buffer,
              [this](uint64_t id) { wake_connection(id); }) {}

int64_t NetworkServer::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void NetworkServer::start() {
  const auto& cfg = core_.config();
  if (cfg.secure_client_port != 0) tls_.emplace(make_tls_server_context(cfg.client_tls));
  if (cfg.client_port != 0) listen(acceptor_, cfg.client_port_address, cfg.client_port);
  if (cfg.secure_client_port != 0) {
    listen(secure_acceptor_, cfg.secure_client_port_address, cfg.secure_client_port);
  }
  schedule_tick();
}

void NetworkServer::listen(asio::ip::tcp::acceptor& acceptor, const std::string& address,
                           int port) {
  asio::ip::tcp::endpoint ep(asio::ip::make_address(address), static_cast<uint16_t>(port));
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  accept_next(acceptor);
}

uint16_t NetworkServer::port() const {
  return acceptor_.is_open() ? acceptor_.local_endpoint().port() : 0;
}

uint16_t NetworkServer::secure_port() const {
  return secure_acceptor_.is_open() ? secure_acceptor_.local_endpoint().port() : 0;
}

void NetworkServer::stop() {
  asio::error_code ec;
  acceptor_.close(ec);
  secure_acceptor_.close(ec);
  tick_timer_.cancel();
  auto all = connections_;
  for (auto& [id, c] : all) c->close();
}

void NetworkServer::accept_next(asio::ip::tcp::acceptor& acceptor) {
  acceptor.async_accept(
      [this, &acceptor](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec) {
          if (ec != asio::error::operation_aborted) accept_next(acceptor);
          return;
        }
        if (&acceptor == &secure_acceptor_) {
          admit(std::make_shared<ClientConnection>(std::move(socket), *tls_, *this, next_id_++));
        } else {
          admit(std::make_shared<ClientConnection>(std::move(socket), *this, next_id_++));
        }
        accept_next(acceptor);
      });
}

void NetworkServer::admit(std::shared_ptr<ClientConnection> c) {
  int limit = core_.config().max_client_cnxns;
  if (limit > 0 && per_ip_[c->address] >= limit) {
    spdlog::warn("too many connections from {} (max {}): closing", c->address, limit);
    ++core_.stats().connections_rejected;
    // Dropping the connection here closes its socket; the client sees the end.
    return;
  }
  ++per_ip_[c->address];
  connections_[c->id] = c;
  core_.attach(*c, now_ms());
  c->start();
}

void NetworkServer::connection_closed(ClientConnection& c) {
  core_.detach(c);
  // Forgetting the connection's bytes wakes waiters, which take requests at once: not here,
  // where the core may be looping over its links (stop_serving) or a connection shutting
  // down, and where wake -> bad frame -> close -> wake would recurse once per waiter.
  asio::post(io_, [this, id = c.id] { budget_.forget(id); });
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

void NetworkServer::wake_connection(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // Taking requests may close the connection (and erase it from connections_).
  std::shared_ptr<ClientConnection> c = it->second;
  c->wake();
}

void NetworkServer::log_budget_throttling(int64_t now_ms) {
  uint64_t refusals = budget_.refusals();
  if (refusals == budget_refusals_logged_ || now_ms - budget_logged_ms_ < kBudgetLogIntervalMs)
    return;
  spdlog::info(
      "output budget: {} bytes queued for clients (corral.outputBudgetBytes={}); {} connections "
      "wait to have their next request read ({} times held back since the last report)",
      budget_.queued_total(), budget_.budget_bytes(), budget_.waiting(),
      refusals - budget_refusals_logged_);
  budget_refusals_logged_ = refusals;
  budget_logged_ms_ = now_ms;
}

// A connection the output budget holds back is not read, so neither are its pings: its
// client is there and would be heard but for the budget, so its session is kept alive. That
// must not keep a client that never reads alive for ever (it would also hold its share of
// the budget): replies that have not moved for maxSessionTimeout, the longest any session
// may go unheard, close the connection.
void NetworkServer::sweep_connections(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < kSweepIntervalMs) return;
  last_sweep_ms_ = now_ms;
  const int64_t limit = core_.config().effective_max_session_timeout_ms();
  std::vector<std::shared_ptr<ClientConnection>> stalled;
  for (const auto& [id, c] : connections_) {
    if (budget_.is_waiting(id)) core_.keep_alive(*c, now_ms);
    if (c->output_stalled_ms(now_ms) > limit) stalled.push_back(c);
  }
  for (const auto& c : stalled) c->close_stalled(limit);
}

void NetworkServer::schedule_tick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    core_.tick(now_ms());
    log_budget_throttling(now_ms());
    sweep_connections(now_ms());
    if (on_tick_) on_tick_();
    schedule_tick();
  });
}

}  // namespace corral::server
