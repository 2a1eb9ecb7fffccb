// The subcommands of corral-admin. Each takes its own arguments (after the subcommand's
// name), prints what it did or the first problem, and returns the process's exit code.
#pragma once

#include <string>
#include <vector>

namespace corral::admin {

/// Exit codes shared by the subcommands.
enum Exit : int {
  kOk = 0,            ///< done; for verify and digest: no problem found
  kProblem = 1,       ///< the operation failed, or verify/digest found a problem
  kUsage = 2,         ///< bad arguments
  kInconclusive = 3,  ///< digest: members never stood at a common zxid to compare
};

/// `backup DATADIR|DB OUT.db [--pages N] [--pause-ms M]`.
int run_backup(const std::vector<std::string>& args);
/// `restore BACKUP.db DATADIR [--force]`.
int run_restore(const std::vector<std::string>& args);
/// `verify DATADIR|DB`.
int run_verify(const std::vector<std::string>& args);
/// `digest HOST:PORT,... [--timeout-ms N]`.
int run_digest(const std::vector<std::string>& args);

/// The integer after an option, or -1 when it is missing or not a non-negative number.
long option_value(const std::vector<std::string>& args, size_t& i);

}  // namespace corral::admin
