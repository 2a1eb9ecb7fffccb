// Overload against a real corral-server. Clients that do not read their replies: each floods
// getData of a 512 KiB node and never reads. The server must stop taking their requests once
// their queued output reaches half of corral.connectionOutputLimitBytes, close them once their
// replies have not moved for maxSessionTimeout (and log it), keep its memory bounded (VmHWM
// in /proc), and keep answering another client as fast as before. Requests pipelined behind a
// handshake or a write obey the same limits when they are let through. A crowd that reads: 1,000
// clients each pipeline getData of a 1 MiB node; corral.outputBudgetBytes must bound the
// server's memory while every read is answered and a small client is still served.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/crowd.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace corral::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBigNode = 512 * 1024;
// Connections flooding at once, and getData frames per send.
constexpr int kFlooders = 1;
constexpr int kBatch = 500;
// How far above its idle RSS the server may go: the flooder's queued output (8 MiB at the
// default limit) plus allocator slack. Without the limit it grows by 512 KiB per request read.
constexpr int64_t kRssHeadroomKib = 48 * 1024;

// One connection that handshakes, sends kBatch getData of `path` and never reads: true once
// the server has closed it (seen with poll, without reading), false if it stays open 8 s (a
// stalled connection is closed after maxSessionTimeout, counted from when the kernel stopped
// taking its replies).
bool flood_once(uint16_t port, const std::string& path, std::atomic<int64_t>& requests) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string bytes = frame(connect_request());
  for (int i = 0; i < kBatch; ++i)
    bytes += frame(request(i + 1, kOpGetData, path_watch_body(path)));
  bool sent = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
              ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  if (sent) requests += kBatch;
  pollfd p{fd, POLLRDHUP, 0};
  bool closed = sent && poll(&p, 1, 8000) == 1 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP));
  ::close(fd);
  return closed;
}

// Round trips of getData on `path`, in milliseconds, sorted: `n` of them, or as many as
// `budget` allows (at least 200).
std::vector<double> round_trips(RawClient& c, const std::string& path, int n,
                                Clock::duration budget = std::chrono::seconds(2)) {
  std::vector<double> ms;
  const auto until = Clock::now() + budget;
  for (int i = 0; i < n && (i < 200 || Clock::now() < until); ++i) {
    auto t0 = Clock::now();
    auto got = c.get_data(path);
    if (!got || got->err != kOk) return {};
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

double p99(const std::vector<double>& sorted) { return sorted[sorted.size() * 99 / 100]; }

TEST(Overload, ClientsThatDoNotReadAreClosedOthersUnaffected) {
  ServerProcess server("corral-overload", {});
  // Stalled connections are closed after maxSessionTimeout (2 s; the sweep runs each second),
  // within flood_once's 8 s.
  ASSERT_TRUE(
      server.start("maxClientCnxns=0\nforceSync=no\ntickTime=500\n"
                   "minSessionTimeout=1000\nmaxSessionTimeout=2000\n"))
      << server.log();
  RawClient c(server.port());
  ASSERT_TRUE(c.handshake());
  ASSERT_EQ(c.create("/big", std::string(kBigNode, 'b')), kOk);
  ASSERT_EQ(c.create("/small", "s"), kOk);

  std::vector<double> before = round_trips(c, "/small", 2000);
  ASSERT_FALSE(before.empty());
  int64_t idle_kib = proc_kib(server.pid(), "VmRSS");

  std::atomic<bool> stop{false};
  std::atomic<int64_t> requests{0};
  std::atomic<int> closed{0};
  std::atomic<int> kept_open{0};
  std::vector<std::thread> flooders;
  for (int i = 0; i < kFlooders; ++i)
    flooders.emplace_back([&] {
      while (!stop) (flood_once(server.port(), "/big", requests) ? closed : kept_open)++;
    });
  // Measure while the flooders have been at it for a moment.
  auto t0 = Clock::now();
  // The other client's reads meanwhile keep its 2 s session alive.
  while (closed < kFlooders && Clock::now() - t0 < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(c.get_data("/small")) << "the other client got no answer while waiting";
  }
  std::vector<double> during = round_trips(c, "/small", 2000);
  stop = true;
  for (auto& t : flooders) t.join();

  int64_t peak_kib = proc_kib(server.pid(), "VmHWM");
  ASSERT_FALSE(during.empty()) << "the other client got no answer";
  std::cout << "p99 before " << p99(before) << " ms, during " << p99(during)
            << " ms; flood connections closed " << closed << ", getData sent " << requests
            << "; RSS idle " << idle_kib / 1024 << " MiB, peak " << peak_kib / 1024 << " MiB\n";
  EXPECT_GE(closed, kFlooders) << "the server never closed a client that does not read";
  EXPECT_EQ(kept_open, 0) << "a client that does not read stayed connected" << server.log();
  EXPECT_NE(server.log().find("has not read its replies"), std::string::npos) << server.log();
  EXPECT_LT(peak_kib, idle_kib + kRssHeadroomKib);
  // Flat enough: each flooding connection costs the core its handshake and the 4 MiB of
  // replies built before its requests stop being taken (a few ms on this shared 2-core
  // machine); a server that kept building replies for it would stall the other client for
  // seconds.
  EXPECT_LT(p99(during), 100.0);

  RawClient fresh(server.port());
  auto f0 = Clock::now();
  ASSERT_TRUE(fresh.handshake());
  ASSERT_TRUE(fresh.get_data("/small"));
  EXPECT_LT(Clock::now() - f0, std::chrono::seconds(1));
  EXPECT_TRUE(server.terminate());
}

// A client with a small receive buffer (so the kernel cannot take replies off the server's
// hands) that handshakes, then pipelines `reads` getData of `path` and never reads; its fd,
// or -1.
int pin_replies(uint16_t port, const std::string& path, int reads) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string hello = frame(connect_request());
  std::string bytes;
  for (int i = 0; i < reads; ++i) bytes += frame(request(i + 1, kOpGetData, path_watch_body(path)));
  char answer[64];
  // The handshake's answer is read first, so that the reads reach a session already open.
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
            ::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) == ssize_t(hello.size()) &&
            recv(fd, answer, sizeof answer, 0) > 0 &&
            ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  if (!ok) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The most the kernel lets a TCP socket's send buffer grow to (tcp_wmem's maximum).
