// Roles in a replicated ensemble, end to end, against corral-server or Apache ZooKeeper 3.8
// (the oracle), chosen by ENSEMBLE_IMPL: the same assertions must hold for both.
//
//  - mntr/srvr report each member's role, the leader's synced followers, and a Zxid that
//    moves with writes;
//  - a session held by a follower alone lives on while its client pings, and once its client
//    falls silent the leader expires it (from the touches its learners report): its
//    ephemeral node goes from every server and a reattach is refused as expired;
//  - a silent leader (SIGSTOP: no connection is closed) is replaced within the configured
//    limits, and once it runs again it steps down and rejoins as a follower;
//  - an observer serves clients, reads its writes, but does not vote: it cannot keep a
//    quorum alive;
//  - with readonlymode.enabled, a member cut off from its quorum serves read-only clients.
//
// Every wait polls a condition until a deadline and prints how long it took.
// Environment: ENSEMBLE_IMPL=corral|zookeeper (default corral), ENSEMBLE_KEEP=1 keeps the
// servers' directories (server.log, client.log).
#include <gtest/gtest.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/wait_until.h"

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kTickMs = 500;
constexpr int kInitLimit = 10;
constexpr int kSyncLimit = 5;
constexpr int kLongSessionMs = 10000;  // the maximum with tickTime=500 (20 ticks)
/// What create_within() and friends return when no answer came in time (no ZooKeeper code).
constexpr int kNoAnswer = 1;
constexpr int32_t kEphemeralFlag = 1;  // CreateMode.EPHEMERAL

Impl g_impl = Impl::kCorral;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string stat_text(const Stat& s) {
  std::string out;
  for (int64_t f : {s.czxid, s.mzxid, s.ctime, s.mtime, int64_t{s.version}, int64_t{s.cversion},
                    int64_t{s.aversion}, s.ephemeralOwner, int64_t{s.dataLength},
                    int64_t{s.numChildren}, s.pzxid})
    out += (out.empty() ? "" : ",") + std::to_string(f);
  return "stat{" + out + "}";
}

std::string hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---- Four-letter words ----

/// The answer to `word` from the member on `port`, or "" if none came within 2 s.
std::string four_lw(uint16_t port, const char* word) {
  return four_letter_word(port, word, 2000ms).value_or("");
}

/// srvr's "Mode: ..." line, else its first line.
std::string mode_line(const std::string& srvr) {
  size_t at = srvr.find("Mode: ");
  if (at == std::string::npos) at = 0;
  return srvr.substr(at, srvr.find('\n', at) - at);
}

/// mntr's "key\tvalue" lines.
std::map<std::string, std::string> parse_mntr(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    if (size_t tab = line.find('\t'); tab != std::string::npos)
      out[line.substr(0, tab)] = line.substr(tab + 1);
    at = end + 1;
  }
  return out;
}

/// srvr's "Zxid: 0x..." value, or -1 without one.
int64_t srvr_zxid(const std::string& text) {
  size_t at = text.find("Zxid: 0x");
  if (at == std::string::npos) return -1;
  return static_cast<int64_t>(std::stoull(text.substr(at + 8), nullptr, 16));
}

// ---- The C client ----

/// Sends the C client's log to `path` while it lives (the clients must go first).
class ClientLog {
 public:
  explicit ClientLog(const std::filesystem::path& path) : file_(std::fopen(path.c_str(), "a")) {
    if (file_) zoo_set_log_stream(file_);
    zoo_set_debug_level(ZOO_LOG_LEVEL_INFO);
  }
  ~ClientLog() {
    zoo_set_log_stream(stderr);
    if (file_) std::fclose(file_);
  }

 private:
  FILE* file_;
};

/// One session of the C client, with its state as the watcher reports it.
class Zk {
 public:
  Zk(const std::string& hosts, int timeout_ms, int flags = 0) {
    zh_ = zookeeper_init(hosts.c_str(), &on_watch, timeout_ms, nullptr, this, flags);
  }
  ~Zk() {
    if (zh_) zookeeper_close(zh_);
  }
  Zk(const Zk&) = delete;
  Zk& operator=(const Zk&) = delete;

  zhandle_t* zh() const { return zh_; }
  int64_t session_id() const { return zoo_client_id(zh_)->client_id; }
  /// Waits until the watcher reports `want` (now, or after a reconnect).
  bool wait_state(int want, Clock::duration timeout) {
    std::unique_lock lock(mu_);
    if (!zh_) return false;
    cv_.wait_for(lock, timeout,
                 [&] { return state_ == want || state_ == ZOO_EXPIRED_SESSION_STATE; });
    return state_ == want;
  }
  bool wait_connected(Clock::duration timeout) { return wait_state(ZOO_CONNECTED_STATE, timeout); }
  int state() {
    std::lock_guard lock(mu_);
    return state_;
  }
  /// How many times the session got connected (read-write or read-only).
  int connects() {
    std::lock_guard lock(mu_);
    return connects_;
  }

 private:
  static void on_watch(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<Zk*>(ctx);
    std::lock_guard lock(self->mu_);
    self->state_ = state;
    if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) ++self->connects_;
    self->cv_.notify_all();
  }

  zhandle_t* zh_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;
  int connects_ = 0;
};

