#include "tests/ops/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace corral::ops_test {
namespace {

using Clock = std::chrono::steady_clock;

// Reads until the peer closes or the deadline passes; false on timeout or error.
bool read_all(int fd, std::string& out, Clock::time_point deadline) {
  char buf[16384];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string dechunk(const std::string& body) {
  std::string out;
  for (size_t at = 0;;) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) return out;
    size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (size == 0) return out;
    out += body.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
}

std::optional<HttpAnswer> parse(const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  HttpAnswer a;
  a.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
  std::string head = lower(raw.substr(0, end));
  a.body = raw.substr(end + 4);
  if (size_t ct = head.find("\r\ncontent-type:"); ct != std::string::npos) {
    size_t from = ct + 15, to = std::min(head.find("\r\n", from), end);
    a.content_type = raw.substr(from, to - from);
    a.content_type.erase(0, a.content_type.find_first_not_of(' '));
  }
  if (head.find("transfer-encoding: chunked") != std::string::npos) a.body = dechunk(a.body);
  return a;
}

}  // namespace

std::optional<HttpAnswer> http_get(uint16_t port, const std::string& path,
                                   std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (ok) {
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ok = write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()) &&
         read_all(fd, raw, until);
  }
  close(fd);
  if (!ok) return std::nullopt;
  return parse(raw);
}

std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

}  // namespace corral::ops_test
