// End to end: a real corral-server process and its SQLite database. A server
// killed with SIGKILL while taking snapshots recovers every acknowledged node
// exactly; a server whose database was damaged (truncated, overwritten, a gap
// in the log, snapshots lost after the log was purged, not a database at all)
// refuses to start, saying what is wrong and in which file, instead of serving
// a tree that lost data.
//
// Requests are encoded by hand, as in bad_input_test.cc, so a codec bug in the
// server cannot hide itself here.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;
constexpr auto kStartDeadline = 20s;

constexpr int32_t kOpCreate = 1;
constexpr int32_t kOpDelete = 2;
constexpr int32_t kOpExists = 3;
constexpr int32_t kOpGetData = 4;
constexpr int32_t kOpSetData = 5;
constexpr int32_t kOk = 0;
constexpr int32_t kNoNode = -101;
constexpr size_t kStatBytes = 68;

// ---- Encoding (big-endian jute) ----

void put32(std::string& out, int32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint32_t>(v) >> s) & 0xff);
}

void put64(std::string& out, int64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((static_cast<uint64_t>(v) >> s) & 0xff);
}

void put_buffer(std::string& out, std::string_view v) {
  put32(out, static_cast<int32_t>(v.size()));
  out += v;
}

int32_t get32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(in[at + i]);
  return static_cast<int32_t>(v);
}

int64_t get64(std::string_view in, size_t at) {
  return static_cast<int64_t>(static_cast<uint64_t>(static_cast<uint32_t>(get32(in, at))) << 32 |
                              static_cast<uint32_t>(get32(in, at + 4)));
}

std::string frame(std::string_view payload) {
  std::string out;
  put_buffer(out, payload);
  return out;
}

std::string path_watch_body(std::string_view path) {
  std::string out;
  put_buffer(out, path);
  out += '\0';
  return out;
}

// ---- A client over a plain socket ----

struct Reply {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  std::string body;
};

/// What a read of one node returned: its error code, data and Stat bytes.
struct NodeView {
  int32_t err = 0;
  std::string data;
  std::string stat;
  bool operator==(const NodeView&) const = default;
};

std::ostream& operator<<(std::ostream& os, const NodeView& v) {
  os << "err=" << v.err << " data=" << v.data.size() << " bytes";
  if (v.stat.size() == kStatBytes)
    os << " czxid=0x" << std::hex << get64(v.stat, 0) << " mzxid=0x" << get64(v.stat, 8)
       << " pzxid=0x" << get64(v.stat, 60) << std::dec << " version=" << get32(v.stat, 32)
       << " cversion=" << get32(v.stat, 36) << " children=" << get32(v.stat, 56);
  return os;
}

/// One TCP connection with a session; calls are synchronous, bounded by kDeadline.
class RawClient {
 public:
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

  /// Connects a new session; true when the server granted one.
  bool handshake() {
    std::string req;
    put32(req, 0);      // protocolVersion
    put64(req, 0);      // lastZxidSeen
    put32(req, 30000);  // timeOut
    put64(req, 0);      // sessionId
    put_buffer(req, std::string(16, '\0'));
    req += '\0';  // readOnly
    if (fd_ < 0 || !send(frame(req))) return false;
    auto rsp = read_frame();
    return rsp && rsp->size() >= 16 && get64(*rsp, 8) != 0;
  }

  std::optional<Reply> call(int32_t op, std::string_view body) {
    const int32_t xid = next_xid_++;
    std::string req;
    put32(req, xid);
    put32(req, op);
    req += body;
    if (!send(frame(req))) return std::nullopt;
    for (;;) {
      auto payload = read_frame();
      if (!payload || payload->size() < 16) return std::nullopt;
      Reply r{get32(*payload, 0), get64(*payload, 4), get32(*payload, 12), payload->substr(16)};
      if (r.xid == -1) continue;  // a watch notification
      if (r.xid != xid) return std::nullopt;
      return r;
    }
  }

