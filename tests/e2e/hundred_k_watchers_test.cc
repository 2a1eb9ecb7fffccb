// Watchers of one node on a whole ensemble, all fired by one delete (Corral issue 11: "100,000
// watchers on one node triggered at once: memory stays bounded and the server answers").
//
// Each watcher is a session of its own, and RLIMIT_NOFILE here is 20,000 per process (hard),
// so one process cannot hold 100,000 of them, neither as client nor as server. The work is
// spread instead: 6 corral-servers (3 participants, 3 observers) each serve about a sixth of
// the sessions, and one forked client process per share (Crowd, one epoll loop, source
// addresses of its own from 127.0.<k>.0, 500 connections each) opens them, sets one watch per
// session on /hot (exists, getData, getChildren, persistent and persistent-recursive addWatch, in
// turn) and reports. The test counts the watches with `wchs` on every server, deletes /hot, and
// waits until every process reports all its events. It measures each server's RSS, and checks that
// a fresh client of each server is answered promptly afterwards.
//
// HUNDRED_K_WATCHERS sets the number of watchers (default and in CI: kCiWatchers, 100,000).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/crowd.h"
#include "tests/e2e/ensemble.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace corral::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kCiWatchers = 100000;
constexpr int kServers = 6;
constexpr int kObservers = 3;
// Sessions one server may hold: its 20,000 descriptors less the ones it needs for itself.
constexpr int kPerServerMax = 19000;
// Sessions must outlive the whole run (minutes at full size) without pings: a client that
// pings every third of its timeout would cost 100,000 sessions' pings to 2 cores.
constexpr int32_t kSessionTimeoutMs = 600000;
// Session requests in flight per client process: a window keeps every member's queue of
// createSession proposals short. (Without one, 100,000 connects at once once made the leader's
// ack handling quadratic and its learners gave up on it after syncLimit; zab::Peer::leader_ack
// now starts from each voter's last ack.)
constexpr int kSessionWindow = 200;
constexpr const char* kHot = "/hot";
constexpr milliseconds kSetupDeadline{300000};
constexpr milliseconds kFireDeadline{300000};

int watchers() {
  const char* env = std::getenv("HUNDRED_K_WATCHERS");
  return env && *env ? std::atoi(env) : kCiWatchers;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int64_t steady_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The i-th watcher's request on `path`: five kinds in turn.
std::string watch_request(int i, const std::string& path) {
  std::string body;
  put_buffer(body, path);
  switch (i % 5) {
    case 0:
      return frame(request(1, kOpExists, body + '\1'));
    case 1:
      return frame(request(1, kOpGetData, body + '\1'));
    case 2:
      return frame(request(1, kOpGetChildren, body + '\1'));
    default:
      put32(body, i % 5 == 3 ? 0 : 1);  // PERSISTENT, PERSISTENT_RECURSIVE
      return frame(request(1, kOpAddWatch, body));
  }
}

// What wchs counts for the i-th watcher: like ZooKeeper 3.8, an addWatch sits in both the data
// and the child watch tables, so a persistent (or persistent-recursive) watch counts twice.
int wchs_weight(int i) { return i % 5 >= 3 ? 2 : 1; }

// One client process's part: `count` sessions on one server.
struct Share {
  int server = 0;
  uint16_t port = 0;
  int count = 0;
  int first = 0;        // the global index of its first watcher (picks the watch kinds)
  uint32_t source = 0;  // its first source address
};

// Client processes of at most kPerServerMax sessions, at least one per server, spread evenly.
std::vector<Share> plan(int n, const Ensemble& ensemble) {
  const int procs = std::max(ensemble.size(), (n + kPerServerMax - 1) / kPerServerMax);
  std::vector<Share> shares;
  int first = 0;
  for (int p = 0; p < procs; ++p) {
    Share s;
    s.server = p % ensemble.size();
    s.port = ensemble.client_port(s.server);
    s.count = n / procs + (p < n % procs ? 1 : 0);
    s.first = first;
    s.source = Crowd::kLoopback + static_cast<uint32_t>(p + 1) * 256;
    first += s.count;
    shares.push_back(s);
  }
  return shares;
}

// A child's report line; writes of less than PIPE_BUF bytes to one pipe do not interleave.
void say(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) < 0) _exit(3);
}

