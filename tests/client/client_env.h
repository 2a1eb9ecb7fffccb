// What client_test's files share: one 3-server ensemble per test binary run (corral-server or
// Apache ZooKeeper 3.8, chosen by CLIENT_TARGET=corral|zookeeper, default corral), a Client on
// an io_context of its own with its state changes recorded, recorders for watch events, and
// waits that poll a condition until a deadline (never blind sleeps).
//
// Each test works under a node of its own (test_root()), so tests share the ensemble without
// seeing each other. Tests that kill members call restore_ensemble() before they end.
#pragma once

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "corral/client/client.h"
#include "tests/e2e/ensemble.h"

namespace corral::client::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// ---------------------------------------------------------------- the ensemble

/// The gtest Environment that starts the ensemble (CLIENT_TARGET picks the server); main()
/// adds it with ::testing::AddGlobalTestEnvironment.
::testing::Environment* make_ensemble_environment();

/// The ensemble started for this run (by the global environment in client_env.cc).
e2e::Ensemble& ensemble();
/// True when CLIENT_TARGET=zookeeper.
bool on_zookeeper();
/// Every member's host:port.
std::string all_hosts();
/// Every member's host:port but `member`'s.
std::string hosts_except(int member);
/// The member whose "host:port" this is, or -1.
int member_of(const std::string& host_port);
/// Restarts paused members, starts those that are down, and waits (up to 90 s) until all
/// serve under one leader.
void restore_ensemble();

// ---------------------------------------------------------------- waiting

/// Polls `done` every `every` until it holds (true) or `timeout` passes (false).
template <class F>
bool wait_until(Clock::duration timeout, F&& done, milliseconds every = 5ms) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

/// Milliseconds since `t`.
double ms_since(Clock::time_point t);

/// The result of an operation started with asio::use_future, waited for up to `timeout`;
/// a test failure and ZOPERATIONTIMEOUT when it does not come.
template <class T>
Result<T> await(std::future<Result<T>> f, Clock::duration timeout = 20s) {
  if (f.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "no answer within "
                  << std::chrono::duration_cast<milliseconds>(timeout).count() << " ms";
    return Result<T>(ErrorCode::kOperationTimeout);
  }
  return f.get();
}

/// "ZNONODE" etc., for messages.
inline std::string text(ErrorCode e) { return error_text(e); }

// ---------------------------------------------------------------- clients

/// A Client on an io_context of its own, run by `threads` threads, recording its states.
class TestClient {
 public:
  struct Config {
    /// Empty: all_hosts().
    std::string connect;
    milliseconds timeout{10000};
    int threads = 1;
    /// Call start() in the constructor.
    bool start = true;
  };

  TestClient() : TestClient(Config{}) {}
  explicit TestClient(Config config);
  /// Closes the session (waiting up to 5 s), destroys the client and stops the threads.
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  Client& operator*() { return *client_; }
  Client* operator->() { return client_.get(); }
  asio::io_context& io() { return io_; }

  /// Waits until the state is kConnected or kReconnected.
  bool connected(Clock::duration timeout = 30s);
  /// Waits until `state` is among the states reported at index `from` or later.
  bool wait_state(ConnectionState state, Clock::duration timeout, size_t from = 0);
  /// Every state reported to on_state, in order.
  std::vector<ConnectionState> states() const;
  /// How many states were reported so far (a mark for wait_state()).
  size_t state_count() const;
  /// When the first state `state` at index `from` or later was reported (to this client's
  /// on_state callback); Clock::time_point{} if it was not.
  Clock::time_point state_time(ConnectionState state, size_t from = 0) const;
  /// Stops running the io_context (its threads end): the client is frozen.
  void freeze();
  /// Runs the io_context again after freeze().
  void thaw();
  /// Destroys the Client now (the io_context keeps running).
  void destroy_client() { client_.reset(); }

 private:
  void run_threads();

  int threads_;
  asio::io_context io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> runners_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ConnectionState> states_;
  std::vector<Clock::time_point> times_;
  std::unique_ptr<Client> client_;
};

/// Creates a fresh persistent node for the running test ("/<Suite>.<Test>-<n>") with `c` and
/// returns its path.
std::string test_root(Client& c);

/// Records watch events (thread-safe), for one or more watchers.
class EventLog {
 public:
  /// A watcher appending to this log (the log must outlive the client's use of it).
  Watcher watcher();
  std::vector<WatchEvent> events() const;
  size_t count() const;
  /// Waits until at least `n` events were recorded.
  bool wait_count(size_t n, Clock::duration timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
};

/// "kNodeDataChanged /a/b" etc., for messages.
std::string describe(const WatchEvent& e);
std::string describe(const std::vector<WatchEvent>& events);
std::string describe(const std::vector<ConnectionState>& states);

/// Keeps setting `path` to `data` through `c` until it succeeds (retrying on connection
/// loss while the ensemble recovers) or `timeout` passes; the last result.
Result<Stat> set_with_retry(Client& c, const std::string& path, const std::string& data,
                            Clock::duration timeout = 30s);

/// Waits until `c` reads `data` at `path` (after a sync), so every notification the server
/// sent `c` before that read has been delivered (events precede later replies).
bool read_until(Client& c, const std::string& path, const std::string& data,
                Clock::duration timeout = 20s);

}  // namespace corral::client::test
