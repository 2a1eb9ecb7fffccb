#include "apps/master-worker/worker.h"

#include <corral/client/client.h>
#include <corral/client/retry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <vector>

#include "apps/master-worker/coro.h"
#include "apps/master-worker/layout.h"
#include "apps/master-worker/task_runner.h"
#include "apps/master-worker/worker_session.h"

namespace corral::mw {

using asio::awaitable;
using asio::use_awaitable;
using client::error_text;
using client::ErrorCode;
using namespace std::chrono_literals;

namespace {

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return host;
}

}  // namespace

class WorkerImpl : public std::enable_shared_from_this<WorkerImpl> {
 public:
  WorkerImpl(asio::io_context& io, WorkerOptions o)
      : io_(io),
        o_(std::move(o)),
        runner_(io.get_executor(), o_.slots, o_.allow_shell),
        retry_(io) {}

  void start() { join(); }

  void stop(std::function<void()> done) {
    stopping_ = true;
    retry_.cancel();
    auto s = s_;
    if (!s) return asio::post(io_, std::move(done));
    if (size_t n = s->end()) spdlog::info("stopped {} running task(s)", n);
    s->client->close([s, done = std::move(done)](client::Result<void>) { done(); });
  }

 private:
  void join() {
    auto s = std::make_shared<WorkerSession>(io_, o_.zk, o_.session_timeout);
    s_ = s;
    std::weak_ptr<WorkerImpl> weak = shared_from_this();
    std::weak_ptr<WorkerSession> ws = s;
    s->subscription = s->client->subscribe_state([weak, ws](client::ConnectionState state) {
      auto self = weak.lock();
      auto s = ws.lock();
      if (self && s && !s->ended) self->on_state(s, state);
    });
    s->client->start();
    asio::co_spawn(io_, loop(s), log_exception);
  }

  void on_state(const std::shared_ptr<WorkerSession>& s, client::ConnectionState state) {
    using client::ConnectionState;
    spdlog::info("session {}", client::state_name(state));
    if (state == ConnectionState::kLost) {
      size_t n = s->end();
      retired_.push_back(s);
      spdlog::warn("session lost: stopped {} running task(s); rejoining with a new session", n);
      retry_.expires_after(100ms);
      retry_.async_wait([self = shared_from_this()](const std::error_code& ec) {
        if (!ec && !self->stopping_) self->join();
      });
    } else if (state == ConnectionState::kSuspended) {
      // Past the session timeout the session is gone for the ensemble, and the master gives
      // our tasks to others: stop them rather than run them twice at once.
      s->suspended.expires_after(s->client->session_timeout());
      s->suspended.async_wait([s](const std::error_code& ec) {
        if (ec || s->ended) return;
        if (size_t n = s->abandon())
          spdlog::warn("suspended past the session timeout: stopped {} running task(s)", n);
      });
    } else {
      s->suspended.cancel();
      s->notify();
    }
  }

  awaitable<void> loop(std::shared_ptr<WorkerSession> s) {
    // Results of co_await go to variables first: g++ 12 mishandles co_await inside
    // conditions with &&, ?: and break.
    bool registered = false;
    while (!s->ended) {
      if (!registered) {
        registered = co_await register_self(*s);
        if (!registered) co_await pause(500ms);
      } else if (s->dirty) {
        s->dirty = false;
        bool ok = co_await scan(s);
        if (!ok) {
          s->dirty = true;
          co_await pause(250ms);
        }
      } else {
        bool expired = co_await s->sleep(5s);
        if (expired) s->dirty = true;  // a rescan now and then
      }
    }
  }

  /// /assign/<id> (if missing) then /workers/<id> (ephemeral). A /workers/<id> of another
  /// session (our previous one, not expired yet) is waited for. False to try again.
  awaitable<bool> register_self(WorkerSession& s) {
    auto& c = *s.client;
    // A named vector, not a braced list: g++ 12 keeps that list's array off the coroutine frame.
    const std::vector<std::string> dirs = {std::string(kAssignPath), assign_dir(o_.id),
                                           std::string(kStatusPath), std::string(kWorkersPath)};
    for (const std::string& p : dirs) {
      auto r =
          co_await call([&] { return c.create(p, "", client::CreateOptions(), use_awaitable); });
      if (!r && r.error() != ErrorCode::kNodeExists) co_return false;
    }
    WorkerInfo info{o_.id, host_name(), getpid(), o_.slots, now_ms()};
    client::CreateOptions eph(client::CreateMode::kEphemeral);
    auto r = co_await call(
        [&] { return c.create(worker_path(o_.id), serialize(info), eph, use_awaitable); });
    if (r.error() == ErrorCode::kNodeExists) {
      auto st = co_await call([&] { return c.exists(worker_path(o_.id), nullptr, use_awaitable); });
      if (!st || st->ephemeral_owner != c.session_id()) {
        if (!std::exchange(waiting_logged_, true))
          spdlog::info("waiting for the old {} to go (an earlier session)", worker_path(o_.id));
        co_return false;
      }
    } else if (!r) {
      co_return false;
    }
    waiting_logged_ = false;
    spdlog::info("registered as {} (slots {}, session 0x{:x})", o_.id, o_.slots,
                 static_cast<uint64_t>(c.session_id()));
    co_return true;
  }

