#include "tests/e2e/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "tests/e2e/jute_bytes.h"

namespace corral::e2e {

using Clock = std::chrono::steady_clock;

std::ostream& operator<<(std::ostream& os, const NodeView& v) {
  os << "err=" << v.err << " data=" << v.data.size() << " bytes";
  if (v.stat.size() == kStatBytes)
    os << " czxid=0x" << std::hex << get64(v.stat, 0) << " mzxid=0x" << get64(v.stat, 8)
       << " pzxid=0x" << get64(v.stat, 60) << std::dec << " version=" << get32(v.stat, 32)
       << " cversion=" << get32(v.stat, 36) << " children=" << get32(v.stat, 56);
  return os;
}

RawClient::RawClient(uint16_t port, std::chrono::milliseconds deadline) : deadline_(deadline) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

std::optional<std::string> RawClient::read_frame() {
  const auto deadline = Clock::now() + deadline_;
  for (;;) {
    if (in_.size() >= 4) {
      int32_t len = get32(in_, 0);
      if (len < 0) return std::nullopt;
      if (in_.size() - 4 >= static_cast<size_t>(len)) {
        std::string payload = in_.substr(4, static_cast<size_t>(len));
        in_.erase(0, 4 + static_cast<size_t>(len));
        return payload;
      }
    }
    if (read_more(deadline) != Read::kData) return std::nullopt;
  }
}

bool RawClient::handshake(int32_t timeout_ms) {
  if (!connected() || !send(frame(connect_request(timeout_ms)))) return false;
  auto rsp = read_frame();
  // protocolVersion, timeOut, sessionId, passwd...
  if (!rsp || rsp->size() < 16) return false;
  return get64(*rsp, 8) != 0 && get32(*rsp, 4) > 0;
}

std::optional<Reply> RawClient::call(int32_t op, std::string_view body) {
  const int32_t xid = next_xid_++;
  if (!send(frame(request(xid, op, body)))) return std::nullopt;
  for (;;) {
    auto payload = read_frame();
    if (!payload || payload->size() < 16) return std::nullopt;
    Reply r{get32(*payload, 0), get64(*payload, 4), get32(*payload, 12), payload->substr(16)};
    if (r.xid == -1) continue;  // a watch notification
    if (r.xid != xid) return std::nullopt;
    return r;
  }
}

std::optional<int32_t> RawClient::create(std::string_view path, std::string_view data,
                                         int32_t flags, std::string* created) {
  auto r = call(kOpCreate, create_body(path, data, flags));
  if (!r) return std::nullopt;
  if (created && r->err == kOk && r->body.size() >= 4)
    *created = r->body.substr(4, static_cast<size_t>(get32(r->body, 0)));
  return r->err;
}

std::optional<int32_t> RawClient::set_data(std::string_view path, std::string_view data) {
  std::string body;
  put_buffer(body, path);
  put_buffer(body, data);
  put32(body, -1);
  auto r = call(kOpSetData, body);
  return r ? std::optional(r->err) : std::nullopt;
}

std::optional<int32_t> RawClient::remove(std::string_view path) {
  std::string body;
  put_buffer(body, path);
  put32(body, -1);
  auto r = call(kOpDelete, body);
  return r ? std::optional(r->err) : std::nullopt;
}

std::optional<NodeView> RawClient::get_data(std::string_view path) {
  auto r = call(kOpGetData, path_watch_body(path));
  if (!r) return std::nullopt;
  NodeView v{r->err, "", ""};
  if (r->err != kOk) return v;
  if (r->body.size() < 4) return std::nullopt;
  int32_t len = get32(r->body, 0);
  size_t data_len = len < 0 ? 0 : static_cast<size_t>(len);
  if (r->body.size() != 4 + data_len + kStatBytes) return std::nullopt;
  v.data = r->body.substr(4, data_len);
  v.stat = r->body.substr(4 + data_len);
  return v;
}

std::optional<NodeView> RawClient::exists(std::string_view path) {
  auto r = call(kOpExists, path_watch_body(path));
  if (!r) return std::nullopt;
  NodeView v{r->err, "", ""};
  if (r->err == kOk) {
    if (r->body.size() != kStatBytes) return std::nullopt;
    v.stat = r->body;
  }
  return v;
}

bool RawClient::wait_closed(std::string* received) {
  const auto deadline = Clock::now() + deadline_;
  for (;;) {
    Read r = read_more(deadline);
    if (r == Read::kClosed) break;
    if (r == Read::kTimeout) return false;
  }
  if (received) *received += in_;
  in_.clear();
  return true;
}

RawClient::Read RawClient::read_more(Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Read::kTimeout;
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) return Read::kClosed;
    if (rc <= 0) continue;
    char buf[64 * 1024];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      return Read::kData;
    }
    if (n == 0 || errno == ECONNRESET) return Read::kClosed;
    if (errno != EINTR && errno != EAGAIN) return Read::kClosed;
  }
}

std::optional<std::string> four_letter_word(uint16_t port, std::string_view word,
                                            std::chrono::milliseconds deadline) {
  RawClient c(port, deadline);
  std::string out;
  if (!c.send(word) || !c.wait_closed(&out)) return std::nullopt;
  return out;
}

}  // namespace corral::e2e
