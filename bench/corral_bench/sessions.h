// The benchmark's client sessions, spread over the ensemble's servers, and the threads that
// run them.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/corral_bench/options.h"
#include "corral/client/client.h"

namespace corral::bench {

/// The hosts and the chroot of a connect string.
struct ConnectHosts {
  std::vector<std::string> hosts;
  std::string chroot;
};

/// Splits "h1:p1,h2:p2/chroot"; empty hosts when there are none.
ConnectHosts split_connect(const std::string& connect);

/// An io_context run by Options::threads threads, and Options::sessions connected clients.
class SessionPool {
 public:
  /// Starts the threads; no session yet.
  explicit SessionPool(const Options& options);
  /// Closes the sessions still open (without waiting) and joins the threads.
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  /// Starts every session and waits until each answers a first request; an error naming the
  /// host of the first session that could not.
  std::optional<std::string> connect();
  /// Has every session sync `path`, so that its server has applied every write committed
  /// before: a read on a follower may otherwise miss a node another session just made (a
  /// ZooKeeper follower's reads may lag). What the first session that could not was told.
  std::optional<std::string> sync_all(const std::string& path);
  /// Closes every session, waiting up to a few seconds for the answers.
  void close();

  /// The connect string of session (or lane) `i`: host i mod n when pinned, else all.
  std::string connect_string_for(size_t i) const;
  /// Options for a short-lived client on session (or lane) `i`'s servers (session churn):
  /// its connection losses are counted.
  client::Options client_options(size_t i);
  /// True once session `i` of the pool expired or was refused: its calls can only fail now.
  bool lost(size_t i) const { return (*lost_)[i].load(); }

  /// The sessions, each connected.
  std::vector<std::unique_ptr<client::Client>>& clients() { return clients_; }
  /// Where clients (and the workloads' timers) run.
  asio::any_io_executor executor() { return io_.get_executor(); }
  /// The hosts sessions are spread over.
  const ConnectHosts& hosts() const { return hosts_; }
  /// How many times a session's connection was lost (suspended) or its session expired.
  uint64_t connection_losses() const { return *losses_; }

 private:
  const Options& options_;
  ConnectHosts hosts_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<client::Client>> clients_;
  /// Options for session `i` of the pool: as client_options(i), and every change of its state
  /// after the first connection is written to stderr with the time, and marks it lost().
  client::Options session_options(size_t i);

  std::shared_ptr<std::atomic<uint64_t>> losses_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<std::vector<std::atomic<bool>>> lost_;
};

}  // namespace corral::bench