/// The end of an asynchronous call, shared by its caller and its completion (which may come
/// after the caller stopped waiting).
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;

  /// The context to give the C client; the completion releases it.
  static void* context(const std::shared_ptr<Completion>& c) {
    return new std::shared_ptr<Completion>(c);
  }
  static void finish(int rc, const void* data) {
    auto* keep = static_cast<std::shared_ptr<Completion>*>(const_cast<void*>(data));
    {
      std::lock_guard lock((*keep)->mu);
      (*keep)->rc = rc;
      (*keep)->done = true;
      (*keep)->cv.notify_all();
    }
    delete keep;
  }
  /// The result, or kNoAnswer if it did not come within `timeout`.
  int wait(Clock::duration timeout) {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return done; })) return kNoAnswer;
    return rc;
  }
};

/// A create answered within `timeout`: its code, or kNoAnswer.
int create_within(Zk& zk, const std::string& path, const std::string& value, int flags,
                  Clock::duration timeout) {
  auto c = std::make_shared<Completion>();
  void* ctx = Completion::context(c);
  int rc = zoo_acreate(
      zk.zh(), path.c_str(), value.data(), static_cast<int>(value.size()), &ZOO_OPEN_ACL_UNSAFE,
      flags, [](int rc, const char*, const void* data) { Completion::finish(rc, data); }, ctx);
  if (rc != ZOK) {
    delete static_cast<std::shared_ptr<Completion>*>(ctx);
    return rc;
  }
  return c->wait(timeout);
}

/// Starts a setData (any version); wait on the result (nullptr if it could not be sent).
std::shared_ptr<Completion> start_set(Zk& zk, const std::string& path, const std::string& value) {
  auto c = std::make_shared<Completion>();
  void* ctx = Completion::context(c);
  int rc = zoo_aset(
      zk.zh(), path.c_str(), value.data(), static_cast<int>(value.size()), -1,
      [](int rc, const Stat*, const void* data) { Completion::finish(rc, data); }, ctx);
  if (rc != ZOK) {
    delete static_cast<std::shared_ptr<Completion>*>(ctx);
    return nullptr;
  }
  return c;
}

/// A setData (any version) answered within `timeout`: its code, or kNoAnswer.
int set_within(Zk& zk, const std::string& path, const std::string& value, Clock::duration timeout) {
  auto c = start_set(zk, path, value);
  return c ? c->wait(timeout) : ZSYSTEMERROR;
}

/// sync of `path` answered within `timeout`: its code, or kNoAnswer.
int sync_within(Zk& zk, const std::string& path, Clock::duration timeout = 10s) {
  auto c = std::make_shared<Completion>();
  void* ctx = Completion::context(c);
  int rc = zoo_async(
      zk.zh(), path.c_str(),
      [](int rc, const char*, const void* data) { Completion::finish(rc, data); }, ctx);
  if (rc != ZOK) {
    delete static_cast<std::shared_ptr<Completion>*>(ctx);
    return rc;
  }
  return c->wait(timeout);
}

/// getData: "absent", or the data and every Stat field; "error N" for other failures.
std::string node_text(Zk& zk, const std::string& path) {
  char buf[1024];
  int len = sizeof buf;
  Stat st{};
  int rc = zoo_get(zk.zh(), path.c_str(), 0, buf, &len, &st);
  if (rc == ZNONODE) return "absent";
  if (rc != ZOK) return "error " + std::to_string(rc);
  return "'" + std::string(buf, static_cast<size_t>(std::max(len, 0))) + "' " + stat_text(st);
}

/// The data of `path`, or nullopt if getData fails.
std::optional<std::string> data_of(Zk& zk, const std::string& path) {
  char buf[1024];
  int len = sizeof buf;
  Stat st{};
  if (zoo_get(zk.zh(), path.c_str(), 0, buf, &len, &st) != ZOK) return std::nullopt;
  return std::string(buf, static_cast<size_t>(std::max(len, 0)));
}

/// Sets `path` to `value` through `zk`, retrying after connection losses (setData is
/// idempotent), until it succeeds or `timeout` passes; the last code.
int set_retrying(Zk& zk, const std::string& path, const std::string& value,
                 Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  int rc = kNoAnswer;
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    rc = set_within(zk, path, value, left);
    if (rc == ZOK || rc == kNoAnswer) return rc;
    if (rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT) return rc;
    zk.wait_connected(std::min<Clock::duration>(left, 5s));
  }
  return rc;
}

// ---- A session opened by hand: it stops talking when told to, without closing ----

struct RawSession {
  bool answered = false;
  int32_t timeout_ms = 0;
  int64_t id = 0;
  std::string passwd;
  bool read_only = false;
};

/// Sends a ConnectRequest (a new session, or a reattach to `session_id`) and reads the answer.
RawSession raw_connect(RawClient& c, int32_t timeout_ms, int64_t session_id = 0,
                       const std::string& passwd = std::string(16, '\0')) {
  std::string req;
  put32(req, 0);  // protocolVersion
  put64(req, 0);  // lastZxidSeen
  put32(req, timeout_ms);
  put64(req, session_id);
  put_buffer(req, passwd);
  req += '\0';  // readOnly: not allowed
  RawSession s;
  if (!c.connected() || !c.send(frame(req))) return s;
  auto rsp = c.read_frame();
  if (!rsp || rsp->size() < 20) return s;
  s.answered = true;
  s.timeout_ms = get32(*rsp, 4);
  s.id = get64(*rsp, 8);
  const int32_t n = get32(*rsp, 16);
  if (n > 0 && rsp->size() >= 20 + static_cast<size_t>(n)) {
    s.passwd = rsp->substr(20, static_cast<size_t>(n));
    if (rsp->size() > 20 + static_cast<size_t>(n)) s.read_only = (*rsp)[20 + n] != 0;
  }
  return s;
}

// ---- Comparing servers ----

