// The master's planner, pure (no I/O): which pending task goes to which worker.
//
// Rules (DESIGN.md, "The master"): tasks in id order; each goes to the least-loaded worker
// that has a free slot (load = tasks under /assign/W), ties broken by worker id; a worker never
// gets more than its slots. Tasks that find no free slot stay pending.
#pragma once

#include <string>
#include <vector>

namespace corral::mw {

/// A live worker as the planner sees it.
struct WorkerLoad {
  std::string id;
  /// How many tasks it may hold at once.
  int slots = 1;
  /// How many it holds now (children of /assign/<id>).
  int load = 0;
};

/// One decision: `task` goes to `worker`.
struct PlannedAssignment {
  std::string task;
  std::string worker;

  bool operator==(const PlannedAssignment&) const = default;
};

/// Plans the assignment of `pending` task ids (any order; duplicates ignored) over `workers`.
/// Returns the assignments in task id order.
std::vector<PlannedAssignment> plan_assignments(std::vector<std::string> pending,
                                                std::vector<WorkerLoad> workers);

}  // namespace corral::mw