  /// Takes new assignments, in id order, up to the free slots. False on an error.
  awaitable<bool> scan(std::shared_ptr<WorkerSession> s) {
    auto& c = *s->client;
    client::Watcher w;
    if (!s->armed) {
      s->armed = true;
      std::weak_ptr<WorkerSession> ws = s;
      w = [ws](const client::WatchEvent&) {
        if (auto s = ws.lock()) {
          s->armed = false;
          s->notify();
        }
      };
    }
    auto kids =
        co_await call([&] { return c.children(assign_dir(o_.id), std::move(w), use_awaitable); });
    if (!kids) {
      s->armed = false;
      if (kids.error() == ErrorCode::kNoNode)  // a master removed it while we were away
        co_await call([&] {
          return c.create(assign_dir(o_.id), "", client::CreateOptions(), use_awaitable);
        });
      co_return false;
    }
    auto names = kids->children;
    std::sort(names.begin(), names.end());
    for (const auto& t : names) {
      if (static_cast<int>(s->running.size()) >= o_.slots) break;
      if (!valid_task_id(t) || s->running.count(t) || s->malformed.count(t)) continue;
      s->running[t] = nullptr;
      asio::co_spawn(io_, run_task(s, t, s->epoch), log_exception);
    }
    co_return true;
  }

  /// Reads /status/T, lets `edit` change it (false: nothing to write), writes it back at the
  /// version read (created if missing); again on a conflict.
  awaitable<ErrorCode> cas_status(WorkerSession& s, const std::string& t,
                                  std::function<bool(std::optional<TaskStatus>&)> edit) {
    auto& c = *s.client;
    for (int tries = 0; !s.ended; ++tries) {
      if (tries > 0) {
        const auto backoff = tries < 5 ? 20ms : 200ms;  // not `?:` inside a co_await (g++ 12)
        co_await pause(backoff);
      }
      auto r = co_await call([&] { return c.get(status_path(t), nullptr, use_awaitable); });
      if (!r && r.error() != ErrorCode::kNoNode) {
        if (client::retryable(r.error())) continue;
        co_return r.error();
      }
      std::optional<TaskStatus> st;
      if (r) {
        std::string why;
        st = parse_task_status(r->data, &why);
        if (!st) spdlog::warn("malformed {}: {} (overwritten)", status_path(t), why);
      }
      if (!edit(st)) co_return ErrorCode::kOk;
      ErrorCode err;
      if (r) {
        err = (co_await call([&] {
                return c.set(status_path(t), serialize(*st), r->stat.version, use_awaitable);
              })).error();
      } else {
        err = (co_await call([&] {
                return c.create(status_path(t), serialize(*st), client::CreateOptions(),
                                use_awaitable);
              })).error();
      }
      if (err == ErrorCode::kOk) co_return err;
      bool conflict = err == ErrorCode::kBadVersion || err == ErrorCode::kNodeExists ||
                      err == ErrorCode::kNoNode;
      if (!conflict && !client::retryable(err)) co_return err;
    }
    co_return ErrorCode::kSessionExpired;
  }

