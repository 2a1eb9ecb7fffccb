// corral-soak: a long run under mixed load with a leader kill every minute, to show that
// the servers' memory and open file descriptors stay flat and no acknowledged write is lost.
//
//   corral-soak [--impl corral|zookeeper] [--duration S] [--kill-every S] [--clients N]
//               [--sample-every S] [--loops-per-second N]
//
// A 3-server ensemble on loopback; N client sessions (Corral's client) each loop over:
// a compare-and-set on a register of their own, ephemeral sequential creates (and deletes
// of their oldest), a multi that creates and deletes a node, getData with a watch on a
// shared node, and getChildren. Every --kill-every seconds the leader gets SIGKILL and is
// restarted once a new leader serves. Every --sample-every seconds each server's VmRSS and
// open fds are printed.
//
// Exits 1 when: a client stops making progress for 30 s, an acknowledged register value
// is lost (the final read is below the last acknowledged one), an unexpected error code
// is seen, or (runs of 10 minutes and more) the last tenth of the run's RSS or fds is above
// the first tenth's by more than 25% + 16 MiB or 8 fds.
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "corral/client/blocking.h"
#include "corral/client/multi.h"
#include "tests/e2e/ensemble.h"

namespace {

using Clock = std::chrono::steady_clock;
using corral::client::BlockingClient;
using corral::client::CreateMode;
using corral::client::ErrorCode;
using corral::e2e::Ensemble;

struct Settings {
  corral::e2e::Impl impl = corral::e2e::Impl::kCorral;
  int duration_s = 3600;
  int kill_every_s = 60;
  int clients = 8;
  int sample_every_s = 10;
  /// Each client's loops per second (about 7 operations each); 0 = as fast as it can.
  int loops_per_second = 0;
};

/// What one client did; written by its thread, read by the main thread.
struct ClientStats {
  std::atomic<uint64_t> ops{0};
  std::atomic<int64_t> last_progress_ms{0};
  std::atomic<int64_t> acked_register{0};
  std::mutex mu;
  std::map<int, uint64_t> errors;  ///< error code -> count
};

int64_t since_ms(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

/// Errors a client sees while its server dies or an election runs: retried, not failures.
bool expected_during_failover(ErrorCode err) {
  return err == ErrorCode::kConnectionLoss || err == ErrorCode::kSessionExpired ||
         err == ErrorCode::kOperationTimeout || err == ErrorCode::kSessionMoved ||
         err == ErrorCode::kClosing;
}

/// Errors that follow from a retried request whose first try did apply.
bool expected_after_retry(ErrorCode err) {
  return err == ErrorCode::kBadVersion || err == ErrorCode::kNodeExists ||
         err == ErrorCode::kNoNode;
}

void note(ClientStats& stats, ErrorCode err) {
  std::lock_guard lock(stats.mu);
  ++stats.errors[static_cast<int>(err)];
}

/// One session's loop until `stop`; a new session when the old one expires.
void run_client(int index, const std::string& connect, int loops_per_second,
                std::atomic<bool>& stop, ClientStats& stats, Clock::time_point start) {
  const std::string me = "/soak/c" + std::to_string(index);
  const std::string reg = me + "-register";
  int64_t value = 0;
  while (!stop) {
    corral::client::Options options;
    options.connect_string = connect;
    options.session_timeout = std::chrono::milliseconds(6000);
    BlockingClient c(options);
    if (!c.wait_connected(std::chrono::seconds(10))) continue;
    std::vector<std::string> mine;
    c.create(reg, "0", CreateMode::kPersistent);
    auto step = [&](ErrorCode err) {
      if (err == ErrorCode::kOk) {
        ++stats.ops;
        stats.last_progress_ms = since_ms(start);
      } else {
        note(stats, err);
        // The server is down or electing: the client reconnects on its own meanwhile.
        if (expected_during_failover(err))
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return err;
    };
    auto next_loop = Clock::now();
    while (!stop && c.state() != corral::client::ConnectionState::kLost) {
      if (loops_per_second > 0) {
        next_loop += std::chrono::microseconds(1000000 / loops_per_second);
        std::this_thread::sleep_until(next_loop);
      }
      auto got = c.get(reg);
      if (step(got.error()) != ErrorCode::kOk) continue;
      value = std::max<int64_t>(value, std::strtoll(got->data.c_str(), nullptr, 10)) + 1;
      if (step(c.set(reg, std::to_string(value), got->stat.version).error()) == ErrorCode::kOk)
        stats.acked_register = value;
      auto made = c.create(me + "-e-", "x", CreateMode::kEphemeralSequential);
      if (step(made.error()) == ErrorCode::kOk) mine.push_back(made->path);
      if (mine.size() > 10) {
        step(c.remove(mine.front()).error());
        mine.erase(mine.begin());
      }
      corral::client::Multi m;
      m.create(me + "-m", "x").remove(me + "-m");
      step(c.multi(std::move(m)).error());
      step(c.get("/soak", [](const corral::client::WatchEvent&) {}).error());
      step(c.children("/soak").error());
    }
  }
}

/// VmRSS in KiB of `pid`, or 0.
long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

/// Open file descriptors of `pid`, or 0.
long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

struct Sample {
  int64_t t_ms;
  long rss_kib_max;
  long fds_max;
};

bool parse(int argc, char** argv, Settings& s) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view key = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (key == "--impl") {
      if (!corral::e2e::parse_impl(argv[i + 1], s.impl)) return false;
    } else if (key == "--duration" && value > 0) {
      s.duration_s = value;
    } else if (key == "--kill-every" && value > 0) {
      s.kill_every_s = value;
    } else if (key == "--clients" && value > 0) {
      s.clients = value;
    } else if (key == "--sample-every" && value > 0) {
      s.sample_every_s = value;
    } else if (key == "--loops-per-second" && value >= 0) {
      s.loops_per_second = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

/// Kills the leader and restarts it once another leader serves; false if none does.
bool kill_leader(Ensemble& e) {
  int leader = e.wait_for_leader(Clock::now() + std::chrono::seconds(30));
  if (leader < 0) return false;
  e.kill9(leader);
  int next = e.wait_for_leader(Clock::now() + std::chrono::seconds(30));
  e.restart(leader);
  std::printf("  killed leader s%d; s%d leads\n", leader + 1, next + 1);
  return next >= 0;
}

/// Compares the first and last tenth of the samples; prints and returns the verdict.
bool flat(const std::vector<Sample>& samples) {
  size_t tenth = std::max<size_t>(1, samples.size() / 10);
  auto peak = [&](size_t from, size_t to, auto field) {
    long m = 0;
    for (size_t i = from; i < to; ++i) m = std::max(m, samples[i].*field);
    return m;
  };
  long rss_first = peak(0, tenth, &Sample::rss_kib_max);
  long rss_last = peak(samples.size() - tenth, samples.size(), &Sample::rss_kib_max);
  long fds_first = peak(0, tenth, &Sample::fds_max);
  long fds_last = peak(samples.size() - tenth, samples.size(), &Sample::fds_max);
  bool ok = rss_last <= rss_first * 5 / 4 + 16 * 1024 && fds_last <= fds_first + 8;
  std::printf("peak RSS first tenth %ld MiB, last tenth %ld MiB; peak fds %ld -> %ld: %s\n",
              rss_first / 1024, rss_last / 1024, fds_first, fds_last, ok ? "flat" : "GROWING");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  if (!parse(argc, argv, s)) {
    std::fprintf(stderr,
                 "usage: corral-soak [--impl corral|zookeeper] [--duration S] [--kill-every S] "
                 "[--clients N] [--sample-every S] [--loops-per-second N]\n");
    return 2;
  }
  Ensemble::Options eo;
  eo.impl = s.impl;
  eo.name = "corral-soak";
  Ensemble e(eo);
  if (!e.ok() || !e.start_all()) {
    std::fprintf(stderr, "ensemble did not start: %s\n", e.error().c_str());
    return 1;
  }
  {
    corral::client::Options o;
    o.connect_string = e.connect_string();
    BlockingClient setup(o);
    if (!setup.wait_connected(std::chrono::seconds(10)) ||
        !setup.create("/soak", "", CreateMode::kPersistent)) {
      std::fprintf(stderr, "cannot create /soak\n");
      return 1;
    }
  }
  auto start = Clock::now();
  std::atomic<bool> stop{false};
  std::vector<ClientStats> stats(static_cast<size_t>(s.clients));
  std::vector<std::thread> threads;
  for (int i = 0; i < s.clients; ++i)
    threads.emplace_back(run_client, i, e.connect_string(), s.loops_per_second, std::ref(stop),
                         std::ref(stats[static_cast<size_t>(i)]), start);

  std::printf("%s soak: %d s, leader kill every %d s, %d clients\n", corral::e2e::impl_name(s.impl),
              s.duration_s, s.kill_every_s, s.clients);
  std::vector<Sample> samples;
  bool ok = true;
  auto next_kill = start + std::chrono::seconds(s.kill_every_s);
  auto next_sample = start;
  auto end = start + std::chrono::seconds(s.duration_s);
  while (ok && Clock::now() < end) {
    if (Clock::now() >= next_kill) {
      ok = kill_leader(e);
      next_kill += std::chrono::seconds(s.kill_every_s);
    }
    if (Clock::now() >= next_sample) {
      Sample sample{since_ms(start), 0, 0};
      std::string line;
      uint64_t ops = 0;
      for (auto& st : stats) ops += st.ops;
      for (int i = 0; i < e.size(); ++i) {
        long rss = e.running(i) ? rss_kib(e.pid(i)) : 0;
        long fds = e.running(i) ? open_fds(e.pid(i)) : 0;
        sample.rss_kib_max = std::max(sample.rss_kib_max, rss);
        sample.fds_max = std::max(sample.fds_max, fds);
        line += " s" + std::to_string(i + 1) + " " + std::to_string(rss / 1024) + " MiB " +
                std::to_string(fds) + " fds;";
      }
      std::printf("t=%5llds ops=%llu%s\n", static_cast<long long>(sample.t_ms / 1000),
                  static_cast<unsigned long long>(ops), line.c_str());
      std::fflush(stdout);
      samples.push_back(sample);
      next_sample += std::chrono::seconds(s.sample_every_s);
    }
    for (size_t i = 0; i < stats.size(); ++i) {
      if (since_ms(start) - stats[i].last_progress_ms > 30000) {
        std::printf("client %zu made no progress for 30 s\n", i);
        ok = false;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the sampling period's grain
  }
  stop = true;
  for (auto& t : threads) t.join();
  if (!ok) std::printf("%s", e.describe().c_str());

  // No acknowledged register value lost: the final value is at least the last acked one.
  corral::client::Options o;
  o.connect_string = e.connect_string();
  BlockingClient check(o);
  ok = ok && check.wait_connected(std::chrono::seconds(30));
  uint64_t total = 0;
  for (size_t i = 0; i < stats.size() && ok; ++i) {
    check.sync("/soak");
    auto got = check.get("/soak/c" + std::to_string(i) + "-register");
    int64_t final_value = got ? std::strtoll(got->data.c_str(), nullptr, 10) : -1;
    total += stats[i].ops;
    if (final_value < stats[i].acked_register) {
      std::printf("client %zu: register %lld, below the acknowledged %lld\n", i,
                  static_cast<long long>(final_value),
                  static_cast<long long>(stats[i].acked_register.load()));
      ok = false;
    }
    for (auto [code, count] : stats[i].errors) {
      auto err = static_cast<ErrorCode>(code);
      if (!expected_during_failover(err) && !expected_after_retry(err)) {
        std::printf("client %zu: %llu x unexpected error %d\n", i,
                    static_cast<unsigned long long>(count), code);
        ok = false;
      }
    }
  }
  std::printf("%llu operations in %lld s\n", static_cast<unsigned long long>(total),
              static_cast<long long>(since_ms(start) / 1000));
  if (ok && s.duration_s >= 600) ok = flat(samples);
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
