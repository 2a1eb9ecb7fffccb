// What recipes_test's files share, on top of tests/client/client_env.h (one 3-server ensemble
// per run, Corral or Apache ZooKeeper 3.8 by CLIENT_TARGET; TestClient; waits):
// a ledger that reveals overlapping holders, and a way to run one body per session at once.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "tests/client/client_env.h"

namespace corral::recipes::test {

using namespace corral::client::test;  // NOLINT: the client tests' helpers
using client::Client;
using client::ConnectionState;
using client::CreateMode;
using client::ErrorCode;
using client::Result;

/// Records who holds a resource; remembers the most holders ever seen at once and every
/// fencing token in the order they were granted.
class Ledger {
 public:
  /// `who` starts holding (with `token`, 0 if none).
  void enter(int who, int64_t token = 0);
  /// `who` stops holding.
  void leave(int who);
  /// The most holders at one moment.
  int max_holders() const { return max_holders_.load(); }
  /// Holders now.
  int holders() const { return holders_.load(); }
  /// Grants so far.
  int grants() const { return grants_.load(); }
  /// True if every token was larger than the one granted before it.
  bool tokens_increase() const;
  /// Overlaps seen, as text ("3 entered while 1 held").
  std::vector<std::string> overlaps() const;

 private:
  mutable std::mutex mu_;
  std::vector<int> inside_;
  std::vector<int64_t> tokens_;
  std::vector<std::string> overlaps_;
  std::atomic<int> holders_{0}, max_holders_{0}, grants_{0};
  int limit_ = 1;

 public:
  /// How many may hold at once without it being an overlap (1: exclusive).
  void set_limit(int limit) { limit_ = limit; }
};

/// When each of n parties' operations completed, and how (barrier tests).
struct Completions {
  explicit Completions(size_t n) : at(n), errors(n, ErrorCode::kSystemError) {}
  /// A callback token recording party `i`.
  auto record(size_t i) {
    return [this, i](Result<void> r) {
      std::lock_guard lock(mu);
      at[i] = Clock::now();
      errors[i] = r.error();
      ++count;
    };
  }
  /// How many completed so far.
  size_t done() {
    std::lock_guard lock(mu);
    return count;
  }
  std::mutex mu;
  std::vector<Clock::time_point> at;
  std::vector<ErrorCode> errors;
  size_t count = 0;
};

/// Every event a recipe's listener reported, thread-safe (caches' tests).
template <typename Event>
class EventRecorder {
 public:
  /// A listener appending to this recorder (which must outlive the recipe's use of it).
  std::function<void(const Event&)> listener() {
    return [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    };
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return events_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

/// Runs `body(i)` for i in [0, n) on n threads at once and waits for all.
void run_parallel(int n, const std::function<void(int)>& body);

/// The children of `path` (after a sync), none if `path` is gone (a reaped container), or
/// the error; for leak checks.
client::Result<std::vector<std::string>> children_of(Client& c, const std::string& path);

}  // namespace corral::recipes::test
