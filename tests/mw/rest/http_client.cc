#include "tests/mw/rest/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace corral::mw::test {
namespace {

using Clock = std::chrono::steady_clock;

int connect_local(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

/// Reads what is there within `deadline` into `out`; false at EOF, error or deadline.
bool read_some(int fd, std::string& out, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return false;
  out.append(buf, static_cast<size_t>(n));
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string dechunk(const std::string& in) {
  std::string out;
  size_t at = 0;
  while (at < in.size()) {
    size_t eol = in.find("\r\n", at);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(in.substr(at, eol - at), nullptr, 16);
    if (size == 0) break;
    out += in.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

HttpResponse parse_response(const std::string& raw) {
  HttpResponse r;
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.rfind("HTTP/1.", 0) != 0) return r;
  r.status = std::atoi(raw.c_str() + 9);
  size_t at = raw.find("\r\n") + 2;
  while (at < head_end) {
    size_t eol = raw.find("\r\n", at);
    std::string line = raw.substr(at, eol - at);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[lower(line.substr(0, colon))] = value;
    }
    at = eol + 2;
  }
  r.body = raw.substr(head_end + 4);
  if (lower(r.headers["transfer-encoding"]) == "chunked") r.body = dechunk(r.body);
  return r;
}

}  // namespace

HttpResponse http(uint16_t port, const std::string& method, const std::string& target,
                  const std::string& body, bool chunked, std::chrono::milliseconds timeout) {
  int fd = connect_local(port);
  if (fd < 0) return {};
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Connection: close\r\nContent-Type: application/json\r\n";
  if (chunked) {
    request += "Transfer-Encoding: chunked\r\n\r\n";
    for (size_t at = 0; at < body.size(); at += 16384) {
      std::string part = body.substr(at, 16384);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      request += size + part + "\r\n";
    }
    request += "0\r\n\r\n";
  } else {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  // The server may answer (413) and close before reading the whole body: keep what it said.
  send_all(fd, request);
  std::string raw;
  auto deadline = Clock::now() + timeout;
  while (read_some(fd, raw, deadline)) {
  }
  ::close(fd);
  return parse_response(raw);
}

EventStream::EventStream(uint16_t port, const std::string& target) {
  fd_ = connect_local(port);
  if (fd_ < 0) return;
  if (!send_all(fd_, "GET " + target +
                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")) {
    ::close(fd_);
    fd_ = -1;
  }
}

EventStream::~EventStream() {
  if (fd_ >= 0) ::close(fd_);
}

bool EventStream::wait_for(const std::string& needle, std::chrono::milliseconds timeout,
                           size_t from) {
  auto deadline = Clock::now() + timeout;
  while (text_.find(needle, from) == std::string::npos) {
    if (fd_ < 0 || !read_some(fd_, text_, deadline))
      return text_.find(needle, from) != std::string::npos;
  }
  return true;
}

}  // namespace corral::mw::test
