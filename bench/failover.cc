// corral-failover: how long a 3-server ensemble takes no writes after its leader dies.
//
//   corral-failover [zookeeper|corral] [ROUNDS] [--session-ms N] [--tick-ms N] [--size N]
//
// Starts an ensemble (tests/e2e/ensemble.h: Apache ZooKeeper 3.8 or corral-server, tickTime
// 500 ms by default) and one client of Apache's C client connected to all servers, issuing
// setData on /failover in a tight loop (zoo_aset, one in flight). Each round waits until
// every member serves and writes flow, sends SIGKILL to the leader, and measures from just
// before the kill syscall to the completion callback of the first setData that succeeds among
// those invoked after it. Then the old leader is restarted and rejoins before the next round.
// Prints one line per round and min/median/max in ms.
//
// The client's session timeout matters: after trying every server without success the C
// client waits recv_timeout/60 before the next pass (167 ms for 10 s).
#define THREADED
#include <signal.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/ensemble.h"

namespace {

using corral::e2e::Ensemble;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// The client: a session on all servers and a thread writing in a loop.
class Writer {
 public:
  Writer(const std::string& hosts, int session_ms) {
    zh_ = zookeeper_init(hosts.c_str(), &on_watch, session_ms, nullptr, this, 0);
  }
  ~Writer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (zh_) zookeeper_close(zh_);
  }
  bool wait_connected(Clock::duration timeout) {
    std::unique_lock lock(mu_);
    return zh_ && cv_.wait_for(lock, timeout, [&] { return connected_; });
  }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  zhandle_t* zh() const { return zh_; }

  /// Waits for an acknowledged setData invoked at or after `t`; its completion time, or
  /// nullopt at `deadline`. `failed` gets the number that failed between `t` and that one.
  std::optional<Clock::time_point> first_ok_after(Clock::time_point t, Clock::time_point deadline,
                                                  int* failed = nullptr) {
    std::unique_lock lock(mu_);
    std::optional<Clock::time_point> found;
    cv_.wait_until(lock, deadline, [&] {
      size_t i = log_.size();
      while (i > 0 && log_[i - 1].invoke >= t) --i;
      int bad = 0;
      for (; i < log_.size() && !found; ++i) {
        if (log_[i].rc == ZOK)
          found = log_[i].complete;
        else
          ++bad;
      }
      if (failed) *failed = bad;
      return found.has_value();
    });
    return found;
  }
  /// Acknowledged writes so far.
  long acked() const { return acked_; }

 private:
  struct Rec {
    Clock::time_point invoke, complete;
    int rc;
  };

  static void on_watch(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<Writer*>(ctx);
    std::lock_guard lock(self->mu_);
    self->connected_ = state == ZOO_CONNECTED_STATE;
    self->cv_.notify_all();
  }

  static void on_set(int rc, const Stat*, const void* data) {
    const auto now = Clock::now();
    auto* self = static_cast<Writer*>(const_cast<void*>(data));
    std::lock_guard lock(self->mu_);
    self->log_.push_back({self->invoked_, now, rc});
    if (rc == ZOK) ++self->acked_;
    self->in_flight_ = false;
    self->cv_.notify_all();
  }

  void run() {
    const std::string value(100, 'x');
    while (!stop_) {
      {
        std::lock_guard lock(mu_);
        in_flight_ = true;
        invoked_ = Clock::now();
      }
      int rc = zoo_aset(zh_, "/failover", value.data(), static_cast<int>(value.size()), -1, &on_set,
                        this);
      std::unique_lock lock(mu_);
      if (rc != ZOK) {
        // Not queued (the session is gone): record it and do not spin.
        log_.push_back({invoked_, Clock::now(), rc});
        in_flight_ = false;
        cv_.wait_for(lock, 10ms, [&] { return stop_.load(); });
        continue;
      }
      cv_.wait(lock, [&] { return !in_flight_; });
    }
  }

  zhandle_t* zh_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  bool in_flight_ = false;
  Clock::time_point invoked_;
  std::vector<Rec> log_;
  std::atomic<long> acked_{0};
};