// The child process: opens the share's sessions, sets their watches, reports "ready", waits
// for every event, reports "fired", and then waits to be killed (its sessions stay open).
[[noreturn]] void watch_and_wait(const Share& s, int index, int report) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const std::string me = std::to_string(index) + " ";
  const auto t0 = Clock::now();
  if (!raise_open_files(static_cast<uint64_t>(s.count) + 256)) {
    say(report, "fail " + me + "RLIMIT_NOFILE below " + std::to_string(s.count + 256));
    _exit(1);
  }
  Crowd crowd(s.port, s.source);
  if (!crowd.open(s.count, kSetupDeadline)) {
    say(report, "fail " + me + "connect: " + std::to_string(crowd.size()) + " tried, " +
                    std::to_string(crowd.closed()) + " closed");
    _exit(1);
  }
  // Each new session is a txn through the leader: at most kSessionWindow asked at a time.
  const std::string hello = frame(connect_request(kSessionTimeoutMs));
  int64_t sessions = 0;
  int asked = std::min(s.count, kSessionWindow);
  crowd.on_frame = [&](const Crowd::Frame& f) {
    sessions += f.size >= 16 && get32(f.head, 4) > 0 && get64(f.head, 8) != 0;
    if (asked < s.count) crowd.send(asked++, hello);
  };
  for (int i = 0; i < asked; ++i) crowd.send(i, hello);
  bool ok = crowd.run_until([&] { return crowd.total_frames() == s.count; }, kSetupDeadline);
  int64_t watches = 0;
  crowd.on_frame = [&](const Crowd::Frame& f) {
    watches += get32(f.head, 0) != -1 && get32(f.head, 12) == kOk;
  };
  for (int i = 0; ok && i < s.count; ++i) crowd.send(i, watch_request(s.first + i, kHot));
  ok = ok && crowd.run_until([&] { return crowd.total_frames() == 2 * s.count; }, kSetupDeadline);
  const std::string counts = std::to_string(sessions) + " " + std::to_string(watches) + " " +
                             std::to_string(crowd.closed());
  if (!ok) {
    say(report,
        "fail " + me + "sessions, watches, closed: " + counts + " of " + std::to_string(s.count));
    _exit(1);
  }
  say(report, "ready " + me + counts + " " +
                  std::to_string(static_cast<int64_t>(seconds_between(t0, Clock::now()) * 1000)));

  int64_t events = 0, wrong = 0, last_ns = 0;
  crowd.on_frame = [&](const Crowd::Frame& f) {
    bool event =
        get32(f.head, 0) == -1 && get32(f.head, 16) == kNodeDeleted && f.head.substr(28) == kHot;
    event ? ++events : ++wrong;
    last_ns = steady_ns(Clock::now());
  };
  crowd.run_until([&] { return events + wrong >= s.count; }, kFireDeadline);
  say(report, "fired " + me + std::to_string(events) + " " + std::to_string(wrong) + " " +
                  std::to_string(crowd.closed()) + " " + std::to_string(last_ns));
  for (;;) pause();
}

// The forked client processes and the one pipe they all report on. Killed when it goes.
class WatcherProcesses {
 public:
  WatcherProcesses() = default;
  ~WatcherProcesses() {
    for (pid_t pid : pids_) {
      if (pid <= 0) continue;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (read_fd_ >= 0) ::close(read_fd_);
  }
  WatcherProcesses(const WatcherProcesses&) = delete;
  WatcherProcesses& operator=(const WatcherProcesses&) = delete;

  /// Forks one process per share; false if a pipe or fork failed.
  bool start(const std::vector<Share>& shares) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    read_fd_ = fds[0];
    for (size_t i = 0; i < shares.size(); ++i) {
      pid_t pid = fork();
      if (pid < 0) return false;
      if (pid == 0) {
        ::close(fds[0]);
        watch_and_wait(shares[i], static_cast<int>(i), fds[1]);
      }
      pids_.push_back(pid);
    }
    ::close(fds[1]);
    return true;
  }

  /// Reads report lines until every process has sent one starting with `word`; its numbers
  /// go to rows[process]. False (see why()) on a "fail" line, an exited process or `deadline`.
  bool collect(const std::string& word, std::vector<std::vector<int64_t>>& rows,
               milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    rows.assign(pids_.size(), {});
    size_t got = 0;
    while (got < pids_.size()) {
      pollfd p{read_fd_, POLLIN, 0};
      if (poll(&p, 1, 200) == 1 && (p.revents & POLLIN)) {
        char buf[4096];
        ssize_t n = ::read(read_fd_, buf, sizeof buf);
        if (n > 0) in_.append(buf, static_cast<size_t>(n));
        if (n > 0) continue;  // read everything before looking for exited processes
      }
      for (std::string line; next_line(line);) {
        std::istringstream in(line);
        std::string w;
        size_t index = 0;
        in >> w >> index;
        if (w == "fail" || index >= rows.size()) return failed(line);
        if (w != word) continue;
        for (int64_t v; in >> v;) rows[index].push_back(v);
        ++got;
      }
      if (got == pids_.size()) break;
      if (Clock::now() > until)
        return failed(std::to_string(got) + " of " + std::to_string(pids_.size()) + " said " +
                      word);
      if (std::string dead = exited(); !dead.empty()) return failed(dead);
    }
    return true;
  }

