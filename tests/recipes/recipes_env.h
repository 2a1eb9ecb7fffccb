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

/// Runs `body(i)` for i in [0, n) on n threads at once and waits for all.
void run_parallel(int n, const std::function<void(int)>& body);

/// The children of `path` (after a sync), or the error; for leak checks.
client::Result<std::vector<std::string>> children_of(Client& c, const std::string& path);

}  // namespace corral::recipes::test
