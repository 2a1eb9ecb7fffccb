// End to end: a real corral-server process fed bad input on its client port.
// After each bad input, that connection must be closed by the server, the
// server must stay up, a fresh well-behaved client must still work, and the
// tree must be unchanged by the bad request.
//
// The requests are encoded here by hand rather than with wire/, so a codec bug
// in the server cannot hide itself in the test.
//
// Apache ZooKeeper 3.8.0 (probed with the same bytes) behaves the same for bad frame
// lengths, bad handshakes, truncated frames, maxClientCnxns and the four-letter words.
// It differs in two places, on purpose in Corral:
// - a request body that does not decode (bad string/buffer length, vector count):
//   ZooKeeper answers ZMARSHALLINGERROR (-5) and keeps the connection; Corral closes it
//   (the rest of the stream cannot be trusted once one record is malformed);
// - an unknown opcode: both answer ZUNIMPLEMENTED (-6), then ZooKeeper closes the
//   connection while Corral keeps it usable.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// How long the server gets to answer, close a connection, or start.
constexpr auto kDeadline = 5s;
constexpr auto kStartDeadline = 15s;
/// jute.maxbuffer's default.
constexpr int32_t kDefaultMaxBuffer = 0xfffff;

// OpCodes and error codes, as in ZooKeeper 3.8.
constexpr int32_t kOpCreate = 1;
constexpr int32_t kOpExists = 3;
constexpr int32_t kOpGetData = 4;
constexpr int32_t kOpSetData = 5;
constexpr int32_t kOpCloseSession = -11;
constexpr int32_t kOk = 0;
constexpr int32_t kUnimplemented = -6;
constexpr int32_t kNoNode = -101;

// ---- Encoding (big-endian jute) ----

/// Appends a big-endian int.
void put32(std::string& out, int32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint32_t>(v) >> s) & 0xff);
}

/// Appends a big-endian long.
void put64(std::string& out, int64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint64_t>(v) >> s) & 0xff);
}

/// Appends a length-prefixed buffer or string.
void put_buffer(std::string& out, std::string_view v) {
  put32(out, static_cast<int32_t>(v.size()));
  out += v;
}

/// The big-endian int at byte `at`.
int32_t get32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(in[at + i]);
  return static_cast<int32_t>(v);
}

/// The big-endian long at byte `at`.
int64_t get64(std::string_view in, size_t at) {
  return static_cast<int64_t>(static_cast<uint64_t>(static_cast<uint32_t>(get32(in, at))) << 32 |
                              static_cast<uint32_t>(get32(in, at + 4)));
}

/// `payload` with its 4-byte length prefix.
std::string frame(std::string_view payload) {
  std::string out;
  put_buffer(out, payload);
  return out;
}

/// A ConnectRequest for a new session. The timeout outlives any test, so no session expires
/// (and takes a zxid) while a test compares the tree before and after.
std::string connect_request(int32_t timeout_ms = 30000) {
  std::string out;
  put32(out, 0);           // protocolVersion
  put64(out, 0);           // lastZxidSeen
  put32(out, timeout_ms);  // timeOut
  put64(out, 0);           // sessionId
  put_buffer(out, std::string(16, '\0'));
  out += '\0';  // readOnly
  return out;
}

/// RequestHeader + body.
std::string request(int32_t xid, int32_t op, std::string_view body = {}) {
  std::string out;
  put32(out, xid);
  put32(out, op);
  out += body;
  return out;
}

/// The world:anyone ALL ACL list.
std::string open_acl() {
  std::string out;
  put32(out, 1);
  put32(out, 31);
  put_buffer(out, "world");
  put_buffer(out, "anyone");
  return out;
}

/// A CreateRequest body for a persistent node.
std::string create_body(std::string_view path, std::string_view data) {
  std::string out;
  put_buffer(out, path);
  put_buffer(out, data);
  out += open_acl();
  put32(out, 0);
  return out;
}

/// A path + watch flag body (exists, getData).
std::string path_watch_body(std::string_view path) {
  std::string out;
  put_buffer(out, path);
  out += '\0';
  return out;
}

// ---- A client over a plain socket ----

/// A server reply.
struct Reply {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  std::string body;
};

