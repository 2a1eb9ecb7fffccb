#include "apps/master-worker/master.h"

#include <corral/client/client.h>
#include <corral/recipes/leader_latch.h>
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <set>
#include <vector>

#include "apps/master-worker/assignment.h"
#include "apps/master-worker/coro.h"
#include "apps/master-worker/layout.h"
#include "apps/master-worker/master_session.h"

namespace corral::mw {

using asio::awaitable;
using asio::use_awaitable;
using client::error_text;
using client::ErrorCode;
using namespace std::chrono_literals;

namespace {}  // namespace

class MasterImpl : public std::enable_shared_from_this<MasterImpl> {
 public:
  MasterImpl(asio::io_context& io, MasterOptions o) : io_(io), o_(std::move(o)), retry_(io) {}

  void start() { join(); }

  void stop(std::function<void()> done) {
    stopping_ = true;
    retry_.cancel();
    auto s = s_;
    if (!s) return asio::post(io_, std::move(done));
    s->end();
    // Resign first (the next in line leads at once), then close the session.
    s->latch->close([self = shared_from_this(), s, done = std::move(done)](client::Result<void>) {
      s->client->close([s, done](client::Result<void>) { done(); });
    });
  }

 private:
  /// A new session: a new Client and LeaderLatch, and the loop that acts while leading.
  void join() {
    auto s = std::make_shared<MasterSession>(io_, o_.zk, o_.session_timeout);
    s_ = s;
    std::weak_ptr<MasterImpl> weak = shared_from_this();
    std::weak_ptr<MasterSession> ws = s;
    s->subscription = s->client->subscribe_state([weak, ws](client::ConnectionState state) {
      auto self = weak.lock();
      auto s = ws.lock();
      if (!self || !s || s->ended) return;
      spdlog::info("session {}", client::state_name(state));
      if (state == client::ConnectionState::kLost) self->lost(s);
    });
    s->latch = std::make_unique<recipes::LeaderLatch>(*s->client, std::string(kMasterPath), o_.id);
    s->latch->on_leadership([ws](bool leading) {
      auto s = ws.lock();
      if (!s || s->ended) return;
      s->leading = leading;
      if (leading) {
        s->notify();
      } else {
        // In-flight multis are fenced by the check of the latch node; start no others.
        spdlog::info("leadership {}: assigning stops",
                     s->client->state() == client::ConnectionState::kLost ? "lost" : "suspended");
      }
    });
    s->client->start();
    s->latch->start();
    spdlog::info("contending for {} as {}", kMasterPath, o_.id);
    asio::co_spawn(io_, loop(s), log_exception);
  }

