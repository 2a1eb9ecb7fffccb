#include "bench/corral_bench/sessions.h"

#include <asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
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
    : options_(options),
      hosts_(split_connect(options.connect)),
      work_(io_.get_executor()),
      lost_(std::make_shared<std::vector<std::atomic<bool>>>(options.sessions)) {
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

client::Options SessionPool::client_options(size_t i) {
  client::Options o;
  o.connect_string = connect_string_for(i);
  o.session_timeout = std::chrono::milliseconds(options_.session_timeout_ms);
  o.on_state = [losses = losses_](client::ConnectionState s) {
    if (s == client::ConnectionState::kSuspended || s == client::ConnectionState::kLost) {
      ++*losses;
    }
  };
  return o;
}

namespace {

/// Now in UTC as 2026-12-05T01:02:03.456Z, to line up with the servers' logs.
std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(text) + "." + std::to_string(1000 + ms.count()).substr(1) + "Z";
}

}  // namespace

client::Options SessionPool::session_options(size_t i) {
  client::Options o = client_options(i);
  o.on_state = [count = std::move(o.on_state), lost = lost_, i](client::ConnectionState s) {
    count(s);
    if (s == client::ConnectionState::kConnecting || s == client::ConnectionState::kConnected ||
        s == client::ConnectionState::kClosed) {
      return;
    }
    // A session that expires mid-run would otherwise only show as errors: say when, so the
    // servers' logs can tell why.
    std::fprintf(stderr, "corral-bench: session %zu %s at %s\n", i, client::state_name(s),
                 utc_now().c_str());
    if (s == client::ConnectionState::kLost || s == client::ConnectionState::kAuthFailed) {
      (*lost)[i] = true;
    }
  };
  return o;
}

namespace {

/// Waits for every session's answer until the session timeout (plus slack) has passed; the
/// first session that did not answer, or answered an error, as "<what(i)>: why".
template <typename T, typename Describe>
std::optional<std::string> first_failure(std::vector<std::future<client::Result<T>>>& answers,
                                         int session_timeout_ms, Describe what) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(session_timeout_ms) +
                  std::chrono::seconds(5);
  for (size_t i = 0; i < answers.size(); ++i) {
    std::string who = what(i);
    if (answers[i].wait_until(deadline) != std::future_status::ready) return who + ": no answer";
    auto r = answers[i].get();
    if (!r) return who + ": " + client::error_text(r.error());
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> SessionPool::connect() {
  std::vector<std::future<client::Result<client::Stat>>> answers;
  for (int i = 0; i < options_.sessions; ++i) {
    auto c = std::make_unique<client::Client>(executor(), session_options(i));
    c->start();
    // Requests wait for the session: the first answer says it is established.
    answers.push_back(c->exists("/", nullptr, asio::use_future));
    clients_.push_back(std::move(c));
  }
  return first_failure(answers, options_.session_timeout_ms, [this](size_t i) {
    return "session " + std::to_string(i) + " connecting to " + connect_string_for(i);
  });
}

std::optional<std::string> SessionPool::sync_all(const std::string& path) {
  std::vector<std::future<client::Result<void>>> answers;
  for (auto& c : clients_) answers.push_back(c->sync(path, asio::use_future));
  return first_failure(answers, options_.session_timeout_ms, [&](size_t i) {
    return "session " + std::to_string(i) + " syncing " + path;
  });
}

void SessionPool::close() {
  std::vector<std::future<client::Result<void>>> closed;
  for (auto& c : clients_) closed.push_back(c->close(asio::use_future));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto& f : closed) f.wait_until(deadline);
  clients_.clear();
}

}  // namespace corral::bench