/// Every path's data and Stat as member i holds them after a sync of `root`.
std::map<std::string, std::string> read_member(Ensemble& ens, int i, const std::string& root,
                                               const std::vector<std::string>& paths) {
  std::map<std::string, std::string> out;
  Zk zk(ens.host_port(i), kLongSessionMs);
  if (!zk.wait_connected(30s)) {
    out["<connect>"] = "cannot connect to member " + std::to_string(i);
    return out;
  }
  if (int rc = sync_within(zk, root); rc != ZOK)
    out["<sync>"] = "sync failed: " + std::to_string(rc);
  for (const auto& p : paths) out[p] = node_text(zk, p);
  return out;
}

/// Every member holds the same data and Stat for each of `paths` (after a sync); returns the
/// first member's view.
std::map<std::string, std::string> expect_same_everywhere(Ensemble& ens, const std::string& root,
                                                          const std::vector<std::string>& paths) {
  std::vector<std::map<std::string, std::string>> views;
  for (int i = 0; i < ens.size(); ++i) views.push_back(read_member(ens, i, root, paths));
  for (int i = 1; i < ens.size(); ++i) {
    for (const auto& [path, text] : views[0]) {
      auto it = views[static_cast<size_t>(i)].find(path);
      std::string other = it == views[static_cast<size_t>(i)].end() ? "<missing>" : it->second;
      EXPECT_EQ(other, text) << path << ": member " << i << " differs from member 0";
    }
    EXPECT_EQ(views[static_cast<size_t>(i)].size(), views[0].size()) << "member " << i;
  }
  return views.empty() ? std::map<std::string, std::string>{} : views[0];
}

/// Leader, followers and observers among the members' modes.
struct RoleCount {
  int leaders = 0, followers = 0, observers = 0, other = 0;
};

RoleCount count_roles(Ensemble& ens) {
  RoleCount c;
  for (const auto& m : ens.modes()) {
    if (m == "leader")
      ++c.leaders;
    else if (m == "follower")
      ++c.followers;
    else if (m == "observer")
      ++c.observers;
    else
      ++c.other;
  }
  return c;
}

Ensemble::Options options(const std::string& name, int size = 3) {
  Ensemble::Options o;
  o.impl = g_impl;
  o.size = size;
  o.tick_ms = kTickMs;
  o.init_limit = kInitLimit;
  o.sync_limit = kSyncLimit;
  o.name = name;
  return o;
}

// ---- A writer: creates numbered nodes through one session, in a thread ----

class Writer {
 public:
  Writer(std::string hosts, std::string prefix)
      : hosts_(std::move(hosts)), prefix_(std::move(prefix)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Writer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int acked() const { return acked_; }
  /// Polls until acked() reaches `n`; the time of the first acknowledgement above `base`
  /// goes to `first`.
  bool wait_acked(int base, int n, Clock::duration timeout, Clock::time_point* first = nullptr) {
    bool seen = false;
    return wait_until(
        timeout,
        [&] {
          int a = acked_;
          if (a > base && !seen) {
            seen = true;
            if (first) *first = Clock::now();
          }
          return a >= n;
        },
        2ms);
  }
  /// After stop(): every path tried, and those acknowledged with their values.
  std::vector<std::string> tried() const { return tried_; }
  std::map<std::string, std::string> acked_values() const { return acked_values_; }
  int sessions() const { return sessions_; }

 private:
  void run() {
    auto zk = std::make_unique<Zk>(hosts_, kLongSessionMs);
    zk->wait_connected(30s);
    for (int n = 0; !stop_; ++n) {
      const std::string path = prefix_ + "/w-" + std::to_string(n);
      const std::string value = "v" + std::to_string(n);
      tried_.push_back(path);
      int rc = create_within(*zk, path, value, 0, 30s);
      if (rc == ZOK) {
        acked_values_[path] = value;
        ++acked_;
        continue;
      }
      // Lost connection (or no answer): wait for the client to reconnect, or a new session.
      if (!zk->wait_connected(20s)) {
        zk = std::make_unique<Zk>(hosts_, kLongSessionMs);
        ++sessions_;
        zk->wait_connected(30s);
      }
    }
  }

  std::string hosts_, prefix_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_{0};
  std::atomic<int> sessions_{1};
  std::vector<std::string> tried_;
  std::map<std::string, std::string> acked_values_;
};

// ---- One 3-member ensemble for the role, session and silent-leader tests ----

class RolesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ensemble_ = new Ensemble(options("corral-roles"));
    ASSERT_TRUE(ensemble_->ok()) << ensemble_->error();
    log_ = new ClientLog(ensemble_->dir() / "client.log");
    const auto t0 = Clock::now();
    ASSERT_TRUE(ensemble_->start_all()) << ensemble_->error() << "\n" << ensemble_->describe();
    started_ = true;
    std::printf("ensemble of %s started in %.0f ms: %s\n", impl_name(g_impl), ms_since(t0),
                ensemble_->connect_string().c_str());
  }
  static void TearDownTestSuite() {
    delete log_;
    log_ = nullptr;
    delete ensemble_;
    ensemble_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(started_) << "the ensemble never started";
    for (int i = 0; i < ens().size(); ++i)
      if (ens().paused(i)) ens().resume(i);
    ASSERT_TRUE(ens().start_all()) << ens().describe();
  }
  void TearDown() override {
    if (HasFailure()) {
      std::printf("%s", ens().describe().c_str());
      ens().keep_dir();
    }
  }

  Ensemble& ens() { return *ensemble_; }

  static Ensemble* ensemble_;
  static ClientLog* log_;
  static bool started_;
};

Ensemble* RolesTest::ensemble_ = nullptr;
ClientLog* RolesTest::log_ = nullptr;
bool RolesTest::started_ = false;