  /// What made collect() fail.
  const std::string& why() const { return why_; }

 private:
  bool next_line(std::string& line) {
    size_t nl = in_.find('\n');
    if (nl == std::string::npos) return false;
    line = in_.substr(0, nl);
    in_.erase(0, nl + 1);
    return true;
  }
  // "client process P: exit 1" for the first of ours that has ended, or "".
  std::string exited() {
    for (pid_t& pid : pids_) {
      int status = 0;
      if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid) continue;
      std::string what = "client process " + std::to_string(pid) + ": " + status_text(status);
      pid = -1;
      return what;
    }
    return "";
  }
  bool failed(const std::string& why) {
    why_ = why;
    return false;
  }

  std::vector<pid_t> pids_;
  int read_fd_ = -1;
  std::string in_;
  std::string why_;
};

// The number after `key` in a four-letter word's answer, or -1.
int64_t number_after(const std::string& text, const std::string& key) {
  size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + key.size());
}

// wchs on member i: {connections watching, total watches}; {-1, -1} without an answer.
std::pair<int64_t, int64_t> wchs(const Ensemble& e, int i) {
  auto out = four_letter_word(e.client_port(i), "wchs", milliseconds(30000));
  if (!out) return {-1, -1};
  return {std::atoll(out->c_str()), number_after(*out, "Total watches:")};
}

// Polls until `path` exists on member i (it was created through another member).
bool wait_exists(const Ensemble& e, int i, const std::string& path, Clock::time_point until) {
  RawClient c(e.client_port(i));
  if (!c.handshake()) return false;
  while (Clock::now() < until) {
    auto v = c.exists(path);
    if (v && v->err == kOk) return true;
    usleep(20000);
  }
  return false;
}

// A fresh client of member i: new session and one read; the milliseconds it took, or -1.
double fresh_client_ms(const Ensemble& e, int i) {
  const auto t0 = Clock::now();
  RawClient c(e.client_port(i), milliseconds(30000));
  if (!c.handshake()) return -1;
  auto v = c.exists("/");
  if (!v || v->err != kOk) return -1;
  return seconds_between(t0, Clock::now()) * 1000;
}

// What a server may hold, in KiB: a base, 24 KiB for each of its own connections (about 10
// measured: read buffer, session, watch) and 1 KiB for every session of the ensemble (each
// server tracks them all).
int64_t rss_bound_kib(int64_t own, int64_t all) { return 32 * 1024 + own * 24 + all; }

std::vector<int64_t> rss_kib(const Ensemble& e, const char* field) {
  std::vector<int64_t> out;
  for (int i = 0; i < e.size(); ++i) out.push_back(proc_kib(e.pid(i), field));
  return out;
}

std::string mib_list(const std::vector<int64_t>& kib) {
  std::string s;
  for (int64_t k : kib) s += (s.empty() ? "" : " ") + std::to_string(k / 1024);
  return s;
}

