#include "apps/master-worker/task_runner.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <vector>

#include "apps/master-worker/layout.h"

namespace corral::mw {

std::string pattern_digest(uint64_t bytes, const std::atomic<bool>* cancelled) {
  // 1 MiB of the pattern; its period (256) divides the chunk, so every chunk is the same.
  static const std::vector<unsigned char> chunk = [] {
    std::vector<unsigned char> c(1 << 20);
    for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<unsigned char>(i % 256);
    return c;
  }();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (uint64_t left = bytes; left > 0;) {
    if (cancelled && cancelled->load()) {
      EVP_MD_CTX_free(ctx);
      return "";
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    EVP_DigestUpdate(ctx, chunk.data(), n);
    left -= n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

namespace {

/// Shared by a task and its completion: cancelled once, completed at most once.
class Handle : public RunningTask, public std::enable_shared_from_this<Handle> {
 public:
  Handle(asio::any_io_executor ex, std::function<void(TaskOutcome)> done)
      : timer(ex), ex_(ex), done_(std::move(done)) {}

  void cancel() override {
    cancelled.store(true);
    timer.cancel();
    std::lock_guard lock(mu_);
    if (child_ > 0) ::kill(-child_, SIGKILL);
  }

  /// Posts the outcome to the executor; dropped if cancelled by the time it runs there.
  void finish(TaskOutcome outcome) {
    outcome.result = truncate_result(std::move(outcome.result));
    asio::post(ex_, [self = shared_from_this(), outcome = std::move(outcome)]() mutable {
      if (self->cancelled.load() || !self->done_) return;
      auto done = std::move(self->done_);
      self->done_ = nullptr;
      done(std::move(outcome));
    });
  }

  /// Records the shell child (its process group) so cancel() can kill it; false when
  /// cancelled already (the caller kills it).
  bool set_child(pid_t pid) {
    std::lock_guard lock(mu_);
    child_ = pid;
    return !cancelled.load();
  }

  std::atomic<bool> cancelled{false};
  asio::steady_timer timer;  // sleeps; used on the executor only

 private:
  asio::any_io_executor ex_;
  std::function<void(TaskOutcome)> done_;
  std::mutex mu_;
  pid_t child_ = -1;
};

/// Runs /bin/sh -c `command` in a process group of its own; its stdout (first 4 KiB kept).
TaskOutcome run_shell(const std::string& command, Handle& handle) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {false, "pipe failed"};
  // Everything the child needs is made before fork: only async-signal-safe calls after it.
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {false, "fork failed"};
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], STDOUT_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv("/bin/sh", const_cast<char* const*>(argv));
    _exit(127);
  }
  setpgid(pid, pid);  // also here: no race with cancel() between fork and the child's setpgid
  close(fds[1]);
  if (!handle.set_child(pid)) ::kill(-pid, SIGKILL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kMaxResultBytes) out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, out};
  std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  return {false, why + (out.empty() ? "" : ": " + out)};
}

}  // namespace

TaskRunner::TaskRunner(asio::any_io_executor executor, int threads, bool allow_shell)
    : executor_(executor),
      pool_(static_cast<size_t>(std::max(1, threads))),
      allow_shell_(allow_shell) {}

TaskRunner::~TaskRunner() { pool_.join(); }

std::shared_ptr<RunningTask> TaskRunner::run(const std::string& kind, const std::string& arg,
                                             std::function<void(TaskOutcome)> done) {
  auto h = std::make_shared<Handle>(executor_, std::move(done));
  if (auto why = validate_task(kind, arg, allow_shell_); !why.empty()) {
    h->finish({false, why});
  } else if (kind == "sleep") {
    int64_t ms = std::stoll(arg);
    h->timer.expires_after(std::chrono::milliseconds(ms));
    h->timer.async_wait([h, ms](const std::error_code& ec) {
      if (!ec) h->finish({true, "slept " + std::to_string(ms) + " ms"});
    });
  } else if (kind == "hash") {
    uint64_t bytes = std::stoull(arg);
    asio::post(pool_, [h, bytes] {
      std::string digest = pattern_digest(bytes, &h->cancelled);
      if (!digest.empty()) h->finish({true, digest});
    });
  } else if (kind == "fail") {
    h->finish({false, "failed on purpose"});
  } else {  // shell, allowed
    asio::post(pool_, [h, arg] {
      if (!h->cancelled.load()) h->finish(run_shell(arg, *h));
    });
  }
  return h;
}

}  // namespace corral::mw