// 4. mntr and srvr: the role of each member, the leader's synced followers, the Zxid.
TEST_F(RolesTest, MntrAndSrvrReportRolesAndZxid) {
  const int leader = ens().wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(leader, 0) << ens().describe();
  const auto t0 = Clock::now();
  std::string leader_mntr;
  // Followers count once synced; right after an election they may still be syncing.
  EXPECT_TRUE(wait_until(10s,
                         [&] {
                           leader_mntr = four_lw(ens().client_port(leader), "mntr");
                           return leader_mntr.find("zk_synced_followers\t2\n") != std::string::npos;
                         }))
      << "leader's mntr:\n"
      << leader_mntr;
  std::printf("  leader's mntr says 2 synced followers after %.0f ms\n", ms_since(t0));
  EXPECT_NE(leader_mntr.find("zk_server_state\tleader\n"), std::string::npos) << leader_mntr;
  auto values = parse_mntr(leader_mntr);
  EXPECT_EQ(values["zk_server_state"], "leader");
  EXPECT_EQ(values["zk_synced_followers"], "2");
  EXPECT_TRUE(values.count("zk_znode_count")) << leader_mntr;

  for (int i = 0; i < ens().size(); ++i) {
    const std::string srvr = four_lw(ens().client_port(i), "srvr");
    const char* role = i == leader ? "leader" : "follower";
    EXPECT_NE(srvr.find(std::string("Mode: ") + role + "\n"), std::string::npos)
        << "member " << i << " srvr:\n"
        << srvr;
    EXPECT_GE(srvr_zxid(srvr), 0) << "member " << i << " srvr has no Zxid: 0x...:\n" << srvr;
    if (i == leader) continue;
    const std::string mntr = four_lw(ens().client_port(i), "mntr");
    EXPECT_NE(mntr.find("zk_server_state\tfollower\n"), std::string::npos)
        << "member " << i << " mntr:\n"
        << mntr;
    // Only the leader reports its followers.
    EXPECT_EQ(parse_mntr(mntr).count("zk_synced_followers"), 0u) << "member " << i;
  }

  // The Zxid moves with a write, on every member.
  std::vector<int64_t> before;
  for (int i = 0; i < ens().size(); ++i)
    before.push_back(srvr_zxid(four_lw(ens().client_port(i), "srvr")));
  Zk zk(ens().connect_string(), kLongSessionMs);
  ASSERT_TRUE(zk.wait_connected(30s));
  Stat st{};
  const std::string path = "/mntr-" + std::to_string(Clock::now().time_since_epoch().count());
  ASSERT_EQ(zoo_create2(zk.zh(), path.c_str(), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0, &st),
            ZOK);
  const auto written = Clock::now();
  for (int i = 0; i < ens().size(); ++i) {
    int64_t now_zxid = -1;
    EXPECT_TRUE(wait_until(5s,
                           [&] {
                             now_zxid = srvr_zxid(four_lw(ens().client_port(i), "srvr"));
                             return now_zxid >= st.mzxid;
                           }))
        << "member " << i << " srvr Zxid " << hex(now_zxid) << " < the write's " << hex(st.mzxid);
    EXPECT_GT(now_zxid, before[static_cast<size_t>(i)]) << "member " << i;
    std::printf("  member %d (%s): Zxid %s -> %s (write's zxid %s) after %.0f ms\n", i,
                i == leader ? "leader" : "follower", hex(before[static_cast<size_t>(i)]).c_str(),
                hex(now_zxid).c_str(), hex(st.mzxid).c_str(), ms_since(written));
  }
}

