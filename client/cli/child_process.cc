#include "client/cli/child_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace corral::cli {
namespace {

volatile sig_atomic_t g_child = 0;

void pass_on(int signal) {
  if (g_child > 0) kill(g_child, signal);
}

int status_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int run_child(const std::vector<std::string>& argv,
              const std::vector<std::pair<std::string, std::string>>& env,
              const std::function<bool()>& must_stop) {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("corral: fork");
    return 127;
  }
  if (pid == 0) {
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "corral: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  g_child = pid;
  struct sigaction forward {
  }, old_int{}, old_term{};
  forward.sa_handler = pass_on;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, &old_int);
  sigaction(SIGTERM, &forward, &old_term);

  using Clock = std::chrono::steady_clock;
  Clock::time_point terminated{};
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    if (terminated == Clock::time_point{} && must_stop()) {
      kill(pid, SIGTERM);
      terminated = Clock::now();
    } else if (terminated != Clock::time_point{} &&
               Clock::now() - terminated > std::chrono::seconds(5)) {
      kill(pid, SIGKILL);
    }
    // Polled: the child's exit and the guard's loss are two sources with no common fd.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  g_child = 0;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return status_of(status);
}

}  // namespace corral::cli