  /// One assignment: status `running` with a new run, the task, status done/failed, then
  /// the assignment deleted.
  awaitable<void> run_task(std::shared_ptr<WorkerSession> s, std::string t, uint64_t epoch) {
    auto& c = *s->client;
    auto live = [&] { return !s->ended && s->epoch == epoch; };
    auto d = co_await call([&] { return c.get(assign_path(o_.id, t), nullptr, use_awaitable); });
    if (!live()) co_return;
    std::string why;
    auto task = d ? parse_task(d->data, true, &why) : std::nullopt;
    if (d && !task) {
      s->malformed.insert(t);
      spdlog::warn("malformed {}: {} (skipped)", assign_path(o_.id, t), why);
    }
    if (!task) {
      s->running.erase(t);
      if (d.error() != ErrorCode::kNoNode) s->notify();
      co_return;
    }
    const int attempt = task->attempt;
    const int64_t started = now_ms();
    bool finished_before = false;
    std::function<bool(std::optional<TaskStatus>&)> start_run = [&](std::optional<TaskStatus>& st) {
      if (st && st->finished()) return !(finished_before = true);
      for (const Run& r : st ? st->runs : std::vector<Run>{})
        if (r.worker == o_.id && r.attempt == attempt && r.started_ms == started) return false;
      TaskStatus next = st.value_or(TaskStatus{});
      next.state = TaskState::kRunning;
      next.worker = o_.id;
      next.attempt = attempt;
      next.result.clear();
      next.started_ms = started;
      next.finished_ms = 0;
      next.runs.push_back({o_.id, attempt, started, 0, TaskState::kRunning});
      // The task itself, so the status describes it once /tasks and /assign are gone.
      next.kind = task->kind;
      next.arg = task->arg;
      next.submitted_ms = task->submitted_ms;
      st = std::move(next);
      return true;
    };
    auto err = co_await cas_status(*s, t, start_run);
    if (!live()) co_return;
    if (err != ErrorCode::kOk) {
      spdlog::warn("{}: writing its status failed: {}", t, error_text(err));
      s->running.erase(t);
      s->notify();
      co_return;
    }
    if (finished_before) {
      spdlog::info("{} already finished: only its assignment is removed", t);
      co_await remove_assignment(s, t, epoch);
      co_return;
    }
    spdlog::info("running {} ({} {}, attempt {})", t, task->kind, task->arg, attempt);
    std::weak_ptr<WorkerSession> ws = s;
    s->running[t] = runner_.run(
        task->kind, task->arg,
        [self = shared_from_this(), ws, t, attempt, started, epoch](TaskOutcome outcome) {
          auto s = ws.lock();
          if (!s || s->ended || s->epoch != epoch) return;
          asio::co_spawn(self->io_,
                         self->finish_task(s, t, attempt, started, epoch, std::move(outcome)),
                         log_exception);
        });
  }

  /// The task ended: its run and (if still the latest) the status updated, then the
  /// assignment deleted.
  awaitable<void> finish_task(std::shared_ptr<WorkerSession> s, std::string t, int attempt,
                              int64_t started, uint64_t epoch, TaskOutcome outcome) {
    const int64_t finished = now_ms();
    const TaskState state = outcome.ok ? TaskState::kDone : TaskState::kFailed;
    std::function<bool(std::optional<TaskStatus>&)> end_run = [&](std::optional<TaskStatus>& st) {
      if (!st) return false;  // archived already? nothing of ours to finish
      bool changed = false;
      for (Run& r : st->runs)
        if (r.worker == o_.id && r.attempt == attempt && r.started_ms == started &&
            r.finished_ms == 0) {
          r.finished_ms = finished;
          r.state = state;
          changed = true;
        }
      if (st->worker == o_.id && st->attempt == attempt && st->started_ms == started &&
          !st->finished()) {
        st->state = state;
        st->result = outcome.result;
        st->finished_ms = finished;
        changed = true;
      }
      return changed;
    };
    auto err = co_await cas_status(*s, t, end_run);
    if (s->ended || s->epoch != epoch) co_return;
    if (err != ErrorCode::kOk) {
      spdlog::warn("{}: writing its result failed: {}", t, error_text(err));
      s->running.erase(t);
      s->notify();
      co_return;
    }
    spdlog::info("task {} {} in {} ms: {}", t, task_state_name(state), finished - started,
                 outcome.result.substr(0, 200));
    co_await remove_assignment(s, t, epoch);
  }

  awaitable<void> remove_assignment(std::shared_ptr<WorkerSession> s, std::string t,
                                    uint64_t epoch) {
    auto& c = *s->client;
    for (int tries = 0; tries < 20 && !s->ended; ++tries) {
      auto r = co_await call([&] { return c.remove(assign_path(o_.id, t), -1, use_awaitable); });
      if (r || r.error() == ErrorCode::kNoNode || !client::retryable(r.error())) break;
      co_await pause(200ms);
    }
    if (s->ended || s->epoch != epoch) co_return;
    s->running.erase(t);
    s->notify();
  }

  asio::io_context& io_;
  WorkerOptions o_;
  TaskRunner runner_;
  std::shared_ptr<WorkerSession> s_;
  std::vector<std::shared_ptr<WorkerSession>> retired_;
  asio::steady_timer retry_;
  bool stopping_ = false;
  bool waiting_logged_ = false;
};

Worker::Worker(asio::io_context& io, WorkerOptions options)
    : impl_(std::make_shared<WorkerImpl>(io, std::move(options))) {}
Worker::~Worker() = default;
void Worker::start() { impl_->start(); }
void Worker::stop(std::function<void()> done) { impl_->stop(std::move(done)); }

}  // namespace corral::mw
