#include "apps/master-worker/dashboard/cluster.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace corral::mw {
namespace {

using Clock = std::chrono::steady_clock;

/// The value after "key" in the lines of `text` ("Mode: leader", "zk_avg_latency\t0.5").
std::optional<std::string> field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::string value = line.substr(key.size());
    size_t start = value.find_first_not_of(" \t:");
    return start == std::string::npos ? "" : value.substr(start);
  }
  return std::nullopt;
}

/// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

/// A non-blocking socket connected to host:port before `deadline`, or -1.
int connect_to(const std::string& host_port, Clock::time_point deadline) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    int err = 0;
    socklen_t len = sizeof err;
    bool ok = rc == 0 || (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) &&
                          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0);
    if (!ok) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

std::string four_letter_word(const std::string& host_port, const std::string& word,
                             std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int fd = connect_to(host_port, deadline);
  if (fd < 0) return "";
  std::string out;
  bool ok = ::send(fd, word.data(), word.size(), MSG_NOSIGNAL) == ssize_t(word.size());
  while (ok && wait_fd(fd, POLLIN, deadline)) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) ok = false;
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) ok = false;
  }
  ::close(fd);
  // An answer cut by the deadline is incomplete: treat it as none.
  return ok && Clock::now() < deadline ? out : "";
}

bool parse_four_letter_words(const std::string& srvr, const std::string& mntr, ServerView& out) {
  out.role = "down";
  out.zxid.clear();
  out.connections = 0;
  out.latency_avg_ms.reset();
  auto mode = field(srvr, "Mode");
  if (!mode || mode->empty()) return false;
  out.role = *mode;
  out.zxid = field(srvr, "Zxid").value_or("");
  try {
    out.connections = std::stoll(field(srvr, "Connections").value_or("0"));
    // "Latency min/avg/max: 0/0.25/3"
    std::string latency = field(srvr, "Latency min/avg/max").value_or("");
    size_t a = latency.find('/'), b = latency.rfind('/');
    if (a != std::string::npos && b > a)
      out.latency_avg_ms = std::stod(latency.substr(a + 1, b - a - 1));
    // mntr, when allowed, is more precise.
    if (auto avg = field(mntr, "zk_avg_latency")) out.latency_avg_ms = std::stod(*avg);
    if (auto n = field(mntr, "zk_num_alive_connections")) out.connections = std::stoll(*n);
  } catch (const std::exception&) {
    // A field that is not a number: keep what parsed.
  }
  return true;
}

std::vector<std::string> split_hosts(const std::string& connect_string) {
  std::string hosts = connect_string.substr(0, connect_string.find('/'));
  std::vector<std::string> out;
  std::istringstream in(hosts);
  std::string host;
  while (std::getline(in, host, ','))
    if (!host.empty()) out.push_back(host.find(':') == std::string::npos ? host + ":2181" : host);
  return out;
}

ClusterView::ClusterView(const std::string& connect_string, std::chrono::milliseconds interval)
    : interval_(interval) {
  for (auto& host : split_hosts(connect_string))
    servers_.push_back(ServerView{
        .server = host, .role = "down", .zxid = "", .connections = 0, .latency_avg_ms = {}});
}

ClusterView::~ClusterView() { stop(); }

void ClusterView::start() {
  for (size_t i = 0; i < servers_.size(); ++i) threads_.emplace_back([this, i] { poll_loop(i); });
}

void ClusterView::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ClusterView::poll_loop(size_t i) {
  const std::string host = servers_[i].server;
  const auto timeout = std::chrono::milliseconds(1000);
  for (;;) {
    ServerView seen{
        .server = host, .role = "down", .zxid = "", .connections = 0, .latency_avg_ms = {}};
    std::string srvr = four_letter_word(host, "srvr", timeout);
    std::string mntr = srvr.empty() ? "" : four_letter_word(host, "mntr", timeout);
    parse_four_letter_words(srvr, mntr, seen);
    std::unique_lock lock(mu_);
    servers_[i] = seen;
    if (stop_cv_.wait_for(lock, interval_, [this] { return stopped_; })) return;
  }
}

std::vector<ServerView> ClusterView::servers() const {
  std::lock_guard lock(mu_);
  return servers_;
}

nlohmann::json ClusterView::json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : servers()) {
    out.push_back({{"server", s.server},
                   {"role", s.role},
                   {"zxid", s.zxid.empty() ? nlohmann::json() : nlohmann::json(s.zxid)},
                   {"connections", s.connections},
                   {"latency_avg_ms",
                    s.latency_avg_ms ? nlohmann::json(*s.latency_avg_ms) : nlohmann::json()}});
  }
  return out;
}

}  // namespace corral::mw
