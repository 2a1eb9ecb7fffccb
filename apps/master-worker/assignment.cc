#include "apps/master-worker/assignment.h"

#include <algorithm>

namespace corral::mw {

std::vector<PlannedAssignment> plan_assignments(std::vector<std::string> pending,
                                                std::vector<WorkerLoad> workers) {
  std::sort(pending.begin(), pending.end());
  pending.erase(std::unique(pending.begin(), pending.end()), pending.end());
  std::vector<PlannedAssignment> plan;
  for (const std::string& task : pending) {
    // The least-loaded worker with a free slot; ties by id. Linear: workers are few.
    WorkerLoad* best = nullptr;
    for (WorkerLoad& w : workers) {
      if (w.load >= w.slots) continue;
      if (!best || w.load < best->load || (w.load == best->load && w.id < best->id)) best = &w;
    }
    if (!best) break;  // every slot is taken
    ++best->load;
    plan.push_back({task, best->id});
  }
  return plan;
}

}  // namespace corral::mw