size_t kernel_send_buffer_max() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  size_t min = 0, initial = 0, max = 4 << 20;
  in >> min >> initial >> max;
  return max;
}

// Clients that pipeline big reads and never read pin the output budget. A client held back
// by the budget meanwhile keeps its session (the server does not read its pings while it
// waits, so it counts it as heard), and the non-readers are closed once their replies have
// not moved for maxSessionTimeout; then the held client is answered, its session intact.
TEST(Overload, ClientHeldByTheBudgetKeepsItsSessionWhileNonReadersAreClosed) {
  ServerProcess server("corral-stall", {});
  // The held client's session lasts 2 s; non-readers are closed after maxSessionTimeout, 5 s.
  // One reply is larger than the kernel's largest send buffer, so it is never all written
  // and the bytes the budget counts never drain below it while the non-readers stay.
  const size_t node = kernel_send_buffer_max() + (2 << 20);
  ASSERT_TRUE(
      server.start("forceSync=no\ntickTime=500\nminSessionTimeout=1000\n"
                   "maxSessionTimeout=5000\ncorral.outputBudgetBytes=1048576\n"
                   "jute.maxbuffer=" +
                   std::to_string(node + (1 << 20)) + "\n" +
                   "corral.connectionOutputLimitBytes=" + std::to_string(4 * node) + "\n"))
      << server.log();
  RawClient setup(server.port());
  ASSERT_TRUE(setup.handshake());
  ASSERT_EQ(setup.create("/big", std::string(node, 'b')), kOk);
  ASSERT_EQ(setup.create("/small", "s"), kOk);
  setup.call(kOpCloseSession);

  RawClient held(server.port(), std::chrono::seconds(20));
  ASSERT_TRUE(held.handshake(2000));
  // One non-reader fills the budget (the server logs its first refusal)...
  std::vector<int> pinning{pin_replies(server.port(), "/big", 40)};
  ASSERT_GE(pinning[0], 0);
  for (auto until = Clock::now() + std::chrono::seconds(10);
       server.log().find("output budget:") == std::string::npos;) {
    ASSERT_LT(Clock::now(), until) << "the budget never filled; log:\n" << server.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // ...and a second, with nothing queued, takes the one overdraft the budget allows past it:
  // the server has begun to answer it once bytes reach its socket.
  pinning.push_back(pin_replies(server.port(), "/big", 40));
  ASSERT_GE(pinning[1], 0);
  for (auto until = Clock::now() + std::chrono::seconds(10);;) {
    int pending = 0;
    ioctl(pinning[1], FIONREAD, &pending);
    if (pending > 0) break;
    ASSERT_LT(Clock::now(), until) << "the second non-reader got nothing; log:\n" << server.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto t0 = Clock::now();
  auto got = held.get_data("/small");
  double waited_s = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(got) << "no answer; server log:\n" << server.log();
  EXPECT_EQ(got->err, kOk);
  // Held past its 2 s session timeout, unheard: the session must still be there.
  auto again = held.get_data("/small");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->err, kOk) << "the held client's session expired";
  std::cout << "held client answered after " << waited_s << " s\n";
  EXPECT_GT(waited_s, 4.0) << "not held past its session timeout: the test proves nothing";
  EXPECT_NE(server.log().find("has not read its replies"), std::string::npos) << server.log();
  for (int fd : pinning) ::close(fd);
  EXPECT_TRUE(server.terminate());
}

// One client sends 24 getData of a 1 MiB node in one write and reads the replies: 24 MiB, three
// times corral.connectionOutputLimitBytes. The server takes the requests as the replies drain
// (the limits are checked before each request, not only before each read), so the client is
// answered in full instead of being closed as one that does not read.
TEST(Overload, PipelinedReadsPastTheOutputLimitAreAnswered) {
  constexpr int kPipelined = 24;
  ServerProcess server("corral-pipeline", {});
  ASSERT_TRUE(server.start("forceSync=no\n")) << server.log();
  RawClient c(server.port());
  ASSERT_TRUE(c.handshake());
  ASSERT_EQ(c.create("/big", std::string(0xfffff - 1024, 'p')), kOk);
  std::string reads;
  for (int32_t xid = 100; xid < 100 + kPipelined; ++xid)
    reads += frame(request(xid, kOpGetData, path_watch_body("/big")));
  ASSERT_TRUE(c.send(reads));
  for (int32_t xid = 100; xid < 100 + kPipelined; ++xid) {
    auto reply = c.read_frame();
    ASSERT_TRUE(reply) << "no reply " << xid - 100 << " of " << kPipelined;
    EXPECT_EQ(get32(*reply, 0), xid);
    EXPECT_EQ(get32(*reply, 12), kOk);
    EXPECT_EQ(reply->size(), 16 + 4 + 0xfffff - 1024 + kStatBytes);
  }
  EXPECT_EQ(server.log().find("it does not read"), std::string::npos) << server.log();
  EXPECT_TRUE(server.terminate());
}

// The same 24 reads, sent in one write behind a handshake or behind a setData: the server holds
// them until the session or the write is done, then lets them through as the replies drain,
// not in one burst (which passed the 8 MiB limit and closed the client as one that does not
// read).
TEST(Overload, ReadsPipelinedBehindAHandshakeOrAWriteAreAnswered) {
  constexpr int kPipelined = 24;
  constexpr size_t kNode = 0xfffff - 1024;
  ServerProcess server("corral-held", {});
  ASSERT_TRUE(server.start("forceSync=no\n")) << server.log();
  RawClient setup(server.port());
  ASSERT_TRUE(setup.handshake());
  ASSERT_EQ(setup.create("/big", std::string(kNode, 'h')), kOk);
  ASSERT_EQ(setup.create("/small", "s"), kOk);
  std::string reads;
  for (int32_t xid = 100; xid < 100 + kPipelined; ++xid)
    reads += frame(request(xid, kOpGetData, path_watch_body("/big")));
  auto expect_reads = [&](RawClient& c, const std::string& what) {
    for (int32_t xid = 100; xid < 100 + kPipelined; ++xid) {
      auto reply = c.read_frame();
      ASSERT_TRUE(reply) << what << ": no reply " << xid - 100 << " of " << kPipelined;
      EXPECT_EQ(get32(*reply, 0), xid) << what;
      EXPECT_EQ(get32(*reply, 12), kOk) << what;
      EXPECT_EQ(reply->size(), 16 + 4 + kNode + kStatBytes) << what;
    }
  };

  RawClient behind_handshake(server.port());
  ASSERT_TRUE(behind_handshake.send(frame(connect_request()) + reads));
  ASSERT_TRUE(behind_handshake.read_frame()) << "no handshake answer";
  expect_reads(behind_handshake, "behind the handshake");

  RawClient behind_write(server.port());
  ASSERT_TRUE(behind_write.handshake());
  std::string set_body;
  put_buffer(set_body, "/small");
  put_buffer(set_body, "t");
  put32(set_body, -1);  // any version
  ASSERT_TRUE(behind_write.send(frame(request(99, kOpSetData, set_body)) + reads));
  auto set = behind_write.read_frame();
  ASSERT_TRUE(set) << "no setData answer";
  EXPECT_EQ(get32(*set, 0), 99);
  EXPECT_EQ(get32(*set, 12), kOk);
  expect_reads(behind_write, "behind the write");
  EXPECT_EQ(server.log().find("it does not read"), std::string::npos) << server.log();
  EXPECT_TRUE(server.terminate());
}

// Reads between two writes, sent in one go: W1 (setData /small "one"), six 1 MiB reads, a read
// of /small, W2 (setData /small "two"). The reads wait for W1 and W2 is proposed meanwhile;
// once W1 is done they are answered before W2 even though their 6 MiB pass the half of the
// output limit where reads wait for room: replies in the order sent, and the read of /small
// sees "one". Held for room, they were answered after W2 (out of order, the read seeing "two").
TEST(Overload, ReadsBetweenTwoWritesAreAnsweredBeforeTheSecond) {
  constexpr int kReads = 6;
  constexpr size_t kNode = 0xfffff - 1024;
  ServerProcess server("corral-between", {});
  ASSERT_TRUE(server.start("forceSync=no\n")) << server.log();
  RawClient c(server.port());
  ASSERT_TRUE(c.handshake());
  ASSERT_EQ(c.create("/big", std::string(kNode, 'b')), kOk);
  ASSERT_EQ(c.create("/small", "zero"), kOk);
  auto set_small = [](int32_t xid, const std::string& data) {
    std::string body;
    put_buffer(body, "/small");
    put_buffer(body, data);
    put32(body, -1);  // any version
    return frame(request(xid, kOpSetData, body));
  };
  std::string bytes = set_small(1, "one");
  for (int32_t xid = 2; xid < 2 + kReads; ++xid)
    bytes += frame(request(xid, kOpGetData, path_watch_body("/big")));
  bytes += frame(request(2 + kReads, kOpGetData, path_watch_body("/small")));
  bytes += set_small(3 + kReads, "two");
  ASSERT_TRUE(c.send(bytes));
  for (int32_t xid = 1; xid <= 3 + kReads; ++xid) {
    auto reply = c.read_frame();
    ASSERT_TRUE(reply) << "no reply for xid " << xid << "; log:\n" << server.log();
    ASSERT_EQ(get32(*reply, 0), xid) << "replies out of order";
    EXPECT_EQ(get32(*reply, 12), kOk) << xid;
    if (xid == 2 + kReads) {
      EXPECT_EQ(reply->substr(20, 3), "one") << "the read saw a later write";
    }
  }
  EXPECT_TRUE(server.terminate());
}

// The crowd: kReaders connections, each sending kReadsEach getData of a node of kCrowdNode
// bytes at once (one frame short of jute.maxbuffer, as the Scale test's). Without the budget
// the server would hold up to kReaders x 4 MiB (each connection stops at half its 8 MiB
// output limit); with it, the budget plus kBudgetMarginKib: the reply that crosses the budget
// and the one an idle connection may take past it, each 1 MiB reply's string capacity (up to
// twice its size), 1,000 input buffers and the allocator's slack.
constexpr int kReaders = 1000;
constexpr int kReadsEach = 4;
constexpr size_t kCrowdNode = 0xfffff - 1024;
constexpr int64_t kCrowdBudget = int64_t{64} << 20;
constexpr int64_t kBudgetMarginKib = 48 * 1024;

// OVERLOAD_OUTPUT_BUDGET=<bytes> runs the crowd test with another budget (by hand: a huge one
// shows the memory without it).
int64_t crowd_budget() {
  const char* env = std::getenv("OVERLOAD_OUTPUT_BUDGET");
  return env && *env ? std::atoll(env) : kCrowdBudget;
}

TEST(Overload, CrowdReadingABigNodeStaysWithinTheOutputBudget) {
  ASSERT_TRUE(raise_open_files(kReaders + 1024)) << "RLIMIT_NOFILE cannot be raised";
  const int64_t budget = crowd_budget();
  ServerProcess server("corral-budget", {});
  ASSERT_TRUE(server.start(
      "maxClientCnxns=0\nforceSync=no\ncorral.outputBudgetBytes=" + std::to_string(budget) + "\n"))
      << server.log();
  RawClient admin(server.port());
  ASSERT_TRUE(admin.handshake());
  ASSERT_EQ(admin.create("/big", std::string(kCrowdNode, 'B')), kOk);
  ASSERT_EQ(admin.create("/small", "s"), kOk);
  Crowd crowd(server.port());
  ASSERT_TRUE(crowd.open(kReaders, std::chrono::seconds(30))) << crowd.closed() << " closed";
  for (int i = 0; i < kReaders; ++i) crowd.send(i, frame(connect_request()));
  ASSERT_TRUE(
      crowd.run_until([&] { return crowd.total_frames() == kReaders; }, std::chrono::seconds(30)))
      << crowd.total_frames() << " of " << kReaders << " sessions";
  const int64_t idle_kib = proc_kib(server.pid(), "VmRSS");
  const int64_t peak_before_kib = proc_kib(server.pid(), "VmHWM");

  // Each reply, as it comes: the next xid of its connection, the whole node, its bytes.
  std::vector<int32_t> next_xid(kReaders, 1);
  int64_t good = 0, bad = 0;
  crowd.on_frame = [&](const Crowd::Frame& f) {
    bool ok = f.size == 16 + 4 + kCrowdNode + kStatBytes && get32(f.head, 0) == next_xid[f.conn] &&
              get32(f.head, 12) == kOk && get32(f.head, 16) == static_cast<int32_t>(kCrowdNode) &&
              f.head.find_first_not_of('B', 20) == std::string_view::npos;
    ++next_xid[f.conn];
    ok ? ++good : ++bad;
  };
  // A small client meanwhile: getData of a 1-byte node, one at a time.
  std::atomic<bool> stop{false};
  std::atomic<bool> small_failed{false};
  std::vector<double> small_ms;
  std::thread small([&] {
    RawClient c(server.port(), std::chrono::seconds(30));
    if (!c.handshake()) return void(small_failed = true);
    while (!stop) {
      auto t0 = Clock::now();
      auto got = c.get_data("/small");
      if (!got || got->err != kOk) return void(small_failed = true);
      small_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
  });
  std::string reads;
  for (int32_t xid = 1; xid <= kReadsEach; ++xid)
    reads += frame(request(xid, kOpGetData, path_watch_body("/big")));
  auto t0 = Clock::now();
  for (int i = 0; i < kReaders; ++i) crowd.send(i, reads);
  bool answered = crowd.run_until([&] { return good + bad == int64_t{kReaders} * kReadsEach; },
                                  std::chrono::seconds(60));
  double crowd_s = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  small.join();
  const int64_t peak_kib = proc_kib(server.pid(), "VmHWM");
  const int64_t bound_kib = idle_kib + budget / 1024 + kBudgetMarginKib;

  ASSERT_TRUE(answered) << good << " good and " << bad << " bad replies of "
                        << kReaders * kReadsEach << "; " << crowd.closed() << " closed";
  ASSERT_FALSE(small_failed) << "the small client got no answer";
  ASSERT_FALSE(small_ms.empty());
  std::sort(small_ms.begin(), small_ms.end());
  std::cout << kReaders << " clients x " << kReadsEach << " getData of " << kCrowdNode
            << " bytes answered in " << crowd_s << " s with corral.outputBudgetBytes=" << budget
            << "; server RSS idle " << idle_kib / 1024 << " MiB, peak before "
            << peak_before_kib / 1024 << " MiB, peak during " << peak_kib / 1024 << " MiB (bound "
            << bound_kib / 1024 << " MiB); small client " << small_ms.size() << " getData, p50 "
            << small_ms[small_ms.size() / 2] << " ms, p90 " << small_ms[small_ms.size() * 9 / 10]
            << " ms, max " << small_ms.back() << " ms\n";
  EXPECT_EQ(bad, 0) << "replies out of order, incomplete or with the wrong bytes";
  EXPECT_EQ(crowd.closed(), 0);
  EXPECT_LT(peak_kib, bound_kib);
  // Served least, the small client goes before the crowd's next replies: tens of ms (its first
  // request waits its turn among the crowd's first ones). Woken in arrival order it waited a
  // whole round of 1,000 replies each time (about 1 s alone); without the budget, seconds. The
  // bound is a quarter of a round as this run measured it: alone, p90 was 67-97 ms of 1.0-1.2 s
  // rounds; in CI, beside another heavy test on two cores, 352 ms of a 1.9 s round.
  const double round_ms = crowd_s * 1000.0 / kReadsEach;
  EXPECT_LT(small_ms[small_ms.size() * 9 / 10], round_ms / 4)
      << "a round of the crowd took " << round_ms << " ms";
  EXPECT_LT(small_ms.back(), 3000.0);
  EXPECT_NE(server.log().find("output budget: "), std::string::npos) << server.log();
  EXPECT_TRUE(server.terminate());
}

}  // namespace
}  // namespace corral::e2e
