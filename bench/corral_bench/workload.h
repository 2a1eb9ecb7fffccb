// A workload driven as lanes: chains of operations, each started when the previous one ended,
// so a lane is one request in flight and sessions x in-flight lanes make the load.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/corral_bench/nodes.h"
#include "bench/corral_bench/options.h"
#include "bench/corral_bench/sessions.h"

namespace corral::bench {

/// What every workload works with.
struct Context {
  const Options& options;
  SessionPool& pool;
  /// This run's node: every workload's nodes go below it.
  std::string dir;
  /// Options::value_size bytes.
  std::string value;
};

/// One chain of operations. Lane i runs on session i mod sessions.
struct Lane {
  size_t index = 0;
  size_t session = 0;
  /// The number of operations this lane started before the current one.
  uint64_t seq = 0;
};

/// A workload of lanes.
class Workload {
 public:
  virtual ~Workload() = default;
  /// How many lanes run (sessions x in flight unless the workload says otherwise).
  virtual size_t lanes() const = 0;
  /// Makes the nodes (and recipe objects) the operations need; an error stops the run.
  virtual std::optional<std::string> prepare() = 0;
  /// Starts operation lane.seq of `lane`; `done` is called once, never inline.
  virtual void start(const Lane& lane, OpDone done) = 0;
  /// Removes what the operations made; lane i started issued[i] operations.
  virtual ErrorCounts cleanup(const std::vector<uint64_t>& issued) = 0;
};

/// The workload called `name` (any of workload_names() but "watch", which runs in rounds:
/// see fanout.h).
std::unique_ptr<Workload> make_workload(const std::string& name, Context& ctx);

}  // namespace corral::bench
