// GET /api/tasks: the live tasks (from the znodes) and the archived ones (from SQLite) as
// one list, newest first, each task once, paged without reading the whole history.
#pragma once

#include <cstdint>
#include <vector>

#include "apps/master-worker/dashboard/history.h"
#include "apps/master-worker/dashboard/requests.h"
#include "apps/master-worker/dashboard/task_view.h"
#include "apps/master-worker/dashboard/view.h"

namespace corral::mw {

/// One page of tasks, newest first, and how many there are in all.
struct TaskPage {
  int64_t total = 0;
  std::vector<TaskView> tasks;
};

/// The live tasks of `view` and the archived ones of `history` merged (a finished task in
/// both is taken from the history), filtered by `paging.state`, highest id first, paged.
TaskPage list_tasks(const View& view, History& history, const Paging& paging);

}  // namespace corral::mw
