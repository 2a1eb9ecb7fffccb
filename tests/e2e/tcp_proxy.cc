#include "tests/e2e/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace corral::e2e {
namespace {

// How often a poll with nothing to do looks at the hold flags and the stop flag again.
constexpr int kPollMs = 5;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// Writes all of buf (blocking); false when the other side is gone.
bool write_all(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, buf, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Moves what `from` has to `to`, then, at `rate` bytes a second (0: no limit), waits as long
// as those bytes would take on such a link; false when either side is closed.
bool pump(int from, int to, size_t rate) {
  char buf[65536];
  ssize_t n = ::recv(from, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (n == 0 || !write_all(to, buf, static_cast<size_t>(n))) return false;
  if (rate > 0)
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(n) * 1'000'000 /
                                                          static_cast<int64_t>(rate)));
  return true;
}

// One relayed connection: the accepted socket and the one to the target.
struct Pair {
  int client;
  int target;
};

}  // namespace

TcpProxy::TcpProxy(uint16_t listen_port, uint16_t target_port) : target_port_(target_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(listen_port);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(fd, 16) != 0) {
    if (fd >= 0) ::close(fd);
    return;
  }
  listener_ = fd;
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) ::close(listener_);
}

void TcpProxy::run() {
  std::vector<Pair> pairs;
  while (!stop_) {
    // Held directions are not polled: their bytes stay queued in the kernel.
    const bool fwd = !hold_forward_, back = !hold_back_;
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    for (const Pair& p : pairs) {
      fds.push_back({p.client, static_cast<short>(fwd ? POLLIN : 0), 0});
      fds.push_back({p.target, static_cast<short>(back ? POLLIN : 0), 0});
    }
    if (poll(fds.data(), fds.size(), kPollMs) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      int target = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = loopback(target_port_);
      if (client >= 0 && target >= 0 &&
          connect(target, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        pairs.push_back({client, target});
      } else {
        // The target is down: the connecting side sees its connection close, as it would.
        if (client >= 0) ::close(client);
        if (target >= 0) ::close(target);
      }
    }
    std::vector<Pair> alive;
    bool moved = fds[0].revents != 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      const Pair& p = pairs[i];
      // A held side that hung up is left alone too: what it sent before stays queued.
      short c = fwd ? fds[1 + 2 * i].revents : 0, t = back ? fds[2 + 2 * i].revents : 0;
      moved = moved || c || t;
      bool ok = !((c | t) & (POLLERR | POLLNVAL));
      const size_t rate = rate_;
      if (ok && (c & (POLLIN | POLLHUP))) ok = pump(p.client, p.target, rate);
      if (ok && (t & (POLLIN | POLLHUP))) ok = pump(p.target, p.client, rate);
      if (ok) {
        alive.push_back(p);
      } else {
        ::close(p.client);
        ::close(p.target);
      }
    }
    pairs.swap(alive);
    // Only a held side woke the poll (it hung up): do not spin on it.
    if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
  for (const Pair& p : pairs) {
    ::close(p.client);
    ::close(p.target);
  }
}

}  // namespace corral::e2e
