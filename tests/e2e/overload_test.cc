// Clients that do not read their replies, against a real corral-server: each floods getData
// of a 512 KiB node and never reads. The server must close them once their queued output
// passes corral.connectionOutputLimitBytes (and log it), keep its memory bounded (VmHWM in
// /proc), and keep answering another client as fast as before.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
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
// the server has closed it (seen with poll, without reading), false if it stays open 5 s.
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
  bool closed = sent && poll(&p, 1, 5000) == 1 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP));
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
  ASSERT_TRUE(server.start("maxClientCnxns=0\nforceSync=no\n")) << server.log();
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
  while (closed < kFlooders && Clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<double> during = round_trips(c, "/small", 2000);
  stop = true;
  for (auto& t : flooders) t.join();

  int64_t peak_kib = proc_kib(server.pid(), "VmHWM");
  ASSERT_FALSE(during.empty()) << "the other client got no answer";
  std::cout << "p99 before " << p99(before) << " ms, during " << p99(during)
            << " ms; flood connections closed " << closed << ", getData sent " << requests
            << "; RSS idle " << idle_kib / 1024 << " MiB, peak " << peak_kib / 1024 << " MiB\n";
  EXPECT_GE(closed, kFlooders) << "the server never closed a client that does not read";
  EXPECT_EQ(kept_open, 0) << "a client that does not read stayed connected";
  EXPECT_NE(server.log().find("it does not read"), std::string::npos) << server.log();
  EXPECT_LT(peak_kib, idle_kib + kRssHeadroomKib);
  // Flat enough: each flooding connection costs the core its handshake and the 8 MiB of
  // replies built before it is closed (a few ms on this shared 2-core machine); a server that
  // kept building replies for it would stall the other client for seconds.
  EXPECT_LT(p99(during), 100.0);

  RawClient fresh(server.port());
  auto f0 = Clock::now();
  ASSERT_TRUE(fresh.handshake());
  ASSERT_TRUE(fresh.get_data("/small"));
  EXPECT_LT(Clock::now() - f0, std::chrono::seconds(1));
  EXPECT_TRUE(server.terminate());
}

}  // namespace
}  // namespace corral::e2e