  /// create with world:anyone ALL and `flags`: the error code (-999 without an answer) and
  /// the created path.
  std::pair<int32_t, std::string> create(std::string_view path, std::string_view data,
                                         int32_t flags = 0) {
    std::string body;
    put_buffer(body, path);
    put_buffer(body, data);
    put32(body, 1);
    put32(body, 31);
    put_buffer(body, "world");
    put_buffer(body, "anyone");
    put32(body, flags);
    auto r = call(kOpCreate, body);
    if (!r) return {-999, ""};
    if (r->err != kOk || r->body.size() < 4) return {r->err, ""};
    return {r->err, r->body.substr(4, static_cast<size_t>(get32(r->body, 0)))};
  }

  int32_t set_data(std::string_view path, std::string_view data) {
    std::string body;
    put_buffer(body, path);
    put_buffer(body, data);
    put32(body, -1);
    auto r = call(kOpSetData, body);
    return r ? r->err : -999;
  }

  int32_t remove(std::string_view path) {
    std::string body;
    put_buffer(body, path);
    put32(body, -1);
    auto r = call(kOpDelete, body);
    return r ? r->err : -999;
  }

  /// getData: error, data and Stat.
  std::optional<NodeView> get_data(std::string_view path) {
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

  /// exists: error and Stat.
  std::optional<NodeView> exists(std::string_view path) {
    auto r = call(kOpExists, path_watch_body(path));
    if (!r) return std::nullopt;
    NodeView v{r->err, "", ""};
    if (r->err == kOk) {
      if (r->body.size() != kStatBytes) return std::nullopt;
      v.stat = r->body;
    }
    return v;
  }

 private:
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

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
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int rc = poll(&p, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno != EINTR) return std::nullopt;
      if (rc <= 0) continue;
      char buf[64 * 1024];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EINTR && errno != EAGAIN)) return std::nullopt;
    }
  }

  int fd_ = -1;
  std::string in_;
  int32_t next_xid_ = 1;
};

// ---- The server process ----

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

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// corral-server runs over one data directory, which outlives restarts.
class ServerProcess {
 public:
  explicit ServerProcess(fs::path dir) : dir_(std::move(dir)) {}
  ~ServerProcess() { kill_now(); }

  fs::path data_dir() const { return dir_ / "data"; }
  fs::path db_file() const { return data_dir() / "corral.db"; }
  uint16_t port() const { return port_; }
  /// What the server logged (stdout) and said on stderr in its latest run.
  std::string log() const { return read_file(dir_ / "server.log"); }
  std::string err() const { return read_file(dir_ / "server.err"); }

  /// Writes zoo.cfg with `extra` lines and a fresh port, starts the server, and waits
  /// until it serves. False if it exits or does not serve in time.
  bool start(const std::string& extra) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      launch(extra);
      const auto deadline = Clock::now() + kStartDeadline;
      while (Clock::now() < deadline) {
        if (log().find("serving on") != std::string::npos) return true;
        if (!running()) break;
        std::this_thread::sleep_for(10ms);
      }
      if (running()) return false;  // neither serving nor gone
      if (err().find("cannot listen") == std::string::npos) return false;
    }
    return false;
  }

  /// Starts the server expecting it to refuse; its exit status, or nullopt if it is still
  /// running at the deadline (then it is killed).
  std::optional<int> start_expecting_exit(const std::string& extra) {
    launch(extra);
    const auto deadline = Clock::now() + kStartDeadline;
    while (Clock::now() < deadline) {
      if (!running()) return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
      std::this_thread::sleep_for(10ms);
    }
    kill_now();
    return std::nullopt;
  }

  /// SIGTERM; true if it exited with status 0 in time.
  bool terminate() {
    if (pid_ <= 0) return false;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kDeadline;
    while (Clock::now() < deadline && running()) std::this_thread::sleep_for(10ms);
    if (running()) {
      kill_now();
      return false;
    }
    return WIFEXITED(status_) && WEXITSTATUS(status_) == 0;
  }

  /// SIGKILL: no chance to flush or close anything.
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }

  bool running() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, &status_, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }

 private:
  void launch(const std::string& extra) {
    fs::create_directories(data_dir());
    port_ = free_port();
    std::ofstream(dir_ / "zoo.cfg") << "tickTime=200\n"
                                    << "dataDir=" << data_dir().string() << "\n"
                                    << "clientPort=" << port_ << "\n"
                                    << "clientPortAddress=127.0.0.1\n"
                                    << extra;
    const std::string cfg = (dir_ / "zoo.cfg").string();
    const std::string out_path = (dir_ / "server.log").string();
    const std::string err_path = (dir_ / "server.err").string();
    // Not the previous run's words: start() waits for "serving on" in them.
    std::ofstream(out_path, std::ios::trunc);
    std::ofstream(err_path, std::ios::trunc);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* out = std::fopen(out_path.c_str(), "w");
      FILE* err = std::fopen(err_path.c_str(), "w");
      if (out) dup2(fileno(out), STDOUT_FILENO);
      if (err) dup2(fileno(err), STDERR_FILENO);
      execl(CORRAL_SERVER_BIN, CORRAL_SERVER_BIN, cfg.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }

  fs::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int status_ = 0;
};