  /// The session expired: this one is over (its latch node is gone); join again anew.
  void lost(const std::shared_ptr<MasterSession>& s) {
    s->end();
    retired_.push_back(s);  // kept: the latch's work may still refer to its Client
    if (stopping_) return;
    spdlog::warn("session lost: rejoining the election with a new session");
    retry_.expires_after(100ms);
    retry_.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (!ec && !self->stopping_) self->join();
    });
  }

  awaitable<void> loop(std::shared_ptr<MasterSession> s) {
    while (!s->ended) {
      if (s->leading && s->dirty) {
        s->dirty = false;
        bool ok = true;  // (not `?:` around co_await: g++ 12 mishandles it)
        if (s->latch_node.empty()) ok = co_await take_office(*s);
        if (ok) ok = co_await pass(*s);
        if (!ok && !s->ended) {
          s->dirty = true;
          co_await s->sleep(250ms);
        }
        continue;
      }
      // Watches wake it; a rescan every 5 s guards against anything missed.
      bool expired = co_await s->sleep(5s);  // (named first: no co_await in a condition)
      if (expired) s->dirty = true;
    }
  }

  /// First steps as leader: the directories exist, and which latch node is ours (the
  /// fencing check). False to try again.
  awaitable<bool> take_office(MasterSession& s) {
    auto& c = *s.client;
    // A named vector, not a braced list: g++ 12 keeps that list's array off the coroutine frame.
    const std::vector<std::string> dirs = {std::string(kWorkersPath), std::string(kTasksPath),
                                           std::string(kAssignPath), std::string(kStatusPath)};
    for (const std::string& path : dirs) {
      auto r =
          co_await call([&] { return c.create(path, "", client::CreateOptions(), use_awaitable); });
      if (!r && r.error() != ErrorCode::kNodeExists) co_return false;
    }
    // This session's ephemeral under /master is its latch node.
    std::string prefix = std::string(kMasterPath) + "/";
    auto mine = co_await call([&] { return c.ephemerals(prefix, use_awaitable); });
    auto all = co_await call([&] { return s.latch->participants(use_awaitable); });
    if (!all || all->empty()) co_return false;
    std::string node;
    if (mine) {
      for (const auto& p : *mine)
        if (p.starts_with(prefix) && p.find("-latch-") != std::string::npos) node = p;
    } else {  // getEphemerals unavailable: find our id (ids are unique among masters)
      for (const auto& p : *all)
        if (p.id == o_.id) node = prefix + p.node;
    }
    if (node.empty() || prefix + all->front().node != node) co_return false;
    s.latch_node = node;
    std::string backups;
    for (size_t i = 1; i < all->size(); ++i) backups += (i > 1 ? "," : "") + (*all)[i].id;
    spdlog::info("elected: {} is the active master (latch node {}; backups: {})", o_.id, node,
                 backups.empty() ? "none" : backups);
    co_return true;
  }

  /// Rebuilds the view from the ensemble, moves the tasks of vanished workers back, and
  /// assigns pending tasks. False on an error worth a retry.
  awaitable<bool> pass(MasterSession& s) {
    auto& c = *s.client;
    // Live workers (and a child watch on /workers).
    std::string workers_path(kWorkersPath);
    auto wr = co_await call(
        [&] { return c.children(workers_path, s.watch_once(workers_path), use_awaitable); });
    if (!wr) co_return s.unarm(workers_path);
    std::set<std::string> live(wr->children.begin(), wr->children.end());
    // Lost: gone from /workers, or its znode deleted since it joined (then a live one of that
    // id is a new worker, and what the old one held goes back to /tasks).
    for (auto it = s.workers.begin(); it != s.workers.end();) {
      if (live.count(it->first) && !s.departed.count(it->first)) {
        ++it;
        continue;
      }
      spdlog::info("worker lost: {}", it->first);
      s.retiring.insert(it->first);
      it = s.workers.erase(it);
    }
    s.departed.clear();
    for (const auto& w : live) {
      if (s.workers.count(w) || s.malformed.count(worker_path(w))) continue;
      auto d =
          co_await call([&] { return c.get(worker_path(w), s.watch_worker(w), use_awaitable); });
      if (d.error() == ErrorCode::kNoNode) continue;
      if (!d) co_return false;
      std::string why;
      auto info = parse_worker_info(d->data, &why);
      if (!info) {
        s.malformed.insert(worker_path(w));
        spdlog::warn("malformed {}: {} (skipped)", worker_path(w), why);
        continue;
      }
      spdlog::info("worker joined: {} (host {}, slots {})", w, info->host, info->slots);
      s.workers[w] = *info;
    }

    // Assignments: the load of live workers; the tasks of vanished ones go back to /tasks.
    std::string assign_root(kAssignPath);
    auto ar = co_await call([&] { return c.children(assign_root, nullptr, use_awaitable); });
    if (!ar) co_return false;
    const std::set<std::string> assigned(ar->children.begin(), ar->children.end());
    std::erase_if(s.retiring, [&](const std::string& w) { return !assigned.count(w); });
    std::vector<WorkerLoad> loads;
    for (const auto& w : ar->children) {
      if (!s.workers.count(w) || s.retiring.count(w)) {
        bool retired = co_await retire_worker(s, w);
        if (!retired) co_return false;
        if (s.acting()) s.retiring.erase(w);
        continue;
      }
      auto kids = co_await call(
          [&] { return c.children(assign_dir(w), s.watch_once(assign_dir(w)), use_awaitable); });
      if (kids.error() == ErrorCode::kNoNode) {  // its worker makes it again
        s.unarm(assign_dir(w));
        continue;
      }
      if (!kids) co_return s.unarm(assign_dir(w));
      loads.push_back({w, s.workers[w].slots, static_cast<int>(kids->children.size())});
    }

    // Pending tasks, planned over the live workers that have an /assign node.
    std::string tasks_root(kTasksPath);
    auto tr = co_await call(
        [&] { return c.children(tasks_root, s.watch_once(tasks_root), use_awaitable); });
    if (!tr) co_return s.unarm(tasks_root);
    std::vector<std::string> pending;
    for (const auto& t : tr->children)
      if (valid_task_id(t) && !s.malformed.count(task_path(t))) pending.push_back(t);
    for (const auto& a : plan_assignments(std::move(pending), std::move(loads))) {
      if (!s.acting()) co_return true;
      bool assigned = co_await assign(s, a.task, a.worker);
      if (!assigned) co_return false;
    }
    co_return true;
  }

  /// One multi: /assign/W/T created, /tasks/T deleted at the version read, our latch node
  /// checked. False on an error worth a re-read.
  awaitable<bool> assign(MasterSession& s, const std::string& t, const std::string& w) {
    auto& c = *s.client;
    if (!s.acting()) co_return true;
    auto d = co_await call([&] { return c.get(task_path(t), nullptr, use_awaitable); });
    if (d.error() == ErrorCode::kNoNode) co_return true;  // moved by someone else: re-read
    if (!d) co_return false;
    std::string why;
    auto task = parse_task(d->data, false, &why);
    if (!task) {
      s.malformed.insert(task_path(t));
      spdlog::warn("malformed {}: {} (skipped)", task_path(t), why);
      co_return true;
    }
    task->attempt += 1;
    task->assigned_ms = now_ms();
    task->master = o_.id;
    client::Multi ops;
    ops.create(assign_path(w, t), serialize(*task));
    ops.remove(task_path(t), d->stat.version);
    ops.check(s.latch_node, -1);
    if (o_.test_assign_delay.count() > 0) {
      // Testing only: the decision is made; the write goes out later, unchecked.
      spdlog::info("test: holding the multi assigning {} to {} for {} ms", t, w,
                   o_.test_assign_delay.count());
      asio::steady_timer hold(io_, o_.test_assign_delay);
      std::error_code ec;
      co_await hold.async_wait(asio::redirect_error(use_awaitable, ec));
    } else if (!s.acting()) {
      co_return true;
    }
    auto r = co_await call([&] { return c.multi(std::move(ops), use_awaitable); });
    if (r) {
      spdlog::info("assigned {} to {} (attempt {})", t, w, task->attempt);
      co_return true;
    }
    co_return multi_failed(s, r, "assigning " + t + " to " + w);
  }

  /// A worker's /workers node is gone, or was made again by a new worker of its id: each of
  /// the old one's tasks back to /tasks (attempt unchanged) in one multi, or, if it already
  /// finished, only its assignment deleted; then /assign/W unless the worker is back. Once a
  /// worker of that id is registered again, what is left under /assign/W stays with it.
  awaitable<bool> retire_worker(MasterSession& s, const std::string& w) {
    auto& c = *s.client;
    auto kids = co_await call([&] { return c.children(assign_dir(w), nullptr, use_awaitable); });
    if (kids.error() == ErrorCode::kNoNode) co_return true;
    if (!kids) co_return false;
    for (const auto& t : kids->children) {
      if (!s.acting()) co_return true;
      auto d = co_await call([&] { return c.get(assign_path(w, t), nullptr, use_awaitable); });
      if (d.error() == ErrorCode::kNoNode) continue;
      if (!d) co_return false;
      auto st = co_await call([&] { return c.get(status_path(t), nullptr, use_awaitable); });
      if (!st && st.error() != ErrorCode::kNoNode) co_return false;
      auto status = st ? parse_task_status(st->data) : std::nullopt;
      if (auto back = s.workers.find(w); back != s.workers.end() && status && !status->finished() &&
                                         status->worker == w &&
                                         status->started_ms >= back->second.started_ms) {
        spdlog::info("left {} with the new worker {}, which runs it", t, w);
        continue;
      }
      auto task = parse_task(d->data, true);
      client::Multi ops;
      bool finished = status && status->finished();
      if (!finished) {
        if (!task) {  // without its kind and arg it cannot be pending again
          if (s.malformed.insert(assign_path(w, t)).second)
            spdlog::warn("malformed {} (left in place)", assign_path(w, t));
          continue;
        }
        ops.create(task_path(t), serialize(task->pending()));
      }
      // Only while no worker of this id is registered: a new one scans /assign/W as soon as
      // its node is made and may be running T already, with no /status to show it yet.
      // Moved then, T ran twice at once (here and where it went next). ZNODEEXISTS leaves
      // T with the new worker; ZooKeeper's multi has no "check absent", so create and delete.
      const size_t guard_op = ops.ops().size();
      ops.create(worker_path(w), "");
      ops.remove(worker_path(w), 0);
      ops.remove(assign_path(w, t), d->stat.version);
      ops.check(s.latch_node, -1);
      if (!s.acting()) co_return true;
      auto r = co_await call([&] { return c.multi(std::move(ops), use_awaitable); });
      if (!r && guard_op < r->size() && (*r)[guard_op].err == ErrorCode::kNodeExists) {
        // Not a re-read at once: the worker's join (the child watch on /workers) or its
        // departure wakes the master. A /workers/W that does not parse stays skipped, and
        // its tasks with it, tried again at each pass.
        spdlog::info("left {} with {}: a worker of that id is registered again", t, w);
        co_return true;
      }
      if (!r) co_return multi_failed(s, r, "moving " + t + " from " + w);
      if (finished)
        spdlog::info("dropped finished {} from lost worker {}", t, w);
      else
        spdlog::info("reassigned {} from {} (back to pending, attempt {})", t, w, task->attempt);
    }
    // The worker may be back already: keep its /assign node then (it would remake it anyway).
    auto back = co_await call([&] { return c.exists(worker_path(w), nullptr, use_awaitable); });
    if (back.error() == ErrorCode::kNoNode)
      co_await call([&] { return c.remove(assign_dir(w), -1, use_awaitable); });
    co_return true;
  }

  /// Logs a failed multi and says which op failed; false for errors worth a backoff.
  bool multi_failed(MasterSession& s, const client::Result<std::vector<client::OpResult>>& r,
                    const std::string& what) {
    size_t op = 0;
    for (; op < r->size(); ++op)
      if ((*r)[op].err != ErrorCode::kOk && (*r)[op].err != ErrorCode::kRuntimeInconsistency) break;
    // The check of our latch node is the last op: ZNONODE there means our session's node is
    // gone, so someone else may lead now.
    bool fenced = !r->empty() && op + 1 == r->size() && r.error() == ErrorCode::kNoNode;
    if (fenced) {
      spdlog::warn(
          "multi failed, {}: {} at the check of latch node {}: fenced, no longer the "
          "active master",
          what, error_text(r.error()), s.latch_node);
      s.latch_node.clear();  // found again (or not) as leader
      return true;
    }
    spdlog::warn("multi failed, {}: {}{}: re-reading", what, error_text(r.error()),
                 op < r->size() ? " at op " + std::to_string(op) : "");
    s.dirty = true;
    return r.error() == ErrorCode::kNodeExists || r.error() == ErrorCode::kNoNode ||
           r.error() == ErrorCode::kBadVersion;
  }

  asio::io_context& io_;
  MasterOptions o_;
  std::shared_ptr<MasterSession> s_;
  std::vector<std::shared_ptr<MasterSession>> retired_;
  asio::steady_timer retry_;
  bool stopping_ = false;
};

Master::Master(asio::io_context& io, MasterOptions options)
    : impl_(std::make_shared<MasterImpl>(io, std::move(options))) {}
Master::~Master() = default;
void Master::start() { impl_->start(); }
void Master::stop(std::function<void()> done) { impl_->stop(std::move(done)); }

}  // namespace corral::mw
