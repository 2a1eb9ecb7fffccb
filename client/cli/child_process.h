// Running a command as a child of corral (for `corral lock` and `corral elect`): started with
// extra environment variables, stopped when what guarded it is lost, its exit status returned.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace corral::cli {

/// Runs `argv` (looked up in PATH) with `env` added to the environment and waits for it.
/// While it runs, SIGINT and SIGTERM sent to corral are passed on to it, and `must_stop` is
/// asked every 20 ms: once it says true, the child gets SIGTERM (SIGKILL 5 s later).
/// Returns its exit status (128 + N when killed by signal N; 127 when it could not start).
int run_child(const std::vector<std::string>& argv,
              const std::vector<std::pair<std::string, std::string>>& env,
              const std::function<bool()>& must_stop);

}  // namespace corral::cli
