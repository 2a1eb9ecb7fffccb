#include "bench/corral_bench/sessions.h"

#include <asio/use_future.hpp>
#include <chrono>
#include <future>
#include <sstream>

namespace corral::bench {

ConnectHosts split_connect(const std::string& connect) {
  ConnectHosts out;
  auto slash = connect.find('/');
  std::string hosts = connect.substr(0, slash);
  if (slash != std::string::npos) out.chroot = connect.substr(slash);
  std::stringstream in(hosts);
  for (std::string h; std::getline(in, h, ',');) {
    if (!h.empty()) out.hosts.push_back(h);
  }
  return out;
}

SessionPool::SessionPool(const Options& options)
    : options_(options), hosts_(split_connect(options.connect)), work_(io_.get_executor()) {
  for (int i = 0; i < options.threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

SessionPool::~SessionPool() {
  // close() has normally run; otherwise (an error path) the sessions are simply dropped and
  // expire on the servers.
  clients_.clear();
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
}

std::string SessionPool::connect_string_for(size_t i) const {
  if (!options_.pin || hosts_.hosts.empty()) return options_.connect;
  return hosts_.hosts[i % hosts_.hosts.size()] + hosts_.chroot;
}

client::Options SessionPool::client_options(std::string connect_string) {
  client::Options o;
  o.connect_string = std::move(connect_string);
  o.session_timeout = std::chrono::milliseconds(options_.session_timeout_ms);
  o.on_state = [losses = losses_](client::ConnectionState s) {
    if (s == client::ConnectionState::kSuspended || s == client::ConnectionState::kLost) {
      ++*losses;
    }
  };
  return o;
}

std::optional<std::string> SessionPool::connect() {
  std::vector<std::future<client::Result<client::Stat>>> answers;
  for (int i = 0; i < options_.sessions; ++i) {
    auto c = std::make_unique<client::Client>(executor(), client_options(connect_string_for(i)));
    c->start();
    // Requests wait for the session: the first answer says it is established.
    answers.push_back(c->exists("/", nullptr, asio::use_future));
    clients_.push_back(std::move(c));
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.session_timeout_ms) + std::chrono::seconds(5);
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].wait_until(deadline) != std::future_status::ready) {
      return "session " + std::to_string(i) + " could not connect to " + connect_string_for(i);
    }
    auto r = answers[i].get();
    if (!r) {
      return "session " + std::to_string(i) + " on " + connect_string_for(i) + ": " +
             client::error_text(r.error());
    }
  }
  return std::nullopt;
}

void SessionPool::close() {
  std::vector<std::future<client::Result<void>>> closed;
  for (auto& c : clients_) closed.push_back(c->close(asio::use_future));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto& f : closed) f.wait_until(deadline);
  clients_.clear();
}

}  // namespace corral::bench
