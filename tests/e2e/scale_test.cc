// Scale against a real corral-server: N sessions (10,000 in CI; OVERLOAD_CONNECTIONS sets N,
// below this one process's 20,000 descriptors; 100,000 by hand is hundred_k_watchers_test),
// one watcher per connection on ONE node (exists, getData and
// getChildren watches, persistent and persistent-recursive addWatch, in turn) all fired by
// one delete; a multi of 10,000 creates; a 1 MiB node (jute.maxbuffer less 1 KiB) read by
// 1,000 clients at once. Every client must get its answer and event, the server's RSS must
// stay below a stated bound, and a fresh client must be answered quickly afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tests/e2e/crowd.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace corral::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kMultiOps = 10000;
constexpr int32_t kSessionTimeoutMs = 200000;
constexpr int kBigReaders = 1000;
constexpr size_t kBigNode = 0xfffff - 1024;
// What the server may hold, in KiB: per connection its 64 KiB read buffer and session state,
// plus the 1 MiB replies to kBigReaders readers that read them at once.
int64_t rss_bound_kib(int connections) {
  return 128 * 1024 + static_cast<int64_t>(connections) * 80 + kBigReaders * 1024;
}

int connections() {
  const char* env = std::getenv("OVERLOAD_CONNECTIONS");
  return env && *env ? std::atoi(env) : 10000;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The i-th connection's watch on `path`: five kinds in turn.
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

// A multi of `n` creates of /m/<i>.
std::string multi_creates(int n) {
  std::string body;
  for (int i = 0; i < n; ++i) {
    put32(body, kOpCreate);
    body += '\0';
    put32(body, -1);
    body += create_body("/m/" + std::to_string(i), "");
  }
  put32(body, -1);
  body += '\1';
  put32(body, -1);
  return body;
}

// The number of results in a multi reply whose ops all succeeded; -1 if one failed.
int multi_results_ok(const std::string& reply) {
  size_t at = 0;
  int results = 0;
  for (;;) {
    int32_t type = get32(reply, at);
    bool done = reply[at + 4] != 0;
    int32_t err = get32(reply, at + 5);
    at += 9;
    if (done) return results;
    if (type != kOpCreate || err != kOk) return -1;
    at += 4 + static_cast<size_t>(get32(reply, at));
    ++results;
  }
}

TEST(Scale, SessionsWatchersMultiAndBigReads) {
  const int n = connections();
  // The test holds n client sockets, the server (which inherits the limit) n connections.
  ASSERT_TRUE(raise_open_files(static_cast<uint64_t>(n) + 1024))
      << "RLIMIT_NOFILE cannot be raised to " << n + 1024 << " (needs CAP_SYS_RESOURCE)";
  // Sessions must outlive the whole run (tens of seconds at full size), idle or not: a long
  // tick allows a long session timeout.
  ServerProcess::Options options;
  options.tick_ms = 10000;
  ServerProcess server("corral-scale", options);
  ASSERT_TRUE(server.start("maxClientCnxns=0\nforceSync=no\n")) << server.log();
  RawClient admin(server.port(), milliseconds(30000));
  ASSERT_TRUE(admin.send(frame(connect_request(kSessionTimeoutMs))) && admin.read_frame());
  ASSERT_EQ(admin.create("/w", ""), kOk);
  ASSERT_EQ(admin.create("/m", ""), kOk);
  ASSERT_EQ(admin.create("/big", std::string(kBigNode, 'B')), kOk);

  // n sessions.
  Crowd crowd(server.port());
  auto t0 = Clock::now();
  ASSERT_TRUE(crowd.open(n, milliseconds(60000))) << crowd.closed() << " closed";
  for (int i = 0; i < n; ++i) crowd.send(i, frame(connect_request(kSessionTimeoutMs)));
  ASSERT_TRUE(crowd.run_until([&] { return crowd.total_frames() == n; }, milliseconds(60000)))
      << crowd.total_frames() << " of " << n << " sessions; " << crowd.closed() << " closed";
  double sessions_s = seconds_since(t0);
  int64_t sessions_kib = proc_kib(server.pid(), "VmRSS");

  // One watcher per connection on /w, then one delete fires them all.
  int64_t answered = 0, events = 0, wrong = 0;
  crowd.on_frame = [&](const Crowd::Frame& f) {
    int32_t xid = get32(f.head, 0);
    if (xid != -1) {
      answered += get32(f.head, 12) == kOk;
      return;
    }
    bool ok = get32(f.head, 16) == kNodeDeleted && f.head.substr(28) == "/w";
    ok ? ++events : ++wrong;
  };
  for (int i = 0; i < n; ++i) crowd.send(i, watch_request(i, "/w"));
  ASSERT_TRUE(crowd.run_until([&] { return answered == n; }, milliseconds(60000)))
      << answered << " of " << n << " watches set";
  t0 = Clock::now();
  ASSERT_EQ(admin.remove("/w"), kOk);
  ASSERT_TRUE(crowd.run_until([&] { return events + wrong == n; }, milliseconds(60000)))
      << events << " of " << n << " watchers notified";
  double fire_s = seconds_since(t0);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(crowd.closed(), 0);

  // A multi of 10,000 creates (about 600 KB, inside jute.maxbuffer): ZooKeeper 3.8 commits it.
  t0 = Clock::now();
  auto multi = admin.call(kOpMulti, multi_creates(kMultiOps));
  double multi_s = seconds_since(t0);
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->err, kOk);
  EXPECT_EQ(multi_results_ok(multi->body), kMultiOps);
  EXPECT_EQ(admin.exists("/m/9999")->err, kOk);

  // 1,000 clients read the big node at once.
  int64_t big_replies = 0;
  crowd.on_frame = [&](const Crowd::Frame& f) {
    big_replies += get32(f.head, 12) == kOk && f.size == 16 + 4 + kBigNode + kStatBytes;
  };
  int readers = std::min(kBigReaders, n);
  t0 = Clock::now();
  for (int i = 0; i < readers; ++i)
    crowd.send(i, frame(request(2, kOpGetData, path_watch_body("/big"))));
  ASSERT_TRUE(crowd.run_until([&] { return big_replies == readers; }, milliseconds(60000)))
      << big_replies << " of " << readers << " big reads answered";
  double big_s = seconds_since(t0);

  int64_t rss_kib = proc_kib(server.pid(), "VmRSS");
  int64_t peak_kib = proc_kib(server.pid(), "VmHWM");
  RawClient fresh(server.port());
  t0 = Clock::now();
  ASSERT_TRUE(fresh.handshake());
  ASSERT_EQ(fresh.get_data("/m/0")->err, kOk);
  double fresh_ms = seconds_since(t0) * 1000;
  std::cout << n << " sessions in " << sessions_s << " s; " << n << " watchers of /w fired in "
            << fire_s << " s; multi of " << kMultiOps << " creates in " << multi_s << " s; "
            << readers << " reads of " << kBigNode << " bytes in " << big_s
            << " s; fresh client answered in " << fresh_ms << " ms; server RSS with the sessions "
            << sessions_kib / 1024 << " MiB, at the end " << rss_kib / 1024 << " MiB, peak "
            << peak_kib / 1024 << " MiB (bound " << rss_bound_kib(n) / 1024 << " MiB)\n";
  EXPECT_LT(peak_kib, rss_bound_kib(n));
  EXPECT_LT(fresh_ms, 2000);
  EXPECT_TRUE(server.terminate());
}

}  // namespace
}  // namespace corral::e2e