// 3. The leader expires sessions held by followers, from the touches they report.
TEST_F(RolesTest, FollowerSessionExpiredByLeader) {
  constexpr int kTimeoutMs = 2000;  // tickTime 500: the minimum is 1000
  const int leader = ens().wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(leader, 0) << ens().describe();
  const int follower = (leader + 1) % ens().size();
  const std::string idle_path = "/expiry-idle";
  const std::string raw_path = "/expiry-raw";

  // A C-client session on the follower alone: it pings by itself, and lives.
  Zk idle(ens().host_port(follower), kTimeoutMs);
  ASSERT_TRUE(idle.wait_connected(30s));
  EXPECT_EQ(zoo_recv_timeout(idle.zh()), kTimeoutMs) << "negotiated session timeout";
  ASSERT_EQ(zoo_create(idle.zh(), idle_path.c_str(), "idle", 4, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL,
                       nullptr, 0),
            ZOK);
  const int64_t idle_session = idle.session_id();
  Zk on_leader(ens().host_port(leader), kLongSessionMs);
  ASSERT_TRUE(on_leader.wait_connected(30s));

  // Idle for 3 timeouts: the session must stay connected all along (nothing to wait for
  // but time; a disconnection fails at once).
  const auto idle_from = Clock::now();
  bool dropped = wait_until(
      milliseconds(3 * kTimeoutMs),
      [&] { return idle.state() != ZOO_CONNECTED_STATE || idle.connects() != 1; }, 50ms);
  EXPECT_FALSE(dropped) << "the idle session lost its connection after " << ms_since(idle_from)
                        << " ms (state " << idle.state() << ", connects " << idle.connects() << ")";
  Stat st{};
  ASSERT_EQ(sync_within(on_leader, idle_path), ZOK);
  ASSERT_EQ(zoo_exists(on_leader.zh(), idle_path.c_str(), 0, &st), ZOK)
      << "the idle session's ephemeral is gone after " << 3 * kTimeoutMs << " ms";
  EXPECT_EQ(st.ephemeralOwner, idle_session);
  std::printf("  idle session on follower %d alive after %.0f ms idle\n", follower,
              ms_since(idle_from));

  // A session by hand on the follower: an ephemeral, then silence (the socket stays open).
  RawClient raw(ens().client_port(follower), 10000ms);
  ASSERT_TRUE(raw.connected());
  RawSession session = raw_connect(raw, kTimeoutMs);
  ASSERT_TRUE(session.answered && session.id != 0) << "no session from the follower";
  EXPECT_EQ(session.timeout_ms, kTimeoutMs);
  ASSERT_EQ(raw.create(raw_path, "raw", kEphemeralFlag), std::optional<int32_t>(kOk));
  const auto silent_from = Clock::now();

  // Everybody sees it, then nobody: polled on every member's own view.
  std::vector<std::unique_ptr<Zk>> views;
  for (int i = 0; i < ens().size(); ++i) {
    views.push_back(std::make_unique<Zk>(ens().host_port(i), kLongSessionMs));
    ASSERT_TRUE(views.back()->wait_connected(30s)) << "member " << i;
  }
  const auto limit = milliseconds(kTimeoutMs + 2 * kTickMs + 1000);
  std::vector<double> gone_ms(views.size(), -1);
  bool gone = wait_until(
      limit,
      [&] {
        bool all = true;
        for (size_t i = 0; i < views.size(); ++i) {
          if (gone_ms[i] >= 0) continue;
          int rc = zoo_exists(views[i]->zh(), raw_path.c_str(), 0, nullptr);
          if (rc == ZNONODE)
            gone_ms[i] = ms_since(silent_from);
          else
            all = false;
        }
        return all;
      },
      10ms);
  std::printf("  silent session 0x%llx: ephemeral gone after",
              static_cast<unsigned long long>(session.id));
  for (size_t i = 0; i < gone_ms.size(); ++i) std::printf(" %.0f ms (member %zu)", gone_ms[i], i);
  std::printf("; limit %lld ms\n", static_cast<long long>(limit.count()));
  ASSERT_TRUE(gone) << "the silent session's ephemeral is still there after " << limit.count()
                    << " ms";
  for (size_t i = 0; i < gone_ms.size(); ++i)
    EXPECT_GE(gone_ms[i], kTimeoutMs - 250) << "expired before its timeout on member " << i;

  // Its server closes its connection.
  const auto close_wait = Clock::now();
  EXPECT_TRUE(raw.wait_closed()) << "the follower keeps the expired session's connection open";
  std::printf("  the expired session's connection closed %.0f ms after the node went\n",
              ms_since(close_wait));

  // A reattach with its id and password is told it expired (timeout 0), on every member.
  for (int i = 0; i < ens().size(); ++i) {
    RawClient again(ens().client_port(i), 5000ms);
    RawSession r = raw_connect(again, kTimeoutMs, session.id, session.passwd);
    EXPECT_TRUE(r.answered) << "member " << i << " did not answer the reattach";
    EXPECT_LE(r.timeout_ms, 0) << "member " << i << " revived the expired session";
    EXPECT_TRUE(again.wait_closed()) << "member " << i << " kept the refused reattach open";
  }

  // The pinging session lived through it all.
  EXPECT_EQ(idle.state(), ZOO_CONNECTED_STATE);
  EXPECT_EQ(idle.connects(), 1);
  ASSERT_EQ(sync_within(on_leader, idle_path), ZOK);
  EXPECT_EQ(zoo_exists(on_leader.zh(), idle_path.c_str(), 0, nullptr), ZOK);
}