TEST(Scale, HundredThousandWatchersAcrossAnEnsemble) {
  const int n = watchers();
  ASSERT_GT(n, 0);
  // The servers inherit this process's limit.
  ASSERT_TRUE(raise_open_files(kPerServerMax + 512)) << "RLIMIT_NOFILE below " << kPerServerMax;
  Ensemble::Options options;
  options.size = kServers;
  options.observers = kObservers;
  options.tick_ms = 2000;
  // 20 s before a silent leader or learner is given up: this machine's 2 cores are shared.
  options.sync_limit = 10;
  options.extra_cfg = "forceSync=no\nmaxSessionTimeout=" + std::to_string(kSessionTimeoutMs) + "\n";
  options.name = "corral-watchers";
  Ensemble ensemble(options);
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  ASSERT_TRUE(ensemble.start_all()) << ensemble.describe();
  const auto shares = plan(n, ensemble);
  std::vector<int64_t> per_server(kServers, 0), weight_per_server(kServers, 0);
  for (const auto& s : shares) {
    per_server[static_cast<size_t>(s.server)] += s.count;
    for (int i = s.first; i < s.first + s.count; ++i)
      weight_per_server[static_cast<size_t>(s.server)] += wchs_weight(i);
  }
  for (int64_t c : per_server)
    ASSERT_LE(c, kPerServerMax) << n << " watchers need more than " << kServers << " servers";

  RawClient admin(ensemble.client_port(0), milliseconds(30000));
  ASSERT_TRUE(admin.send(frame(connect_request(kSessionTimeoutMs))) && admin.read_frame());
  ASSERT_EQ(admin.create(kHot, "x"), kOk);
  for (int i = 0; i < kServers; ++i)
    ASSERT_TRUE(wait_exists(ensemble, i, kHot, Clock::now() + std::chrono::seconds(30)));
  const auto idle_kib = rss_kib(ensemble, "VmRSS");

  // The sessions and their watches.
  auto t0 = Clock::now();
  WatcherProcesses procs;
  ASSERT_TRUE(procs.start(shares));
  std::vector<std::vector<int64_t>> rows;
  ASSERT_TRUE(procs.collect("ready", rows, kSetupDeadline)) << procs.why();
  const double setup_s = seconds_between(t0, Clock::now());
  int64_t sessions = 0, answered = 0, closed = 0;
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 4u);
    sessions += r[0];
    answered += r[1];
    closed += r[2];
  }
  ASSERT_EQ(sessions, n);
  ASSERT_EQ(answered, n);
  ASSERT_EQ(closed, 0);
  int64_t watchers_counted = 0, watches = 0;
  std::string wchs_text;
  for (int i = 0; i < kServers; ++i) {
    auto [conns, total] = wchs(ensemble, i);
    EXPECT_EQ(conns, per_server[static_cast<size_t>(i)]) << "member " << i;
    EXPECT_EQ(total, weight_per_server[static_cast<size_t>(i)]) << "member " << i;
    watchers_counted += conns;
    watches += total;
    wchs_text +=
        (wchs_text.empty() ? "" : " ") + std::to_string(conns) + "/" + std::to_string(total);
  }
  ASSERT_EQ(watchers_counted, n) << "wchs connections/watches per server: " << wchs_text;
  const auto watching_kib = rss_kib(ensemble, "VmRSS");

  // One delete fires them all.
  t0 = Clock::now();
  ASSERT_EQ(admin.remove(kHot), kOk);
  const double delete_ms = seconds_between(t0, Clock::now()) * 1000;
  ASSERT_TRUE(procs.collect("fired", rows, kFireDeadline)) << procs.why();
  int64_t events = 0, wrong = 0, last_ns = steady_ns(t0);
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 4u);
    events += r[0];
    wrong += r[1];
    closed += r[2];
    last_ns = std::max(last_ns, r[3]);
  }
  const double fire_s = static_cast<double>(last_ns - steady_ns(t0)) / 1e9;
  EXPECT_EQ(events, n);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(closed, 0);

  const auto after_kib = rss_kib(ensemble, "VmRSS");
  const auto peak_kib = rss_kib(ensemble, "VmHWM");
  double fresh_max_ms = 0;
  for (int i = 0; i < kServers; ++i) {
    double ms = fresh_client_ms(ensemble, i);
    EXPECT_GE(ms, 0) << "member " << i << " did not answer a fresh client";
    fresh_max_ms = std::max(fresh_max_ms, ms);
  }
  std::string per_server_text;
  for (int64_t c : per_server)
    per_server_text += (per_server_text.empty() ? "" : " ") + std::to_string(c);
  std::cout << n << " watchers of " << kHot << " (" << shares.size() << " client processes) on "
            << kServers << " servers (" << kObservers << " observers); sessions per server "
            << per_server_text << "; set up in " << setup_s
            << " s; wchs connections/watches per server " << wchs_text << " = " << watchers_counted
            << "/" << watches << "; delete answered in " << delete_ms << " ms; all " << events
            << " events in " << fire_s << " s; fresh client answered in at most " << fresh_max_ms
            << " ms\nRSS MiB per server: idle " << mib_list(idle_kib) << "; watching "
            << mib_list(watching_kib) << "; after " << mib_list(after_kib) << "; peak "
            << mib_list(peak_kib) << "\n";
  for (int i = 0; i < kServers; ++i)
    EXPECT_LT(peak_kib[static_cast<size_t>(i)],
              rss_bound_kib(per_server[static_cast<size_t>(i)], n))
        << "member " << i;
  EXPECT_LT(fresh_max_ms, 2000);
}

}  // namespace
}  // namespace corral::e2e
