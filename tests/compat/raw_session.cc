#include "raw_session.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace corral::compat {

namespace {

constexpr int kOpExists = 3;
constexpr int kOpRemoveWatches = 18;
constexpr int kOpAddWatch = 106;
constexpr int kOpCloseSession = -11;
constexpr int kNotificationXid = -1;
constexpr int kSessionTimeoutMs = 30000;
constexpr size_t kMaxFrame = 4 * 1024 * 1024;

/// Big-endian jute encoding.
class Writer {
 public:
  Writer& i32(int32_t v) {
    for (int s = 24; s >= 0; s -= 8) out_ += static_cast<char>((v >> s) & 0xff);
    return *this;
  }
  Writer& i64(int64_t v) {
    for (int s = 56; s >= 0; s -= 8) out_ += static_cast<char>((v >> s) & 0xff);
    return *this;
  }
  Writer& boolean(bool v) {
    out_ += static_cast<char>(v ? 1 : 0);
    return *this;
  }
  Writer& str(const std::string& v) {
    i32(static_cast<int32_t>(v.size()));
    out_ += v;
    return *this;
  }
  /// The bytes with a 4-byte length prefix.
  std::string framed() const { return Writer().i32(static_cast<int32_t>(out_.size())).out_ + out_; }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

/// Big-endian jute decoding; reads past the end yield zeros and set failed().
class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  int64_t num(int bytes) {
    if (pos_ + bytes > in_.size()) {
      failed_ = true;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in_[pos_++]);
    return bytes == 4 ? static_cast<int32_t>(v) : static_cast<int64_t>(v);
  }
  int32_t i32() { return static_cast<int32_t>(num(4)); }
  int64_t i64() { return num(8); }
  std::string str() {
    int32_t len = i32();
    if (len < 0 || pos_ + len > in_.size()) return "";
    std::string s = in_.substr(pos_, len);
    pos_ += len;
    return s;
  }
  bool failed() const { return failed_; }

 private:
  const std::string& in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

int connect_to(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

}  // namespace

RawSession::RawSession(const std::string& host_port) {
  fd_ = connect_to(host_port);
  if (fd_ >= 0 && !handshake()) fail();
}

RawSession::~RawSession() {
  if (fd_ >= 0) ::close(fd_);
}

void RawSession::fail() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawSession::handshake() {
  Writer w;
  w.i32(0).i64(0).i32(kSessionTimeoutMs).i64(0).str(std::string(16, '\0')).boolean(false);
  std::string reply;
  if (!send_frame(w.framed()) || !read_frame(reply, std::chrono::seconds(10))) return false;
  Reader r(reply);
  r.i32();  // protocol version
  int32_t timeout = r.i32();
  session_id_ = r.i64();
  return !r.failed() && timeout > 0 && session_id_ != 0;
}

bool RawSession::send_frame(const std::string& frame) {
  size_t sent = 0;
  while (sent < frame.size()) {
    ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RawSession::read_frame(std::string& frame, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto read_exact = [&](char* buf, size_t len) {
    size_t got = 0;
    while (got < len) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      ssize_t n = ::recv(fd_, buf + got, len - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  };
  char len_bytes[4];
  if (!read_exact(len_bytes, 4)) return false;
  uint32_t len = 0;
  for (char c : len_bytes) len = (len << 8) | static_cast<unsigned char>(c);
  if (len > kMaxFrame) {
    fail();
    return false;
  }
  frame.assign(len, '\0');
  if (read_exact(frame.data(), len)) return true;
  fail();  // a partly read frame would leave the stream out of step
  return false;
}

bool RawSession::dispatch(const std::string& frame, int& xid, int& err) {
  Reader r(frame);
  xid = r.i32();
  r.i64();  // zxid
  err = r.i32();
  if (xid != kNotificationXid) return true;
  WatchEvent e;
  e.watcher = "raw";
  e.type = r.i32();
  e.state = r.i32();
  e.path = r.str();
  events_.push_back(e);
  return false;
}

int RawSession::call(int type, const std::string& body) {
  if (fd_ < 0) return ZCONNECTIONLOSS;
  int xid = next_xid_++;
  Writer w;
  w.i32(xid).i32(type);
  if (!send_frame(Writer().i32(static_cast<int32_t>(8 + body.size())).bytes() + w.bytes() + body)) {
    fail();
    return ZCONNECTIONLOSS;
  }
  std::string frame;
  while (read_frame(frame, std::chrono::seconds(10))) {
    int got_xid = 0, err = 0;
    if (dispatch(frame, got_xid, err) && got_xid == xid) return err;
  }
  fail();
  return ZCONNECTIONLOSS;
}

int RawSession::add_watch(const std::string& path, int mode) {
  return call(kOpAddWatch, Writer().str(path).i32(mode).bytes());
}

int RawSession::remove_watches(const std::string& path, int type) {
  return call(kOpRemoveWatches, Writer().str(path).i32(type).bytes());
}

int RawSession::exists(const std::string& path, bool watch) {
  return call(kOpExists, Writer().str(path).boolean(watch).bytes());
}

std::vector<WatchEvent> RawSession::take_events(size_t count, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string frame;
  while (fd_ >= 0 && events_.size() < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_frame(frame, left)) break;
    int xid = 0, err = 0;
    dispatch(frame, xid, err);
  }
  // The server answers in order, so the reply to this comes after every earlier event.
  exists("/", false);
  std::vector<WatchEvent> out(events_.begin(), events_.end());
  events_.clear();
  return out;
}

void RawSession::close() {
  if (fd_ < 0) return;
  call(kOpCloseSession, "");
  fail();
}

}  // namespace corral::compat
