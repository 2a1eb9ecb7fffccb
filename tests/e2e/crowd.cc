#include "tests/e2e/crowd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace corral::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// Connections per source address. connect() looks for a free port by probing the ephemeral
// range in order from a hashed start, so its cost grows with the ports one address already
// uses towards the same server: with 16,667 per address, 100,000 connects spent 45 s in the
// kernel (__inet_check_established); 500 keeps the range nearly empty.
constexpr int kPerSourceAddress = 500;
// Connects in flight at once: the server's accept backlog is no larger.
constexpr int kConnectsInFlight = 256;

uint32_t be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

}  // namespace

bool raise_open_files(uint64_t n) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return false;
  if (lim.rlim_cur >= n) return true;
  lim.rlim_cur = std::max<rlim_t>(lim.rlim_cur, n);
  lim.rlim_max = std::max<rlim_t>(lim.rlim_max, n);
  return setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

int64_t proc_kib(int pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) != 0 || line.size() <= field.size() ||
        line[field.size()] != ':')
      continue;
    std::istringstream rest(line.substr(field.size() + 1));
    int64_t kib = -1;
    rest >> kib;
    return kib;
  }
  return -1;
}

Crowd::Crowd(uint16_t port, uint32_t first_source)
    : port_(port), first_source_(first_source), epoll_(epoll_create1(0)), buf_(256 * 1024) {}

Crowd::~Crowd() {
  for (auto& c : conns_)
    if (c.fd >= 0) ::close(c.fd);
  if (epoll_ >= 0) ::close(epoll_);
}

bool Crowd::start_connect(Conn& c, int index) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c.fd < 0) return false;
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The port is picked at connect(), by the whole address pair: ports of earlier runs' sockets
  // in TIME_WAIT stay usable (bind() alone would skip them, and run out after a few runs).
  setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(first_source_ + static_cast<uint32_t>(index / kPerSourceAddress));
  if (bind(c.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port_);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
    return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = static_cast<uint32_t>(index);
  c.want_write = true;
  ++connecting_;
  return epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) == 0;
}

bool Crowd::open(int n, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  int target = size() + n;
  conns_.reserve(target);
  while (size() < target || connecting_ > 0) {
    while (size() < target && connecting_ < kConnectsInFlight) {
      conns_.emplace_back();
      if (!start_connect(conns_.back(), size() - 1)) return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return false;
    auto some_done = [&] {
      return connecting_ == 0 || (size() < target && connecting_ < kConnectsInFlight / 2);
    };
    if (!run_until(some_done, left)) return false;
  }
  return closed_ == 0;
}

void Crowd::send(int i, std::string_view frame) {
  Conn& c = conns_[i];
  if (c.closed) return;
  c.out.append(frame);
  if (!c.connecting) do_write(i);
}

bool Crowd::run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  std::vector<epoll_event> events(1024);
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return false;
    int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                       static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (n < 0 && errno != EINTR) return false;
    for (int k = 0; k < n; ++k) on_event(static_cast<int>(events[k].data.u32), events[k].events);
  }
  return true;
}

void Crowd::on_event(int i, uint32_t events) {
  Conn& c = conns_[i];
  if (c.closed) return;
  if (c.connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    c.connecting = false;
    --connecting_;
    if (err != 0) return mark_closed(i);
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) do_read(i);
  if (!c.closed && (events & EPOLLOUT)) do_write(i);
  if (!c.closed) update_interest(i);
}

void Crowd::do_write(int i) {
  Conn& c = conns_[i];
  while (c.out_at < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) return mark_closed(i);
    c.out_at += static_cast<size_t>(n);
  }
  if (c.out_at == c.out.size()) {
    c.out.clear();
    c.out_at = 0;
  }
  update_interest(i);
}

void Crowd::update_interest(int i) {
  Conn& c = conns_[i];
  bool want = c.connecting || c.out_at < c.out.size();
  if (want == c.want_write) return;
  c.want_write = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<uint32_t>(i);
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Crowd::do_read(int i) {
  for (;;) {
    ssize_t n = ::recv(conns_[i].fd, buf_.data(), buf_.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return mark_closed(i);
    consume(i, buf_.data(), static_cast<size_t>(n));
    if (static_cast<size_t>(n) < buf_.size()) return;
  }
}

void Crowd::consume(int i, const char* p, size_t n) {
  Conn& c = conns_[i];
  while (n > 0) {
    if (c.len_have < 4) {
      size_t take = std::min(n, 4 - c.len_have);
      std::memcpy(c.len_bytes + c.len_have, p, take);
      c.len_have += take;
      p += take;
      n -= take;
      if (c.len_have < 4) return;
      c.size = c.need = be32(c.len_bytes);
      c.head.clear();
    }
    size_t take = std::min(n, c.need);
    size_t keep = std::min(take, kHeadBytes - std::min(kHeadBytes, c.head.size()));
    c.head.append(p, keep);
    c.need -= take;
    p += take;
    n -= take;
    if (c.need > 0) return;
    c.len_have = 0;
    ++c.frames;
    ++total_frames_;
    if (on_frame) on_frame(Frame{i, c.head, c.size});
  }
}

void Crowd::mark_closed(int i) {
  Conn& c = conns_[i];
  if (c.closed) return;
  if (c.connecting) --connecting_;
  c.connecting = false;
  c.closed = true;
  ++closed_;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
}

}  // namespace corral::e2e