// ---- The database, opened directly (as a user would with the sqlite3 CLI) ----

/// Runs SQL on `file`; SQLite's error message, or "" on success.
std::string sql(const fs::path& file, const std::string& statements) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    return msg;
  }
  char* err = nullptr;
  std::string msg;
  if (sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err) != SQLITE_OK)
    msg = err ? err : "error";
  sqlite3_free(err);
  sqlite3_close(db);
  return msg;
}

/// The integers of a query's first column.
std::vector<int64_t> sql_ints(const fs::path& file, const std::string& query) {
  std::vector<int64_t> out;
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK)
      while (sqlite3_step(stmt) == SQLITE_ROW) out.push_back(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

std::string hex(int64_t zxid) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(zxid));
  return buf;
}

// ---- Fixture ----

constexpr const char* kSnapshotConfig =
    "snapCount=50\nautopurge.purgeInterval=1\nautopurge.snapRetainCount=3\n";

class StorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corral-storage-e2e.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    server_ = std::make_unique<ServerProcess>(dir_);
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    if (!HasFailure())
      fs::remove_all(dir_, ec);
    else
      std::fprintf(stderr, "kept %s for inspection\n", dir_.c_str());
  }

  /// Starts the server, runs `writes` changes through one session, and returns every path
  /// touched (including deleted ones).
  std::vector<std::string> populate(const std::string& config, int writes) {
    EXPECT_TRUE(server_->start(config)) << server_->log() << server_->err();
    RawClient c(server_->port());
    EXPECT_TRUE(c.handshake());
    std::mt19937 rng(7);
    std::vector<std::string> touched;
    std::vector<std::string> live;
    for (int p = 0; p < 5; ++p) {
      std::string parent = "/p" + std::to_string(p);
      EXPECT_EQ(c.create(parent, "parent").first, kOk);
      touched.push_back(parent);
    }
    for (int i = 0; i < writes; ++i) {
      int kind = static_cast<int>(rng() % 10);
      std::string data(static_cast<size_t>(rng() % 400), static_cast<char>('a' + i % 26));
      if (kind < 5 || live.empty()) {
        std::string path = "/p" + std::to_string(rng() % 5) + "/n" + std::to_string(i);
        int32_t flags = rng() % 4 == 0 ? 2 : 0;  // some sequential
        auto [err, created] = c.create(path, data, flags);
        EXPECT_EQ(err, kOk) << path;
        path = created;
        touched.push_back(path);
        live.push_back(path);
      } else if (kind < 8) {
        EXPECT_EQ(c.set_data(live[rng() % live.size()], data), kOk);
      } else {
        size_t at = rng() % live.size();
        EXPECT_EQ(c.remove(live[at]), kOk) << live[at];
        live.erase(live.begin() + static_cast<long>(at));
      }
    }
    return touched;
  }

  /// getData and exists of every path, as the server answers now.
  std::map<std::string, std::pair<NodeView, NodeView>> read_all(
      const std::vector<std::string>& paths) {
    std::map<std::string, std::pair<NodeView, NodeView>> out;
    RawClient c(server_->port());
    EXPECT_TRUE(c.handshake());
    for (const auto& p : paths) {
      auto data = c.get_data(p);
      auto stat = c.exists(p);
      EXPECT_TRUE(data && stat) << p;
      if (data && stat) out[p] = {*data, *stat};
    }
    return out;
  }

  /// After a clean stop, the main file holds everything (no -wal/-shm files).
  void stop_cleanly() {
    ASSERT_TRUE(server_->terminate()) << server_->log() << server_->err();
    // Closing the database checkpoints the WAL into the main file and deletes it.
    fs::path wal = server_->db_file().string() + "-wal";
    EXPECT_TRUE(!fs::exists(wal) || fs::file_size(wal) == 0) << "the WAL outlived a clean stop";
    for (const char* suffix : {"-wal", "-shm"}) {
      std::error_code ec;
      fs::remove(server_->db_file().string() + suffix, ec);
    }
  }

  /// Starts the server over the damaged data; it must exit non-zero in time, saying on
  /// stderr that it refuses, naming the database file and containing `problem`.
  void expect_refusal(const std::vector<std::string>& problems) {
    auto status = server_->start_expecting_exit("");
    ASSERT_TRUE(status.has_value()) << "the server did not exit; log:\n" << server_->log();
    EXPECT_NE(*status, 0);
    std::string err = server_->err();
    std::printf("the server said: %s", err.c_str());
    EXPECT_NE(err.find("refusing to start"), std::string::npos) << err;
    EXPECT_NE(err.find(server_->db_file().string()), std::string::npos) << err;
    for (const auto& p : problems) EXPECT_NE(err.find(p), std::string::npos) << p << "\n" << err;
    EXPECT_EQ(server_->log().find("serving on"), std::string::npos);
  }

  fs::path dir_;
  std::unique_ptr<ServerProcess> server_;
};

