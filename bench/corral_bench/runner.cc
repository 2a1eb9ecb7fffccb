#include "bench/corral_bench/runner.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

namespace corral::bench {

using client::ErrorCode;
using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

namespace {

/// What one lane owns. Only its own operations' completions touch it, one after another, so
/// it needs no lock.
struct LaneState {
  Lane lane;
  LatencyRecorder latencies;
  ErrorCounts errors;
};

/// The lanes and the window they record into.
class LaneDriver {
 public:
  LaneDriver(Workload& workload, const Options& options, const SessionPool& pool)
      : workload_(workload), options_(options), pool_(pool), lanes_(workload.lanes()) {
    for (size_t i = 0; i < lanes_.size(); ++i) {
      lanes_[i].lane.index = i;
      lanes_[i].lane.session = i % static_cast<size_t>(options.sessions);
    }
  }

  void start_all() {
    running_ = lanes_.size();
    for (auto& s : lanes_) issue(s);
  }
  /// Opens the measured window now.
  void open_window() { start_ns_ = now_ns(); }
  /// Waits until `deadline`, until the operation target closed the window, or until every
  /// lane stopped because its session was lost.
  void wait_window(Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return stopping_.load() || running_.load() == 0; });
  }
  /// Closes the window (unless the operation target did) and stops issuing.
  void close_window() {
    int64_t expected = std::numeric_limits<int64_t>::max();
    end_ns_.compare_exchange_strong(expected, now_ns());
    stopping_ = true;
  }
  /// Waits for every lane's last operation; false when some never completed.
  bool drain(Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return running_.load() == 0; });
  }
  double window_seconds() const { return static_cast<double>(end_ns_ - start_ns_) / 1e9; }

  /// Merges the lanes' figures into `r` and lists what each lane started.
  std::vector<uint64_t> collect(WorkloadResult& r) {
    LatencyRecorder all;
    std::vector<uint64_t> issued;
    for (auto& s : lanes_) {
      all.merge(std::move(s.latencies));
      for (auto& [code, n] : s.errors) r.errors[code] += n;
      issued.push_back(s.lane.seq);
    }
    r.ops = all.count();
    r.latency = all.summarise();
    r.seconds = window_seconds();
    for (size_t i = 0; i < static_cast<size_t>(options_.sessions); ++i) {
      if (pool_.lost(i)) r.sessions_lost.push_back(i);
    }
    return issued;
  }

 private:
  void issue(LaneState& s) {
    int64_t t0 = now_ns();
    workload_.start(s.lane, [this, &s, t0](ErrorCode err) { finish(s, t0, err); });
  }

  void finish(LaneState& s, int64_t t0, ErrorCode err) {
    int64_t t1 = now_ns();
    ++s.lane.seq;
    if (err != ErrorCode::kOk) {
      ++s.errors[err];
    } else if (t0 >= start_ns_.load() && t1 <= end_ns_.load()) {
      record(s, t1 - t0);
    }
    // A lost session fails every call at once: the lane would spin on errors. It stops, and
    // the report names the session.
    bool session_lost = err != ErrorCode::kOk && pool_.lost(s.lane.session);
    if (!stopping_ && !session_lost) return issue(s);
    if (--running_ == 0) notify();
  }

  void record(LaneState& s, int64_t ns) {
    if (options_.ops == 0) return s.latencies.record(ns);
    uint64_t n = measured_.fetch_add(1);
    if (n >= options_.ops) return;
    s.latencies.record(ns);
    if (n + 1 == options_.ops) {
      close_window();
      notify();
    }
  }

  void notify() {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }

  Workload& workload_;
  const Options& options_;
  const SessionPool& pool_;
  std::vector<LaneState> lanes_;
  std::atomic<int64_t> start_ns_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> end_ns_{std::numeric_limits<int64_t>::max()};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> measured_{0};
  std::atomic<size_t> running_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

RunOutcome run_lanes(const std::string& name, Workload& workload, Context& ctx) {
  const Options& o = ctx.options;
  RunOutcome out;
  out.result.workload = name;
  auto driver = std::make_unique<LaneDriver>(workload, o, ctx.pool);
  UsageSampler usage(o.server_pids);
  uint64_t losses_before = ctx.pool.connection_losses();
  driver->start_all();
  std::this_thread::sleep_for(seconds(o.warmup_s));  // the warm-up is a span of time by design
  if (auto err = usage.start()) out.usage_error = *err;
  driver->open_window();
  // With an operation target the window closes itself; the day is only a bound.
  Clock::duration window = o.ops ? Clock::duration(std::chrono::hours(24)) : seconds(o.duration_s);
  driver->wait_window(Clock::now() + window);
  driver->close_window();
  if (auto err = usage.stop(); err && out.usage_error.empty()) out.usage_error = *err;
  auto drain_deadline =
      Clock::now() + 2 * std::chrono::milliseconds(o.session_timeout_ms) + std::chrono::seconds(10);
  if (!driver->drain(drain_deadline)) {
    out.stuck = true;
    // Late completions may still reach the driver: leave it be (the caller exits).
    (void)driver.release();
    return out;
  }
  out.issued = driver->collect(out.result);
  out.result.connection_losses = ctx.pool.connection_losses() - losses_before;
  out.result.server_pids = usage.pids();
  out.result.server_cpu_seconds = usage.per_pid_seconds();
  out.result.server_write_bytes = usage.write_bytes();
  out.result.client_cpu_seconds = usage.client_seconds();
  return out;
}

}  // namespace corral::bench