// 1. A silent leader (SIGSTOP) is replaced; resumed, it steps down and follows.
TEST_F(RolesTest, SilentLeaderStepsDownAndRejoins) {
  const std::string root = "/silent";
  const int old_leader = ens().wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(old_leader, 0) << ens().describe();
  std::vector<int> followers;
  for (int i = 0; i < ens().size(); ++i)
    if (i != old_leader) followers.push_back(i);
  {
    Zk setup(ens().connect_string(), kLongSessionMs);
    ASSERT_TRUE(setup.wait_connected(30s));
    ASSERT_EQ(zoo_create(setup.zh(), root.c_str(), "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0),
              ZOK);
  }
  // The writer's session is on the followers: the test is about the servers, not about
  // how soon a client gives up on a silent server.
  Writer writer(ens().connect_string(followers), root);
  ASSERT_TRUE(writer.wait_acked(0, 20, 30s)) << "no writes before the pause";

  const int base = writer.acked();
  const auto paused = Clock::now();
  ASSERT_TRUE(ens().pause(old_leader));
  const int new_leader = ens().wait_for_leader(Clock::now() + 30s);
  const double elect_ms = ms_since(paused);
  ASSERT_GE(new_leader, 0) << "no new leader after pausing member " << old_leader << "\n"
                           << ens().describe();
  ASSERT_NE(new_leader, old_leader);
  // Followers give up on a silent leader after syncLimit ticks; the election and the new
  // epoch's sync must then fit in initLimit ticks.
  const double limit_ms = (kSyncLimit + kInitLimit) * kTickMs;
  EXPECT_LT(elect_ms, limit_ms) << "new leader too late";
  Clock::time_point first{};
  ASSERT_TRUE(writer.wait_acked(base, base + 20, 30s, &first)) << "writes did not resume";
  const double resumed_ms = ms_between(paused, first);
  EXPECT_LT(resumed_ms, limit_ms) << "writes resumed too late";

  // Running again, the old leader finds it lost its followers: it steps down and follows.
  const int before_resume = writer.acked();
  const auto resumed = Clock::now();
  ASSERT_TRUE(ens().resume(old_leader));
  double stepped_down_ms = -1, rejoined_ms = -1;
  std::string last_mode;
  bool rejoined = wait_until(30s, [&] {
    last_mode = ens().mode(old_leader);
    if (last_mode != "leader" && stepped_down_ms < 0) stepped_down_ms = ms_since(resumed);
    if (last_mode == "follower") rejoined_ms = ms_since(resumed);
    return last_mode == "follower";
  });
  std::printf(
      "  paused leader %d: member %d leads after %.0f ms, writes resumed after %.0f ms "
      "(limit %.0f); resumed, it stepped down after %.0f ms and follows after %.0f ms\n",
      old_leader, new_leader, elect_ms, resumed_ms, limit_ms, stepped_down_ms, rejoined_ms);
  ASSERT_TRUE(rejoined) << "the old leader says '" << last_mode << "' 30 s after SIGCONT\n"
                        << ens().describe();
  // Its followers abandoned it while it was stopped: it must notice at once (ZooKeeper's
  // leader checks its synced followers every half tick; they closed their connections, so it
  // steps down within ~250 ms), not wait syncLimit more ticks for them.
  EXPECT_LT(stepped_down_ms, 2 * kTickMs + 500)
      << "the resumed old leader kept saying 'leader' (two leaders) for "
      << static_cast<int>(stepped_down_ms) << " ms";
  EXPECT_EQ(ens().wait_for_quorum(Clock::now() + 30s), new_leader)
      << "the rejoining old leader moved the leadership";
  ASSERT_TRUE(writer.wait_acked(before_resume, writer.acked() + 20, 30s))
      << "writes stopped after the old leader came back";
  writer.stop();

  RoleCount roles = count_roles(ens());
  EXPECT_EQ(roles.leaders, 1);
  EXPECT_EQ(roles.followers, ens().size() - 1);

  std::vector<std::string> paths = writer.tried();
  paths.push_back(root);
  auto view = expect_same_everywhere(ens(), root, paths);
  for (const auto& [path, value] : writer.acked_values()) {
    const std::string& text = view[path];
    EXPECT_EQ(text.rfind("'" + value + "' ", 0), 0u) << "acknowledged " << path << " is " << text;
  }
  std::printf("  %zu writes tried, %zu acknowledged, %d sessions; all members identical\n",
              writer.tried().size(), writer.acked_values().size(), writer.sessions());
}

// 2. An observer serves clients but does not vote.
TEST(ObserverTest, ObserverServesButDoesNotVote) {
  auto o = options("corral-observer", 4);
  o.observers = 1;
  Ensemble ens(o);
  ASSERT_TRUE(ens.ok()) << ens.error();
  ClientLog log(ens.dir() / "client.log");
  struct KeepOnFailure {
    Ensemble& ens;
    ~KeepOnFailure() {
      if (::testing::Test::HasFailure()) {
        std::printf("%s", ens.describe().c_str());
        ens.keep_dir();
      }
    }
  } keep{ens};
  const int obs = 3;
  const std::vector<int> voters{0, 1, 2};
  auto t0 = Clock::now();
  ASSERT_TRUE(ens.start_all()) << ens.error() << "\n" << ens.describe();
  std::printf("  3 voters + 1 observer started in %.0f ms\n", ms_since(t0));

  const std::string srvr = four_lw(ens.client_port(obs), "srvr");
  EXPECT_NE(srvr.find("Mode: observer\n"), std::string::npos) << srvr;
  const int leader = ens.wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(leader, 0);
  ASSERT_NE(leader, obs);
  RoleCount roles = count_roles(ens);
  EXPECT_EQ(roles.leaders, 1);
  EXPECT_EQ(roles.followers, 2);
  EXPECT_EQ(roles.observers, 1);
  const std::string leader_mntr = four_lw(ens.client_port(leader), "mntr");
  EXPECT_NE(leader_mntr.find("zk_synced_followers\t2\n"), std::string::npos)
      << "an observer is no follower:\n"
      << leader_mntr;

  // Through the observer alone: writes, and reads of them.
  {
    Zk oc(ens.host_port(obs), kLongSessionMs);
    ASSERT_TRUE(oc.wait_connected(30s));
    ASSERT_EQ(zoo_create(oc.zh(), "/obs", "o1", 2, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0), ZOK);
    ASSERT_EQ(zoo_set(oc.zh(), "/obs", "o2", 2, -1), ZOK);
    EXPECT_EQ(data_of(oc, "/obs"), std::optional<std::string>("o2"));
    Zk vc(ens.connect_string(voters), kLongSessionMs);
    ASSERT_TRUE(vc.wait_connected(30s));
    ASSERT_EQ(sync_within(vc, "/obs"), ZOK);
    EXPECT_EQ(data_of(vc, "/obs"), std::optional<std::string>("o2"));
  }

  // The observer goes: the voters do not notice.
  {
    Zk vc(ens.connect_string(voters), kLongSessionMs);
    ASSERT_TRUE(vc.wait_connected(30s));
    ASSERT_TRUE(ens.kill9(obs));
    t0 = Clock::now();
    EXPECT_EQ(create_within(vc, "/obs/while-down", "v", 0, 10s), ZOK);
    std::printf("  observer killed: a write through the voters took %.0f ms\n", ms_since(t0));
    EXPECT_EQ(ens.leader(), leader) << "the observer's death moved the leadership";
    roles = count_roles(ens);
    EXPECT_EQ(roles.leaders, 1);
    EXPECT_EQ(roles.followers, 2);
    ASSERT_TRUE(ens.restart(obs));
    t0 = Clock::now();
    ASSERT_TRUE(ens.wait_serving(obs, Clock::now() + 60s)) << "the observer did not come back";
    EXPECT_EQ(ens.mode(obs), "observer");
    std::printf("  observer restarted: serving after %.0f ms\n", ms_since(t0));
  }

  Zk oc(ens.host_port(obs), kLongSessionMs);
  ASSERT_TRUE(oc.wait_connected(30s));
  ASSERT_EQ(sync_within(oc, "/obs/while-down"), ZOK);
  EXPECT_EQ(data_of(oc, "/obs/while-down"), std::optional<std::string>("v"))
      << "the observer missed a write made while it was down";

  // One voter goes (the leader): 2 of 3 remain, a quorum; the observer follows the new leader.
  ASSERT_TRUE(ens.kill9(leader));
  t0 = Clock::now();
  const int new_leader = ens.wait_for_leader(Clock::now() + 30s);
  ASSERT_GE(new_leader, 0) << ens.describe();
  ASSERT_NE(new_leader, obs);
  const double elect_ms = ms_since(t0);
  EXPECT_EQ(set_retrying(oc, "/obs", "after-one", 30s), ZOK)
      << "no write through the observer with 2 of 3 voters";
  const double write_ms = ms_since(t0);
  EXPECT_EQ(data_of(oc, "/obs"), std::optional<std::string>("after-one"));
  EXPECT_TRUE(ens.wait_serving(obs, Clock::now() + 10s));
  EXPECT_EQ(ens.mode(obs), "observer");
  std::printf(
      "  leader %d killed: member %d leads after %.0f ms; write via observer after %.0f ms\n",
      leader, new_leader, elect_ms, write_ms);

  // A second voter goes: no quorum, though the observer runs. The observer stops serving and
  // writes through it fail.
  int second = -1;
  for (int v : voters)
    if (v != leader && v != new_leader) second = v;
  ASSERT_TRUE(ens.kill9(second));
  t0 = Clock::now();
  auto pending = start_set(oc, "/obs", "no-quorum");
  double stopped_ms = -1;
  EXPECT_TRUE(wait_until(milliseconds(kSyncLimit * kTickMs + 2000),
                         [&] {
                           if (ens.mode(obs).empty()) stopped_ms = ms_since(t0);
                           return stopped_ms >= 0;
                         }))
      << "the observer still serves without a quorum: " << ens.mode(obs);
  ASSERT_TRUE(ens.running(obs)) << "the observer died";
  EXPECT_EQ(ens.mode(new_leader), "") << "the lone voter still serves";
  const int rc = pending ? pending->wait(8s) : ZSYSTEMERROR;
  const double write_end_ms = ms_since(t0);
  EXPECT_NE(rc, ZOK) << "a write succeeded without a quorum";
  // And no new session either (the client keeps trying).
  Zk fresh(ens.host_port(obs), 4000);
  EXPECT_FALSE(fresh.wait_connected(3s)) << "a session opened on the observer without a quorum";
  EXPECT_EQ(fresh.connects(), 0);
  std::printf(
      "  second voter %d killed: observer not serving after %.0f ms; the write through it "
      "ended with %d after %.0f ms\n",
      second, stopped_ms, rc, write_end_ms);

  // The voters come back: a quorum again, the observer serves. The write that failed with a
  // lost connection has an unknown outcome: the lone voter may have logged its proposal, and
  // ZAB commits it if that voter leads again (ZooKeeper does so), so either value is right,
  // as long as every member agrees.
  ASSERT_TRUE(ens.restart(leader));
  ASSERT_TRUE(ens.restart(second));
  t0 = Clock::now();
  ASSERT_GE(ens.wait_for_quorum(Clock::now() + 60s), 0) << ens.describe();
  ASSERT_TRUE(ens.wait_serving(obs, Clock::now() + 30s));
  std::printf("  voters restarted: quorum and observer back after %.0f ms\n", ms_since(t0));
  Zk after(ens.host_port(obs), kLongSessionMs);
  ASSERT_TRUE(after.wait_connected(30s));
  ASSERT_EQ(sync_within(after, "/obs"), ZOK);
  auto value = data_of(after, "/obs");
  EXPECT_TRUE(value == "after-one" || value == "no-quorum") << value.value_or("<none>");
  std::printf("  /obs is '%s' after the quorum came back\n", value.value_or("<none>").c_str());
  expect_same_everywhere(ens, "/obs", {"/obs", "/obs/while-down"});
}

// 5. Read-only mode: a member cut off from its quorum serves reads to clients that allow it.
TEST(ReadOnlyTest, SurvivorServesReadOnlyThenRejoins) {
  auto o = options("corral-readonly");
  // ZooKeeper reads readonlymode.enabled as a Java system property only (a zoo.cfg line
  // would set zookeeper.readonlymode.enabled); Corral reads it from zoo.cfg. Since 3.6
  // ZooKeeper's read-only server also refuses to create a session unless local sessions are
  // enabled (it answers the ConnectRequest with a ZNOTREADONLY reply header, which the C
  // client never takes for a session; see apache/zookeeper PR #1922): a deliberate
  // requirement of ZooKeeper's that Corral, which has no local sessions, does not share.
  if (g_impl == Impl::kZooKeeper) {
    o.jvm_args.push_back("-Dreadonlymode.enabled=true");
    o.extra_cfg = "localSessionsEnabled=true\n";
  } else {
    o.extra_cfg = "readonlymode.enabled=true\n";
  }
  Ensemble ens(o);
  ASSERT_TRUE(ens.ok()) << ens.error();
  ClientLog log(ens.dir() / "client.log");
  struct KeepOnFailure {
    Ensemble& ens;
    ~KeepOnFailure() {
      if (::testing::Test::HasFailure()) {
        std::printf("%s", ens.describe().c_str());
        ens.keep_dir();
      }
    }
  } keep{ens};
  ASSERT_TRUE(ens.start_all()) << ens.error() << "\n" << ens.describe();
  const int leader = ens.wait_for_quorum(Clock::now() + 30s);
  ASSERT_GE(leader, 0);
  const int survivor = (leader + 1) % ens.size();
  std::vector<int> others;
  for (int i = 0; i < ens.size(); ++i)
    if (i != survivor) others.push_back(i);
  {
    Zk zk(ens.connect_string(), kLongSessionMs);
    ASSERT_TRUE(zk.wait_connected(30s));
    ASSERT_EQ(zoo_create(zk.zh(), "/ro", "before", 6, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0), ZOK);
    Zk on_survivor(ens.host_port(survivor), kLongSessionMs);
    ASSERT_TRUE(on_survivor.wait_connected(30s));
    ASSERT_EQ(sync_within(on_survivor, "/ro"), ZOK);
    ASSERT_EQ(data_of(on_survivor, "/ro"), std::optional<std::string>("before"));
  }
  EXPECT_EQ(four_lw(ens.client_port(survivor), "isro"), "rw");

  for (int i : others) ASSERT_TRUE(ens.kill9(i));
  const auto killed = Clock::now();
  double ro_ms = -1;
  std::string isro;
  EXPECT_TRUE(wait_until(5s,
                         [&] {
                           isro = four_lw(ens.client_port(survivor), "isro");
                           if (isro == "ro") ro_ms = ms_since(killed);
                           return isro == "ro";
                         }))
      << "isro says '" << isro << "' 5 s after the survivor lost its quorum";
  // ZooKeeper starts its read-only server max(2 s, tickTime) after it lost the quorum.
  EXPECT_GE(ro_ms, 1800) << "read-only before the grace period";
  EXPECT_LT(ro_ms, 3500) << "read-only too late";
  // srvr and mntr report the read-only role (ZooKeeper's ReadOnlyZooKeeperServer state).
  const std::string ro_srvr = four_lw(ens.client_port(survivor), "srvr");
  const std::string ro_mntr = four_lw(ens.client_port(survivor), "mntr");
  std::printf("  survivor %d says isro=ro %.0f ms after the others died; srvr: '%s'; mntr: '%s'\n",
              survivor, ro_ms, mode_line(ro_srvr).c_str(),
              parse_mntr(ro_mntr)["zk_server_state"].c_str());
  EXPECT_NE(ro_srvr.find("Mode: read-only\n"), std::string::npos) << "srvr:\n" << ro_srvr;
  EXPECT_NE(ro_mntr.find("zk_server_state\tread-only\n"), std::string::npos) << "mntr:\n"
                                                                             << ro_mntr;

  {
    // A client that allows read-only servers connects, reads, and may not write.
    const auto t0 = Clock::now();
    Zk ro(ens.host_port(survivor), 4000, ZOO_READONLY);
    ASSERT_TRUE(ro.wait_state(ZOO_READONLY_STATE, 10s))
        << "no read-only session; state " << ro.state();
    std::printf("  read-only client connected in %.0f ms\n", ms_since(t0));
    EXPECT_EQ(data_of(ro, "/ro"), std::optional<std::string>("before"));
    EXPECT_EQ(zoo_create(ro.zh(), "/ro/new", "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0),
              ZNOTREADONLY);
    EXPECT_EQ(zoo_set(ro.zh(), "/ro", "x", 1, -1), ZNOTREADONLY);

    // A client that does not allow them gets no session.
    Zk rw(ens.host_port(survivor), 4000);
    EXPECT_FALSE(rw.wait_connected(3s)) << "a read-write session on a read-only server";
    EXPECT_EQ(rw.connects(), 0);
  }

  for (int i : others) ASSERT_TRUE(ens.restart(i));
  const auto restarted = Clock::now();
  for (int i : others)
    EXPECT_TRUE(ens.wait_serving(i, Clock::now() + 60s)) << "restarted member " << i;
  const double others_ms = ms_since(restarted);
  EXPECT_TRUE(wait_until(30s, [&] { return four_lw(ens.client_port(survivor), "isro") == "rw"; }))
      << "the survivor stays read-only";
  const double rw_ms = ms_since(restarted);
  EXPECT_TRUE(ens.wait_serving(survivor, Clock::now() + 30s));
  EXPECT_GE(ens.wait_for_quorum(Clock::now() + 30s), 0) << ens.describe();
  std::printf(
      "  others restarted: they serve after %.0f ms; the survivor says isro=rw after %.0f ms, "
      "and '%s'\n",
      others_ms, rw_ms, ens.mode(survivor).c_str());
  Zk rw(ens.host_port(survivor), kLongSessionMs);
  ASSERT_TRUE(rw.wait_connected(30s));
  EXPECT_EQ(zoo_create(rw.zh(), "/ro/after", "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0), ZOK);
  EXPECT_EQ(data_of(rw, "/ro"), std::optional<std::string>("before"));
  expect_same_everywhere(ens, "/ro", {"/ro", "/ro/after", "/ro/new"});
}

}  // namespace
}  // namespace corral::e2e

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  corral::e2e::g_impl = corral::e2e::impl_from_env();
  std::printf("ensemble_roles_test impl=%s\n", corral::e2e::impl_name(corral::e2e::g_impl));
  std::fflush(stdout);
  return RUN_ALL_TESTS();
}