int usage() {
  std::fprintf(stderr,
               "usage: corral-failover [zookeeper|corral] [ROUNDS] [--session-ms N] "
               "[--tick-ms N] [--size N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Ensemble::Options options;
  options.impl = corral::e2e::Impl::kZooKeeper;
  options.name = "corral-failover";
  int rounds = 5, session_ms = 10000;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> int { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--session-ms") {
      session_ms = next();
    } else if (a == "--tick-ms") {
      options.tick_ms = next();
    } else if (a == "--size") {
      options.size = next();
    } else if (positional == 0 && corral::e2e::parse_impl(a, options.impl)) {
      ++positional;
    } else if (positional <= 1 && std::atoi(a.c_str()) > 0) {
      rounds = std::atoi(a.c_str());
      positional = 2;
    } else {
      return usage();
    }
  }
  if (session_ms <= 0 || options.tick_ms <= 0 || options.size < 3) return usage();
  signal(SIGPIPE, SIG_IGN);
  zoo_set_debug_level(static_cast<ZooLogLevel>(0));  // quiet: reconnects are expected

  Ensemble ens(options);
  if (!ens.ok()) {
    std::fprintf(stderr, "cannot set up the ensemble: %s\n", ens.error().c_str());
    return 1;
  }
  auto t = Clock::now();
  if (!ens.start_all()) {
    std::fprintf(stderr, "ensemble did not start: %s\n%s", ens.error().c_str(),
                 ens.describe().c_str());
    return 1;
  }
  std::printf("%s: %d servers, tickTime=%d ms, started in %.0f ms; client session timeout %d ms\n",
              corral::e2e::impl_name(options.impl), ens.size(), options.tick_ms,
              ms(Clock::now() - t), session_ms);

  Writer writer(ens.connect_string(), session_ms);
  if (!writer.wait_connected(30s)) {
    std::fprintf(stderr, "client did not connect\n");
    return 1;
  }
  if (int rc = zoo_create(writer.zh(), "/failover", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
      rc != ZOK && rc != ZNODEEXISTS) {
    std::fprintf(stderr, "create /failover: %s\n", zerror(rc));
    return 1;
  }
  writer.start();

  std::vector<double> gaps;
  for (int r = 0; r < rounds; ++r) {
    const int leader = ens.wait_for_quorum(Clock::now() + 60s);
    // Writes flow: 200 acknowledged since now (after a restart: through the whole ensemble).
    const long base = writer.acked();
    const auto flow_deadline = Clock::now() + 60s;
    while (writer.acked() < base + 200 && Clock::now() < flow_deadline)
      std::this_thread::sleep_for(5ms);
    if (leader < 0 || writer.acked() < base + 200) {
      std::fprintf(stderr, "round %d: no leader or no writes\n%s", r + 1, ens.describe().c_str());
      return 1;
    }
    const std::string on = zoo_get_current_server(writer.zh());
    const bool on_leader = on == ens.host_port(leader);

    const auto killed = Clock::now();
    ::kill(ens.pid(leader), SIGKILL);
    ens.kill9(leader);  // reaps it
    int failed = 0;
    auto first = writer.first_ok_after(killed, Clock::now() + 60s, &failed);
    if (!first) {
      std::fprintf(stderr, "round %d: no write within 60 s of the kill\n%s", r + 1,
                   ens.describe().c_str());
      return 1;
    }
    const double gap = ms(*first - killed);
    gaps.push_back(gap);
    const int elected = ens.wait_for_leader(Clock::now() + 30s);
    std::printf(
        "round %d: killed leader member %d (client on the %s); next acknowledged write "
        "after %.1f ms (%d failed meanwhile); new leader member %d\n",
        r + 1, leader, on_leader ? "leader" : "follower", gap, failed, elected);
    std::fflush(stdout);
    if (!ens.restart(leader) || !ens.wait_serving(leader, Clock::now() + 60s)) {
      std::fprintf(stderr, "round %d: the old leader did not rejoin\n%s", r + 1,
                   ens.describe().c_str());
      return 1;
    }
  }
  std::sort(gaps.begin(), gaps.end());
  const size_t n = gaps.size();
  const double median = n % 2 ? gaps[n / 2] : (gaps[n / 2 - 1] + gaps[n / 2]) / 2;
  std::printf(
      "%s failover (kill -9 leader -> next acknowledged write) over %zu rounds: "
      "min %.1f ms, median %.1f ms, max %.1f ms\n",
      corral::e2e::impl_name(options.impl), n, gaps.front(), median, gaps.back());
  return 0;
}