// ---- Recovery of acknowledged writes ----

TEST_F(StorageFaultTest, SigkillDuringSnapshotsRecoversEveryAcknowledgedNode) {
  auto paths = populate(kSnapshotConfig, 400);
  ASSERT_FALSE(HasFailure());
  auto before = read_all(paths);
  // Snapshots were taken while writing, and old ones purged.
  std::string log = server_->log();
  size_t snapshots = 0;
  for (size_t at = 0; (at = log.find("snapshot of", at)) != std::string::npos; ++at) ++snapshots;
  EXPECT_GE(snapshots, 3u) << log;

  server_->kill_now();
  ASSERT_TRUE(server_->start(kSnapshotConfig)) << server_->log() << server_->err();
  // Recovery used a snapshot plus the log after it.
  EXPECT_EQ(server_->log().find("snapshot at zxid 0x0,"), std::string::npos) << server_->log();
  auto after = read_all(paths);
  ASSERT_EQ(before.size(), after.size());
  size_t present = 0;
  for (const auto& [path, views] : before) {
    EXPECT_EQ(views.first, after[path].first) << path << " (getData)";
    EXPECT_EQ(views.second, after[path].second) << path << " (exists)";
    if (views.first.err == kOk) ++present;
  }
  EXPECT_GT(present, 100u);
  EXPECT_LT(present, before.size());  // some were deleted
  // The parents' Stats (cversion, pzxid, numChildren) came back too.
  for (int p = 0; p < 5; ++p) {
    std::string parent = "/p" + std::to_string(p);
    EXPECT_EQ(before[parent].first, after[parent].first) << parent;
  }

  // And again after a clean stop, with writes after the restart.
  {
    RawClient c(server_->port());
    ASSERT_TRUE(c.handshake());
    ASSERT_EQ(c.create("/after-restart", "x").first, kOk);
  }
  paths.push_back("/after-restart");
  before = read_all(paths);
  ASSERT_TRUE(server_->terminate());
  ASSERT_TRUE(server_->start(kSnapshotConfig)) << server_->log() << server_->err();
  EXPECT_EQ(read_all(paths), before);
  ASSERT_TRUE(server_->terminate());
  EXPECT_LE(sql_ints(server_->db_file(), "SELECT count(*) FROM snapshots WHERE complete = 1")[0],
            3);
}

