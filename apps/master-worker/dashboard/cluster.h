// The cluster view (GET /api/cluster): each server of --zk asked `srvr` (and `mntr`, where
// its whitelist allows) over TCP every couple of seconds; a server that does not answer in
// time, or is not serving, is "down".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace corral::mw {

/// One server as last seen.
struct ServerView {
  /// "host:port" as given in --zk.
  std::string server;
  /// leader, follower, observer, standalone, read-only or down.
  std::string role = "down";
  /// "0x..." (empty when down).
  std::string zxid;
  int64_t connections = 0;
  /// The average request latency (absent when down).
  std::optional<double> latency_avg_ms;
};

/// Parses a `srvr` answer (and a `mntr` answer, possibly empty or refused) into `out`;
/// false (role down) if the server is not serving.
bool parse_four_letter_words(const std::string& srvr, const std::string& mntr, ServerView& out);

/// The "host:port" entries of a connect string (its chroot removed).
std::vector<std::string> split_hosts(const std::string& connect_string);

/// Sends `word` to host:port and returns everything answered until the server closes, or
/// empty on error or after `timeout`.
std::string four_letter_word(const std::string& host_port, const std::string& word,
                             std::chrono::milliseconds timeout);

/// Polls every server on a thread of its own. Thread-safe.
class ClusterView {
 public:
  /// Servers of `connect_string`, each polled every `interval`.
  ClusterView(const std::string& connect_string, std::chrono::milliseconds interval);
  /// stop().
  ~ClusterView();
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  /// Starts polling.
  void start();
  /// Stops polling and joins the threads.
  void stop();
  /// Every server as last seen, in --zk's order.
  std::vector<ServerView> servers() const;
  /// The REST API's array.
  nlohmann::json json() const;

 private:
  void poll_loop(size_t i);

  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
  std::vector<ServerView> servers_;
  std::vector<std::thread> threads_;
};

}  // namespace corral::mw