/// One TCP connection to the server; every call is synchronous, bounded by kDeadline.
class RawClient {
 public:
  /// Connects to 127.0.0.1:`port`; check connected().
  explicit RawClient(uint16_t port) {
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
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// True when the TCP connection was established.
  bool connected() const { return fd_ >= 0; }

  /// Writes all of `bytes`; false if the connection is gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// Tells the server we will send nothing more (it sees end of input).
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  /// The next frame's payload, or nullopt when the connection closed or nothing came in time.
  std::optional<std::string> read_frame() {
    const auto deadline = Clock::now() + kDeadline;
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

  /// Sends a ConnectRequest; true when the server answers with a new session.
  bool handshake() {
    if (!connected() || !send(frame(connect_request()))) return false;
    auto rsp = read_frame();
    // protocolVersion, timeOut, sessionId, passwd...
    if (!rsp || rsp->size() < 16) return false;
    session_id_ = get64(*rsp, 8);
    return session_id_ != 0 && get32(*rsp, 4) > 0;
  }

  /// Sends a request with the next xid and reads its reply (skipping notifications).
  std::optional<Reply> call(int32_t op, std::string_view body = {}) {
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

  /// create of a persistent node; the error code, or nullopt without an answer.
  std::optional<int32_t> create(std::string_view path, std::string_view data) {
    auto r = call(kOpCreate, create_body(path, data));
    return r ? std::optional(r->err) : std::nullopt;
  }

  /// getData: the error code and the data (empty unless ZOK).
  std::optional<std::pair<int32_t, std::string>> get_data(std::string_view path) {
    auto r = call(kOpGetData, path_watch_body(path));
    if (!r) return std::nullopt;
    if (r->err != kOk) return std::pair(r->err, std::string());
    if (r->body.size() < 4) return std::nullopt;
    int32_t len = get32(r->body, 0);
    if (len < 0 || r->body.size() < 4 + static_cast<size_t>(len)) return std::nullopt;
    return std::pair(r->err, r->body.substr(4, static_cast<size_t>(len)));
  }

  /// exists: the error code.
  std::optional<int32_t> exists(std::string_view path) {
    auto r = call(kOpExists, path_watch_body(path));
    return r ? std::optional(r->err) : std::nullopt;
  }

  /// True when the server closes the connection (read returns 0 or ECONNRESET) before
  /// the deadline. Bytes that arrive first are appended to `received`.
  bool wait_closed(std::string* received = nullptr) {
    const auto deadline = Clock::now() + kDeadline;
    for (;;) {
      Read r = read_more(deadline);
      if (r == Read::kClosed) break;
      if (r == Read::kTimeout) return false;
    }
    if (received) *received += in_;
    in_.clear();
    return true;
  }

 private:
  enum class Read { kData, kClosed, kTimeout };

  Read read_more(Clock::time_point deadline) {
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

  int fd_ = -1;
  std::string in_;
  int32_t next_xid_ = 1;
  int64_t session_id_ = 0;
};

// ---- The server process ----

/// A port nobody listens on right now (the kernel's pick for a bound port 0).
uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

/// The whole file, or empty if it cannot be read.
std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A corral-server process with its own data directory and port.
class ServerProcess {
 public:
  ~ServerProcess() { stop(); }

  /// Writes zoo.cfg (plus `extra` lines) and starts the server; true once it logged
  /// "serving on". Retries with another port if the chosen one was taken meanwhile.
  bool start(const std::string& extra) {
    char tmpl[] = "/tmp/corral-e2e.XXXXXX";
    if (!mkdtemp(tmpl)) return false;
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "data");
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::ofstream(dir_ / "zoo.cfg") << "tickTime=2000\n"
                                      << "dataDir=" << (dir_ / "data").string() << "\n"
                                      << "clientPort=" << port_ << "\n"
                                      << "clientPortAddress=127.0.0.1\n"
                                      << extra;
      if (launch() && wait_serving()) return true;
      stop_process();
    }
    return false;
  }

  /// Sends SIGTERM and waits; true if the server exited cleanly with status 0. SIGKILL if
  /// it does not stop in time. Removes the directory.
  bool stop() {
    bool clean = stop_process();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
    return clean;
  }

  /// True while the process has not exited.
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = -1;
    exit_status_ = status;
    return false;
  }

  uint16_t port() const { return port_; }
  /// What the server logged so far.
  std::string log() const { return dir_.empty() ? "" : read_file(dir_ / "server.log"); }

 private:
  bool launch() {
    const std::string cfg = (dir_ / "zoo.cfg").string();
    const std::string log_path = (dir_ / "server.log").string();
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      // The server must not outlive the test, even if the test crashes.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* log = std::fopen(log_path.c_str(), "w");
      if (log) {
        dup2(fileno(log), STDOUT_FILENO);
        dup2(fileno(log), STDERR_FILENO);
      }
      execl(CORRAL_SERVER_BIN, CORRAL_SERVER_BIN, cfg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    return true;
  }

  bool wait_serving() {
    const auto deadline = Clock::now() + kStartDeadline;
    while (Clock::now() < deadline) {
      if (log().find("serving on") != std::string::npos) return true;
      if (!running()) return false;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  bool stop_process() {
    if (pid_ <= 0) return false;
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kDeadline;
    while (Clock::now() < deadline && running()) std::this_thread::sleep_for(10ms);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
      return false;
    }
    return WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
  }

  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

// ---- Fixtures ----

/// A server with ZooKeeper's defaults (4lw whitelist: srvr only; jute.maxbuffer 0xfffff).
class BadInputTest : public ::testing::Test {
 protected:
  /// zoo.cfg lines added by a fixture.
  virtual std::string extra_config() const { return ""; }

  void SetUp() override {
    ASSERT_TRUE(server_.start(extra_config())) << server_.log();
    started_ = true;
  }

  void TearDown() override {
    if (!started_) return;
    EXPECT_TRUE(server_.running()) << "the server died; its log:\n" << server_.log();
    EXPECT_TRUE(server_.stop()) << "the server did not exit cleanly on SIGTERM";
  }

  uint16_t port() const { return server_.port(); }

  /// A client with a session.
  std::unique_ptr<RawClient> session() {
    auto c = std::make_unique<RawClient>(port());
    EXPECT_TRUE(c->handshake()) << "handshake failed";
    return c;
  }

  /// The answer to a four-letter word (the server closes the connection after it).
  std::string four_letter_word(std::string_view word) {
    RawClient c(port());
    std::string out;
    if (!c.send(word) || !c.wait_closed(&out)) return "<no answer>";
    return out;
  }

  /// The server's zxid and node count (from srvr): unchanged when no txn happened.
  std::string tree_state() {
    std::string srvr = four_letter_word("srvr");
    std::string out;
    std::istringstream lines(srvr);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("Zxid:", 0) == 0 || line.rfind("Node count:", 0) == 0) out += line + "\n";
    EXPECT_FALSE(out.empty()) << "srvr answered: " << srvr;
    return out;
  }

  /// A fresh client still works: handshake, create, getData, and `absent` (if given) does
  /// not exist. Retries the connection until the deadline (a closed connection may still
  /// count against maxClientCnxns for a moment).
  ::testing::AssertionResult healthy(std::string_view absent = {}) {
    const auto deadline = Clock::now() + kDeadline;
    std::unique_ptr<RawClient> c;
    for (;;) {
      c = std::make_unique<RawClient>(port());
      if (c->handshake()) break;
      if (Clock::now() > deadline)
        return ::testing::AssertionFailure() << "no handshake; server log:\n" << server_.log();
      std::this_thread::sleep_for(20ms);
    }
    const std::string path = "/healthy-" + std::to_string(++healthy_checks_);
    const std::string data = "ok " + path;
    auto created = c->create(path, data);
    if (created != kOk)
      return ::testing::AssertionFailure() << "create " << path << ": " << created.value_or(1);
    auto got = c->get_data(path);
    if (!got || got->first != kOk || got->second != data)
      return ::testing::AssertionFailure() << "getData " << path << " failed";
    if (!absent.empty()) {
      auto rc = c->exists(absent);
      if (rc != kNoNode)
        return ::testing::AssertionFailure()
               << "exists " << absent << ": " << rc.value_or(1) << ", expected ZNONODE";
    }
    c->call(kOpCloseSession);
    return ::testing::AssertionSuccess();
  }

  ServerProcess server_;
  bool started_ = false;
  int healthy_checks_ = 0;
};

/// At most 3 connections per client address.
class MaxClientCnxnsTest : public BadInputTest {
  std::string extra_config() const override { return "maxClientCnxns=3\n"; }
};

/// Every four-letter word enabled.
class AllFourLetterWordsTest : public BadInputTest {
  std::string extra_config() const override { return "4lw.commands.whitelist=*\n"; }
};

/// A small jute.maxbuffer.
class SmallMaxBufferTest : public BadInputTest {
  std::string extra_config() const override { return "jute.maxbuffer=4096\n"; }
};

// ---- Frame lengths ----

TEST_F(BadInputTest, OversizedFrameLengthBeforeHandshakeClosesConnection) {
  RawClient c(port());
  std::string bytes;
  put32(bytes, kDefaultMaxBuffer + 1);
  bytes += connect_request();
  ASSERT_TRUE(c.send(bytes));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, OversizedFrameLengthClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string bytes;
  put32(bytes, kDefaultMaxBuffer + 1);
  bytes += request(1, kOpCreate, create_body("/bad-oversized", "x"));
  ASSERT_TRUE(c->send(bytes));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-oversized"));
}

TEST_F(BadInputTest, NegativeFrameLengthClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string bytes;
  put32(bytes, -1);
  bytes += request(1, kOpCreate, create_body("/bad-negative", "x"));
  ASSERT_TRUE(c->send(bytes));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-negative"));
}

/// A well-formed create of `path` whose frame payload is exactly `size` bytes.
std::string create_of_size(int32_t xid, std::string_view path, size_t size) {
  const size_t overhead = request(xid, kOpCreate, create_body(path, "")).size();
  return request(xid, kOpCreate, create_body(path, std::string(size - overhead, 'd')));
}

TEST_F(SmallMaxBufferTest, FrameOverConfiguredMaxBufferClosesConnection) {
  auto c = session();
  // A frame of exactly jute.maxbuffer bytes is fine...
  std::string fits = create_of_size(1, "/fits", 4096);
  ASSERT_EQ(fits.size(), 4096u);
  ASSERT_TRUE(c->send(frame(fits)));
  auto reply = c->read_frame();
  ASSERT_TRUE(reply && reply->size() >= 16);
  EXPECT_EQ(get32(*reply, 12), kOk);
  // ...a well-formed one a byte longer closes the connection.
  std::string too_big = create_of_size(2, "/bad-too-big", 4097);
  ASSERT_EQ(too_big.size(), 4097u);
  const std::string before = tree_state();
  ASSERT_TRUE(c->send(frame(too_big)));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-too-big"));
}

// ---- Bodies that do not decode ----

TEST_F(BadInputTest, StringLengthBelowMinusOneClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put32(body, -2);  // the path's length
  body += "/bad-strlen";
  ASSERT_TRUE(c->send(frame(request(1, kOpCreate, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-strlen"));
}

TEST_F(BadInputTest, BufferLengthBelowMinusOneLeavesNodeUnchanged) {
  ASSERT_EQ(session()->create("/victim", "original"), kOk);
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put_buffer(body, "/victim");
  put32(body, -7);  // the data's length
  body += "changed";
  put32(body, -1);  // version
  ASSERT_TRUE(c->send(frame(request(1, kOpSetData, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  auto got = session()->get_data("/victim");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->second, "original");
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, StringLengthPastEndOfFrameClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put32(body, 1000);  // the path's length; the frame ends long before
  body += "/bad-past-end";
  ASSERT_TRUE(c->send(frame(request(1, kOpCreate, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-past-end"));
}

TEST_F(BadInputTest, VectorCountThatCannotFitClosesConnection) {
  auto c = session();
  const std::string before = tree_state();
  std::string body;
  put_buffer(body, "/bad-vector");
  put_buffer(body, "data");
  put32(body, 0x7fffffff);  // ACL count
  put32(body, 31);
  put_buffer(body, "world");
  put_buffer(body, "anyone");
  put32(body, 0);  // flags
  ASSERT_TRUE(c->send(frame(request(1, kOpCreate, body))));
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-vector"));
}

TEST_F(BadInputTest, TruncatedFrameThenCloseLeavesTreeUnchanged) {
  auto c = session();
  const std::string before = tree_state();
  std::string whole = frame(request(1, kOpCreate, create_body("/bad-truncated", "x")));
  ASSERT_TRUE(c->send(std::string_view(whole).substr(0, whole.size() - 5)));
  c->shutdown_write();
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-truncated"));
}

// ---- Handshake ----

TEST_F(BadInputTest, GarbageHandshakeClosesConnection) {
  const std::string before = tree_state();
  RawClient c(port());
  ASSERT_TRUE(c.send(frame(std::string(10, '\xab'))));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, HandshakePasswordPastEndOfFrameClosesConnection) {
  const std::string before = tree_state();
  RawClient c(port());
  std::string req = connect_request();
  req.resize(24);       // protocolVersion, lastZxidSeen, timeOut, sessionId
  put32(req, 0x10000);  // passwd length, far past the end
  ASSERT_TRUE(c.send(frame(req)));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, RequestBeforeHandshakeClosesConnection) {
  const std::string before = tree_state();
  // exists("/") is 14 bytes: too short for a ConnectRequest.
  RawClient c(port());
  ASSERT_TRUE(c.send(frame(request(1, kOpExists, path_watch_body("/")))));
  EXPECT_TRUE(c.wait_closed());
  // A create whose bytes happen to decode as a ConnectRequest: lastZxidSeen is the opcode and
  // the path's length (0x10000000c, far in the future), sessionId comes from the 12-byte path
  // and the empty data is the password. The server refuses the session, as ZooKeeper does.
  RawClient d(port());
  ASSERT_TRUE(d.send(frame(request(1, kOpCreate, create_body("/bad-early-1", "")))));
  EXPECT_TRUE(d.wait_closed());
  EXPECT_EQ(tree_state(), before);
  EXPECT_TRUE(healthy("/bad-early-1"));
}

// ---- Requests ----

TEST_F(BadInputTest, UnknownOpcodeAnswersUnimplementedAndConnectionStaysUsable) {
  auto c = session();
  const std::string before = tree_state();
  auto r = c->call(9999, "some body");
  ASSERT_TRUE(r) << "no answer to an unknown opcode";
  EXPECT_EQ(r->err, kUnimplemented);
  EXPECT_EQ(tree_state(), before);
  EXPECT_EQ(c->create("/after-unknown", "still here"), kOk);
  auto got = c->get_data("/after-unknown");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->second, "still here");
  EXPECT_TRUE(healthy());
}

// ---- Connection limits ----

TEST_F(MaxClientCnxnsTest, ConnectionOverLimitIsClosed) {
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(clients.back()->handshake()) << "connection " << i + 1;
  }
  // The fourth connection is accepted by the kernel, then closed unanswered.
  RawClient fourth(port());
  ASSERT_TRUE(fourth.connected());
  fourth.send(frame(connect_request()));  // may already fail: the server may have closed it
  std::string answer;
  EXPECT_TRUE(fourth.wait_closed(&answer));
  EXPECT_EQ(answer, "");
  // The first three still work.
  EXPECT_EQ(clients[0]->create("/from-first", "1"), kOk);
  // Once one goes, a new client gets in.
  clients.pop_back();
  EXPECT_TRUE(healthy());
}

// ---- Four-letter words ----

TEST_F(AllFourLetterWordsTest, RuokAnswersImok) {
  EXPECT_EQ(four_letter_word("ruok"), "imok");
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, SrvrIsAlwaysAllowed) {
  std::string out = four_letter_word("srvr");
  EXPECT_NE(out.find("Zookeeper version:"), std::string::npos) << out;
  EXPECT_NE(out.find("Mode: standalone"), std::string::npos) << out;
  EXPECT_TRUE(healthy());
}

TEST_F(BadInputTest, WordsOutsideWhitelistAreRefused) {
  EXPECT_EQ(four_letter_word("ruok"), "ruok is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(four_letter_word("stat"), "stat is not executed because it is not in the whitelist.\n");
  EXPECT_TRUE(healthy());
}

}  // namespace
