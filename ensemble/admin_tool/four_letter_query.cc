#include "ensemble/admin_tool/four_letter_query.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::admin {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point end) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// A connected socket, or -1 with `error` set. Non-blocking from here on.
int connect_to(const Endpoint& server, Clock::time_point end, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(server.host.c_str(), server.port.c_str(), &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (poll(&p, 1, remaining_ms(end)) == 1 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
        rc = 0;
      else
        errno = soerr ? soerr : ETIMEDOUT;
    }
    if (rc != 0) {
      error = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

std::optional<Endpoint> parse_endpoint(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return Endpoint{host, text.substr(colon + 1)};
}

std::optional<std::string> four_letter_query(const Endpoint& server, const std::string& word,
                                             std::chrono::milliseconds deadline,
                                             std::string& error) {
  Clock::time_point end = Clock::now() + deadline;
  int fd = connect_to(server, end, error);
  if (fd < 0) return std::nullopt;
  std::string out;
  bool closed =
      send(fd, word.data(), word.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(word.size());
  if (closed) error = "cannot send: " + std::string(std::strerror(errno));
  while (!closed) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, remaining_ms(end)) != 1) {
      error = "no complete answer in time";
      break;
    }
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) {
      error = std::strerror(errno);
      break;
    }
    // The server closes the connection when it has answered.
    close(fd);
    return out;
  }
  close(fd);
  return std::nullopt;
}

}  // namespace corral::admin
