#include "bench/corral_bench/fanout.h"

#include <asio/use_future.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace corral::bench {

using client::ErrorCode;
using Clock = std::chrono::steady_clock;

namespace {

/// One round's watchers and what they saw; shared with them, so a notification that comes
/// after its round was given up on still lands somewhere valid.
struct Round {
  std::mutex mu;
  std::condition_variable cv;
  size_t armed = 0;
  /// Watches asked for: the answers to wait for before the set.
  size_t expected_armed = 0;
  /// Notifications to wait for: one per watch the server accepted.
  size_t expected = 0;
  size_t notified = 0;
  int64_t set_ns = 0;
  int64_t last_ns = 0;
  ErrorCounts errors;
  LatencyRecorder latencies;
};

/// Runs one round; false when it did not finish in time (its errors say what is missing).
bool run_round(Context& ctx, const std::string& path, const std::shared_ptr<Round>& round) {
  auto& clients = ctx.pool.clients();
  auto wait = [&](auto done) {
    auto deadline = Clock::now() + std::chrono::milliseconds(ctx.options.session_timeout_ms) +
                    std::chrono::seconds(10);
    std::unique_lock lock(round->mu);
    return round->cv.wait_until(lock, deadline, done);
  };
  round->expected = round->expected_armed = clients.size();
  // Grown while notifications come in, the store would be copied in the measured window.
  round->latencies.reserve(clients.size());
  for (auto& c : clients) {
    auto watcher = [round](const client::WatchEvent&) {
      std::lock_guard lock(round->mu);
      round->last_ns = now_ns();
      round->latencies.record(round->last_ns - round->set_ns);
      // Only the last wakes the waiting thread: a wake-up per notification cost the client
      // a context switch each, on cores the servers share.
      if (++round->notified == round->expected) round->cv.notify_all();
    };
    c->get(path, watcher, [round](client::Result<client::DataResult> r) {
      std::lock_guard lock(round->mu);
      if (!r) {
        ++round->errors[r.error()];
        --round->expected;  // no watch was left: no notification to wait for
      }
      if (++round->armed == round->expected_armed) round->cv.notify_all();
    });
  }
  if (!wait([&] { return round->armed == round->expected_armed; })) {
    round->errors[ErrorCode::kOperationTimeout] += clients.size() - round->armed;
    return false;
  }
  {
    std::lock_guard lock(round->mu);
    round->set_ns = now_ns();
  }
  clients[0]->set(path, ctx.value, -1, [round](client::Result<client::Stat> r) {
    std::lock_guard lock(round->mu);
    if (!r) ++round->errors[r.error()];
  });
  if (!wait([&] { return round->notified >= round->expected; })) {
    round->errors[ErrorCode::kOperationTimeout] += round->expected - round->notified;
    return false;
  }
  return true;
}

std::string watched_path(const Context& ctx) { return ctx.dir + "/watched"; }

}  // namespace

std::optional<std::string> prepare_fanout(Context& ctx) {
  if (auto e = ensure_node(*ctx.pool.clients()[0], watched_path(ctx)); e != ErrorCode::kOk) {
    return client::error_text(e);
  }
  return std::nullopt;
}

RunOutcome run_fanout(Context& ctx) {
  const Options& o = ctx.options;
  RunOutcome out;
  out.result.workload = "watch";
  std::string path = watched_path(ctx);
  UsageSampler usage(o.server_pids);
  uint64_t losses_before = ctx.pool.connection_losses();
  LatencyRecorder notifications, last;
  auto start = Clock::now();
  const auto warmup_end = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.warmup_s));
  const auto duration =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  Clock::time_point window_start, window_end;  // set when the window opens
  bool measuring = false;
  for (;;) {
    auto now = Clock::now();
    if (!measuring && now >= warmup_end) {
      measuring = true;
      if (auto err = usage.start()) out.usage_error = *err;
      // The window is counted from its first round: a warm-up round that outlasted the whole
      // window (a server stalled a second) would otherwise leave no round measured.
      window_start = now;
      window_end = now + duration;
    }
    bool done = o.ops ? notifications.count() >= o.ops : now >= window_end;
    if (measuring && done) break;
    auto round = std::make_shared<Round>();
    bool finished = run_round(ctx, path, round);
    std::lock_guard lock(round->mu);
    for (auto& [code, n] : round->errors) out.result.errors[code] += n;
    if (!finished) break;  // its errors are counted; more rounds would only pile them up
    if (!measuring) continue;
    last.record(round->last_ns - round->set_ns);
    notifications.merge(std::move(round->latencies));
  }
  if (auto err = usage.stop(); err && out.usage_error.empty()) out.usage_error = *err;
  if (measuring) {
    out.result.seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
  }
  out.result.ops = notifications.count();
  out.result.latency = notifications.summarise();
  auto rounds = last.count();
  auto last_summary = last.summarise();
  out.result.extra = {{"rounds", static_cast<double>(rounds)},
                      {"last_notification_p50_us", last_summary.p50_us},
                      {"last_notification_max_us", last_summary.max_us}};
  out.result.connection_losses = ctx.pool.connection_losses() - losses_before;
  out.result.server_pids = usage.pids();
  out.result.server_cpu_seconds = usage.per_pid_seconds();
  out.result.server_write_bytes = usage.write_bytes();
  out.result.client_cpu_seconds = usage.client_seconds();
  return out;
}

}  // namespace corral::bench
