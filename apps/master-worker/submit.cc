#include "apps/master-worker/submit.h"

#include <corral/client/blocking.h>
#include <corral/client/client.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio/use_future.hpp>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "apps/master-worker/layout.h"

namespace corral::mw {

using client::error_text;
using client::ErrorCode;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// How far a followed task has come.
enum class Stage { kWaiting, kRunning, kDone, kFailed, kArchived };

/// The one-shot watches a follower keeps set, and the wake-up they give.
class Wakeup : public std::enable_shared_from_this<Wakeup> {
 public:
  /// A watcher for `key`, or none if one is set already.
  client::Watcher watch(const std::string& key) {
    std::lock_guard lock(mu_);
    if (!armed_.insert(key).second) return nullptr;
    // Shared: a watch may fire after the follower is gone (while the client closes).
    return [self = shared_from_this(), key](const client::WatchEvent&) {
      std::lock_guard lock(self->mu_);
      self->armed_.erase(key);
      self->woken_ = true;
      self->cv_.notify_all();
    };
  }
  /// A read failed: its watch was not set.
  void unarm(const std::string& key) {
    std::lock_guard lock(mu_);
    armed_.erase(key);
  }
  /// Waits until a watch fires or `d` passes.
  void wait(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [this] { return woken_; });
    woken_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> armed_;
  bool woken_ = false;
};

/// Follows tasks to the end (see submit.h for the rule), drawing the progress.
class Follower {
 public:
  Follower(client::BlockingClient& bc, const std::vector<std::string>& ids) : bc_(bc) {
    for (const auto& id : ids) stage_[id] = Stage::kWaiting;
  }

  /// One look at the ensemble; false on an error (tried again next round).
  bool look() {
    auto listed = bc_.children(std::string(kStatusPath), wake_->watch("/status"));
    if (!listed) {
      wake_->unarm("/status");
      return false;
    }
    std::set<std::string> present(listed->children.begin(), listed->children.end());
    // Pipelined: each unfinished task's status (with a data watch).
    std::vector<std::pair<std::string, std::future<client::Result<client::DataResult>>>> reads;
    std::vector<std::string> absent;
    for (auto& [id, stage] : stage_) {
      if (finished(stage)) continue;
      if (!present.count(id)) {
        absent.push_back(id);
        continue;
      }
      reads.emplace_back(id, bc_.async().get(status_path(id), wake_->watch(id), asio::use_future));
    }
    for (auto& [id, f] : reads) {
      auto r = f.get();
      if (!r) {
        wake_->unarm(id);
        if (r.error() == ErrorCode::kNoNode) absent.push_back(id);
        continue;
      }
      gone_[id] = 0;
      auto st = parse_task_status(r->data);
      if (!st) continue;
      if (st->runs.size() > 1) ran_twice_.insert(id);
      stage_[id] = st->state == TaskState::kDone     ? Stage::kDone
                   : st->state == TaskState::kFailed ? Stage::kFailed
                                                     : Stage::kRunning;
    }
    return absent.empty() || look_for_gone(absent);
  }

  bool all_finished() const {
    for (const auto& [id, stage] : stage_)
      if (!finished(stage)) return false;
    return true;
  }
  size_t count(Stage s) const {
    size_t n = 0;
    for (const auto& [id, stage] : stage_) n += stage == s;
    return n;
  }
  size_t ran_twice() const { return ran_twice_.size(); }
  Wakeup& wakeup() { return *wake_; }

 private:
  static bool finished(Stage s) {
    return s == Stage::kDone || s == Stage::kFailed || s == Stage::kArchived;
  }

  /// Tasks without /status: pending, assigned but not started, or archived. Archived when not
  /// found under /tasks nor /assign/* twice in a row.
  bool look_for_gone(const std::vector<std::string>& absent) {
    std::set<std::string> seen;
    auto tasks = bc_.children(std::string(kTasksPath));
    if (!tasks && tasks.error() != ErrorCode::kNoNode) return false;
    seen.insert(tasks->children.begin(), tasks->children.end());
    auto dirs = bc_.children(std::string(kAssignPath));
    if (!dirs && dirs.error() != ErrorCode::kNoNode) return false;
    for (const auto& w : dirs->children) {
      auto kids = bc_.children(assign_dir(w));
      if (!kids && kids.error() != ErrorCode::kNoNode) return false;
      seen.insert(kids->children.begin(), kids->children.end());
    }
    for (const auto& id : absent) {
      if (seen.count(id)) {
        gone_[id] = 0;
        if (stage_[id] == Stage::kRunning) stage_[id] = Stage::kWaiting;  // reassigned
      } else if (++gone_[id] >= 2) {
        stage_[id] = Stage::kArchived;
      }
    }
    return true;
  }

