// corral-mw submit: creates tasks (/tasks/task-<seq>, persistent sequential) and, with --wait,
// follows them to the end with a progress bar.
//
// When is a task finished? The submitter cannot read the dashboard's history, so: a task is
// finished when /status/<task> says done or failed, or when the task is gone everywhere (no
// /tasks/<task>, no /assign/*/<task>, no /status/<task>) on two checks in a row: the dashboard
// archived it (it archives only finished tasks). Tasks archived that way count as "archived"
// in the summary (their outcome is in the history).
#pragma once

#include <chrono>
#include <string>

namespace corral::mw {

/// What to submit.
struct SubmitOptions {
  std::string zk;
  std::string kind;
  std::string arg;
  /// How many tasks (>= 1).
  int count = 1;
  /// Follows them until all are finished.
  bool wait = false;
  /// With `wait`: gives up after this long (0: no limit).
  std::chrono::milliseconds wait_timeout{0};
};

/// Submits, prints each new task's id on stdout (one per line) and, with `wait`, a progress
/// bar on stderr (plain lines when stderr is not a terminal) and a summary line on stdout.
/// Returns the exit status: 0 when every task was created (and, with `wait`, finished done),
/// 1 when a create failed, a task failed or the wait timed out.
int run_submit(const SubmitOptions& options);

}  // namespace corral::mw