// ---- Damaged databases ----

TEST_F(StorageFaultTest, TruncatedDatabase) {
  populate("", 300);
  stop_cleanly();
  auto size = fs::file_size(server_->db_file());
  ASSERT_GT(size, 64u * 1024);
  fs::resize_file(server_->db_file(), size / 2);
  expect_refusal({"malformed"});
}

TEST_F(StorageFaultTest, RandomBytesInTheMiddle) {
  populate("", 300);
  stop_cleanly();
  auto size = fs::file_size(server_->db_file());
  ASSERT_GT(size, 64u * 1024);
  // One page in the middle (SQLite's default page size is 4096) gets random bytes.
  std::mt19937 rng(11);
  std::string junk(4096, '\0');
  for (auto& ch : junk) ch = static_cast<char>(rng());
  {
    std::fstream f(server_->db_file(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  expect_refusal({"corrupt"});
}

TEST_F(StorageFaultTest, GapInTheLog) {
  populate("", 100);
  stop_cleanly();
  auto zxids = sql_ints(server_->db_file(), "SELECT zxid FROM txn_log ORDER BY zxid");
  ASSERT_GT(zxids.size(), 50u);
  size_t mid = zxids.size() / 2;
  ASSERT_EQ(
      sql(server_->db_file(), "DELETE FROM txn_log WHERE zxid = " + std::to_string(zxids[mid])),
      "");
  expect_refusal({"gap", hex(zxids[mid - 1]), hex(zxids[mid + 1])});
}

TEST_F(StorageFaultTest, SnapshotsLostAfterTheLogWasPurged) {
  populate(kSnapshotConfig, 400);
  stop_cleanly();
  auto snaps = sql_ints(server_->db_file(),
                        "SELECT start_zxid FROM snapshots WHERE complete = 1 ORDER BY start_zxid");
  ASSERT_EQ(snaps.size(), 3u) << "autopurge keeps 3";
  auto first = sql_ints(server_->db_file(), "SELECT min(zxid) FROM txn_log");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0], snaps[0] + 1) << "the log before the oldest kept snapshot is purged";

  // Losing only the newest snapshot is survivable: the next one and the log still meet.
  fs::path copy = dir_ / "copy.db";
  fs::copy_file(server_->db_file(), copy);
  ASSERT_EQ(sql(server_->db_file(),
                "DELETE FROM snapshot_nodes WHERE snapshot_id = (SELECT max(id) FROM snapshots); "
                "DELETE FROM snapshots WHERE id = (SELECT max(id) FROM snapshots)"),
            "");
  ASSERT_TRUE(server_->start("")) << server_->err();
  {
    RawClient c(server_->port());
    ASSERT_TRUE(c.handshake());
    auto v = c.get_data("/p0");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->err, kOk);
  }
  ASSERT_TRUE(server_->terminate());

  // Losing all of them is not: the log no longer reaches back to an empty tree.
  fs::copy_file(copy, server_->db_file(), fs::copy_options::overwrite_existing);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(server_->db_file().string() + suffix);
  ASSERT_EQ(sql(server_->db_file(),
                "DELETE FROM snapshot_nodes; DELETE FROM snapshot_sessions; DELETE FROM snapshots"),
            "");
  expect_refusal({"no snapshot", hex(first[0])});
}

TEST_F(StorageFaultTest, NotADatabase) {
  populate("", 10);
  stop_cleanly();
  {
    std::ofstream out(server_->db_file(), std::ios::trunc);
    for (int i = 0; i < 1000; ++i) out << "this is not a database, line " << i << "\n";
  }
  expect_refusal({"not a database"});
}

TEST_F(StorageFaultTest, EmptyDirectoryStartsAndUndamagedRestarts) {
  populate("", 20);
  stop_cleanly();
  ASSERT_TRUE(server_->start("")) << server_->err();
  ASSERT_TRUE(server_->terminate());
}

}  // namespace
