// Runs corral-admin or corral-server --check-config/--version as a user would, and keeps
// what it printed (stdout and stderr together) and its exit code.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

namespace corral::admin_test {

/// What a command printed and how it exited.
struct ToolRun {
  int exit_code = -1;  ///< -1 when it did not exit normally
  std::string output;
};

/// Runs `program` with `args` (no shell quoting needed for temp paths) and waits for it.
inline ToolRun run(const std::string& program, const std::vector<std::string>& args) {
  std::string command = program;
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  ToolRun out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.output.append(buf, n);
  int status = pclose(pipe);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return out;
}

/// corral-admin with `args`.
inline ToolRun admin(const std::vector<std::string>& args) { return run(CORRAL_ADMIN_BIN, args); }

}  // namespace corral::admin_test