  client::BlockingClient& bc_;
  std::shared_ptr<Wakeup> wake_ = std::make_shared<Wakeup>();
  std::map<std::string, Stage> stage_;
  std::map<std::string, int> gone_;
  std::set<std::string> ran_twice_;
};

/// Creates the tasks, pipelined; prints each id. The ids created.
std::vector<std::string> create_tasks(client::BlockingClient& bc, const SubmitOptions& o,
                                      int& failures) {
  auto root = bc.create(std::string(kTasksPath), "");
  if (!root && root.error() != ErrorCode::kNodeExists)
    spdlog::warn("creating {}: {}", kTasksPath, error_text(root.error()));
  Task task{o.kind, o.arg, now_ms(), 0, 0, ""};
  const std::string data = serialize(task);
  const std::string prefix = task_path(kTaskPrefix);
  std::vector<std::string> ids;
  for (int done = 0; done < o.count;) {
    int batch = std::min(o.count - done, 200);
    std::vector<std::future<client::Result<client::CreateResult>>> made;
    for (int i = 0; i < batch; ++i)
      made.push_back(bc.async().create(
          prefix, data, client::CreateOptions(client::CreateMode::kPersistentSequential),
          asio::use_future));
    for (auto& f : made) {
      auto r = f.get();
      if (!r) {
        ++failures;
        // A sequential create is not retried: it may have happened (a connection loss).
        spdlog::error("creating a task: {}{}", error_text(r.error()),
                      r.error() == ErrorCode::kConnectionLoss ? " (it may exist anyway)" : "");
        continue;
      }
      std::string id = r->path.substr(r->path.rfind('/') + 1);
      std::printf("%s\n", id.c_str());
      ids.push_back(id);
    }
    std::fflush(stdout);
    done += batch;
  }
  return ids;
}

void draw(const Follower& f, size_t total, double seconds, bool tty) {
  size_t finished = f.count(Stage::kDone) + f.count(Stage::kFailed) + f.count(Stage::kArchived);
  char line[256];
  std::snprintf(line, sizeof line,
                "%zu/%zu finished (done %zu, failed %zu, archived %zu), running %zu  %.1f s",
                finished, total, f.count(Stage::kDone), f.count(Stage::kFailed),
                f.count(Stage::kArchived), f.count(Stage::kRunning), seconds);
  if (!tty) {
    std::fprintf(stderr, "%s\n", line);
    return;
  }
  const size_t width = 30;
  size_t filled = total ? finished * width / total : width;
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::fprintf(stderr, "\r[%s] %s\033[K", bar.c_str(), line);
  std::fflush(stderr);
}

}  // namespace

int run_submit(const SubmitOptions& o) {
  client::Options co;
  co.connect_string = o.zk;
  co.session_timeout = 10s;
  client::BlockingClient bc(co);
  if (!bc.wait_connected(30s)) {
    spdlog::error("cannot connect to {}", o.zk);
    return 1;
  }
  int failures = 0;
  auto started = Clock::now();
  auto ids = create_tasks(bc, o, failures);
  spdlog::info("submitted {} task(s) of kind {}{}", ids.size(), o.kind,
               failures ? ", " + std::to_string(failures) + " failed" : "");
  if (!o.wait) return failures ? 1 : 0;

  Follower follower(bc, ids);
  const bool tty = isatty(STDERR_FILENO);
  std::string last;
  auto last_line = Clock::now() - 1h;
  bool timed_out = false;
  for (;;) {
    follower.look();
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    bool done = follower.all_finished();
    // A TTY gets the bar at every change; a log, a line a second at most.
    if (tty || done || Clock::now() - last_line >= 1s) {
      draw(follower, ids.size(), seconds, tty);
      last_line = Clock::now();
    }
    if (done) break;
    if (o.wait_timeout.count() > 0 && Clock::now() - started >= o.wait_timeout) {
      timed_out = true;
      break;
    }
    follower.wakeup().wait(tty ? 200ms : 1000ms);
  }
  if (tty) std::fprintf(stderr, "\n");
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "summary: %zu submitted, %zu done, %zu failed, %zu archived, %zu ran more than once, "
      "%.1f s (%.1f tasks/s)%s\n",
      ids.size(), follower.count(Stage::kDone), follower.count(Stage::kFailed),
      follower.count(Stage::kArchived), follower.ran_twice(), seconds,
      seconds > 0 ? ids.size() / seconds : 0.0, timed_out ? "; timed out" : "");
  std::fflush(stdout);
  return failures || timed_out || follower.count(Stage::kFailed) ? 1 : 0;
}

}  // namespace corral::mw
