// End to end crash test: clients write through Apache ZooKeeper's C client while a real
// corral-server process is killed with SIGKILL at random moments, many times in a loop.
// After every restart (same dataDir, same port) a fresh client checks that
// - every acknowledged create is there with its exact data, unless an acknowledged delete
//   of it came later; every acknowledged delete is gone;
// - a create (or multi) whose outcome is unknown (in flight at the kill) is either there with
//   its exact data or absent; a multi's nodes are all there or all absent;
// - each thread's counter node holds a value that thread actually sent, at least the last
//   one acknowledged;
// - the ops of one session that took effect are a prefix of what it sent (FIFO order and a
//   log that loses only a suffix);
// - what one restart showed stays so after every later restart, and nothing unexpected
//   appears;
// - an ephemeral of a session from before the kill is there after the restart (the session is
//   recovered) and goes away once the session expires.
//
// Layout: /crash/rR is round R's parent; thread T creates /crash/rR/tT-iI (single creates) and
// /crash/rR/tT-iI-mK (a multi's creates, 2 or 3, plus maybe a set of its counter), deletes its
// own acknowledged single creates, and sets /crash/counter-tT to increasing numbers. Each
// round also has an ephemeral /crash/eph-rR. A round: connect, write as fast as the client
// goes (at most 64 writes outstanding per thread), SIGKILL after a seeded 20-300 ms (sometimes
// a second SIGKILL while the server restarts), restart, verify; at the end every node is read
// once more and the recovered ephemerals must expire.
//
// Environment: CRASH_ROUNDS (default 20), CRASH_SEED (default random), CRASH_KEEP=1 keeps the
// temp directory (server log, database, client log) for a look afterwards.
//
// SIGKILL keeps what the process wrote to the page cache, so this checks acknowledgement
// order and recovery, not fsync itself (that would need a power cut).
#include <signal.h>
#include <sys/wait.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace {

using corral::e2e::ServerProcess;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kStartDeadline = 20s;
constexpr auto kConnectDeadline = 10s;
constexpr auto kReadDeadline = 60s;
constexpr int kSnapCount = 200;
constexpr int kTickMs = 1000;
constexpr int kEphemeralTimeoutMs = 4000;  // the server's minimum with tickTime=1000 is 2000
constexpr int kWriterTimeoutMs = 10000;
constexpr int kVerifierTimeoutMs = 10000;
constexpr int kMaxThreads = 3;
constexpr int kWindow = 64;  // async writes a thread may have outstanding

// ---- Violations ----

std::vector<std::string> g_violations;

void violation(const std::string& what) {
  if (g_violations.size() < 50) std::fprintf(stderr, "VIOLATION: %s\n", what.c_str());
  g_violations.push_back(what);
}

std::string rc_name(int rc) { return std::to_string(rc) + " (" + zerror(rc) + ")"; }

// ---- The server process ----

ServerProcess* g_server = nullptr;

void on_fatal_signal(int sig) {
  if (g_server && g_server->pid() > 0) ::kill(g_server->pid(), SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

// ---- A C client session ----

class Zk {
 public:
  Zk(const std::string& hosts, int timeout_ms) {
    zh_ = zookeeper_init(hosts.c_str(), &on_watch, timeout_ms, nullptr, this, 0);
  }
  ~Zk() { close(); }
  Zk(const Zk&) = delete;
  Zk& operator=(const Zk&) = delete;

  bool wait_connected(std::chrono::milliseconds timeout) {
    if (!zh_) return false;
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return state_ == ZOO_CONNECTED_STATE; });
  }
  int64_t session_id() const { return zh_ ? zoo_client_id(zh_)->client_id : 0; }
  zhandle_t* zh() const { return zh_; }
  void close() {
    if (zh_) zookeeper_close(zh_);
    zh_ = nullptr;
  }

 private:
  static void on_watch(zhandle_t*, int type, int state, const char*, void* ctx) {
    auto* self = static_cast<Zk*>(ctx);
    if (type != ZOO_SESSION_EVENT) return;
    std::lock_guard lock(self->mu_);
    self->state_ = state;
    self->cv_.notify_all();
  }

  zhandle_t* zh_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;
};

/// Children of `path` (sorted), or nullopt with the error code in `rc`.
std::optional<std::set<std::string>> children(zhandle_t* zh, const std::string& path, int& rc) {
  String_vector v{};
  rc = zoo_get_children(zh, path.c_str(), 0, &v);
  if (rc != ZOK) return std::nullopt;
  std::set<std::string> out;
  for (int i = 0; i < v.count; ++i) out.insert(v.data[i]);
  deallocate_String_vector(&v);
  return out;
}

/// The data of many nodes, read with pipelined async gets: nullopt where the node does not
/// exist. Returns false (and says why) if a read fails otherwise.
bool get_many(zhandle_t* zh, const std::vector<std::string>& paths,
              std::vector<std::optional<std::string>>& out) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    size_t done = 0;
    int bad_rc = ZOK;
    std::vector<std::optional<std::string>>* out;
  };
  struct Slot {
    Shared* shared;
    size_t index;
  };
  Shared shared;
  shared.out = &out;
  out.assign(paths.size(), std::nullopt);
  std::vector<Slot> slots(paths.size());
  auto completion = [](int rc, const char* value, int len, const Stat*, const void* data) {
    auto* slot = static_cast<Slot*>(const_cast<void*>(data));
    Shared* s = slot->shared;
    std::lock_guard lock(s->mu);
    if (rc == ZOK)
      (*s->out)[slot->index] =
          value ? std::string(value, static_cast<size_t>(std::max(len, 0))) : std::string();
    else if (rc != ZNONODE && s->bad_rc == ZOK)
      s->bad_rc = rc;
    ++s->done;
    s->cv.notify_all();
  };
  const auto deadline = Clock::now() + kReadDeadline;
  size_t issued = 0;
  int issue_rc = ZOK;
  while (issued < paths.size()) {
    {
      std::unique_lock lock(shared.mu);
      if (!shared.cv.wait_until(lock, deadline, [&] { return issued - shared.done < 512; })) break;
    }
    slots[issued] = Slot{&shared, issued};
    issue_rc = zoo_aget(zh, paths[issued].c_str(), 0, completion, &slots[issued]);
    if (issue_rc != ZOK) break;
    ++issued;
  }
  std::unique_lock lock(shared.mu);
  bool all = shared.cv.wait_until(lock, deadline, [&] { return shared.done == issued; });
  if (!all) {
    // The completions still point into `slots`: wait for them however long it takes.
    std::fprintf(stderr, "verifier reads are slow (%zu of %zu done)\n", shared.done, issued);
    shared.cv.wait(lock, [&] { return shared.done == issued; });
  }
  if (issue_rc != ZOK || issued < paths.size()) {
    violation("verifier could not issue reads: " + rc_name(issue_rc));
    return false;
  }
  if (shared.bad_rc != ZOK) {
    violation("verifier read failed: " + rc_name(shared.bad_rc));
    return false;
  }
  return true;
}

// ---- The writers' records ----

enum class Kind { kCreate, kSet, kDelete, kMulti };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kCreate:
      return "create";
    case Kind::kSet:
      return "set";
    case Kind::kDelete:
      return "delete";
    case Kind::kMulti:
      return "multi";
  }
  return "?";
}

constexpr int kPendingRc = 1;  // no ZooKeeper code is positive

enum class Outcome { kAcked, kFailed, kUnknown };

/// One async write of a writer thread.
struct OpRec {
  Kind kind = Kind::kCreate;
  size_t seq = 0;                   // issue order within the thread
  std::vector<std::string> names;   // created/deleted children of the round node
  std::vector<std::string> values;  // data of the created children
  int64_t counter_value = -1;       // value written to the thread's counter, or -1
  size_t target = 0;                // delete: seq of the create it deletes
  std::atomic<int> rc{kPendingRc};
  struct Writer* writer = nullptr;
  // multi storage that must live until the completion
  std::string counter_data;
  std::vector<zoo_op_t> ops;
  std::vector<zoo_op_result_t> results;
  std::vector<std::array<char, 256>> path_bufs;
  Stat stat{};

  Outcome outcome() const {
    int r = rc.load();
    if (r == ZOK) return Outcome::kAcked;
    if (r == kPendingRc || r == ZCONNECTIONLOSS || r == ZOPERATIONTIMEOUT || r == ZCLOSING ||
        r == ZSESSIONEXPIRED || r == ZSESSIONMOVED || r == ZINVALIDSTATE || r == ZSYSTEMERROR)
      return Outcome::kUnknown;
    return Outcome::kFailed;
  }
};

struct Writer {
  int index = 0;
  std::string base;  // /crash/rR
  std::string counter_path;
  std::unique_ptr<Zk> zk;
  std::mt19937_64 rng;
  int64_t next_value = 0;  // next counter value to send
  std::vector<std::unique_ptr<OpRec>> ops;
  std::mutex mu;
  std::condition_variable cv;
  int inflight = 0;
  std::vector<size_t> deletable;  // seqs of acknowledged single creates not yet deleted
  std::atomic<bool>* stop = nullptr;
  int not_sent = 0;

  void done(OpRec* op, int rc) {
    op->rc.store(rc);
    std::lock_guard lock(mu);
    --inflight;
    if (rc == ZOK && op->kind == Kind::kCreate) deletable.push_back(op->seq);
    cv.notify_all();
  }

  static void on_void(int rc, const void* data) {
    auto* op = static_cast<OpRec*>(const_cast<void*>(data));
    op->writer->done(op, rc);
  }
  static void on_string(int rc, const char*, const void* data) { on_void(rc, data); }
  static void on_stat(int rc, const Stat*, const void* data) { on_void(rc, data); }

  std::string random_value(const std::string& name) {
    static const char hex[] = "0123456789abcdef";
    std::string v = "v-" + base + "/" + name + "-";
    size_t len = rng() % 64;
    for (size_t i = 0; i < len; ++i) v += hex[rng() % 16];
    return v;
  }

  void run() {
    size_t i = 0;
    while (!stop->load()) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, 5ms, [&] { return inflight < kWindow; });
        if (inflight >= kWindow) continue;
      }
      auto op = std::make_unique<OpRec>();
      op->writer = this;
      op->seq = ops.size();
      unsigned roll = static_cast<unsigned>(rng() % 100);
      std::optional<size_t> victim;
      if (roll >= 45 && roll < 60) {
        std::lock_guard lock(mu);
        if (!deletable.empty()) {
          size_t k = rng() % deletable.size();
          victim = deletable[k];
          deletable[k] = deletable.back();
          deletable.pop_back();
        }
      }
      std::string name = "t" + std::to_string(index) + "-i" + std::to_string(i++);
      int rc;
      {
        std::lock_guard lock(mu);
        ++inflight;
      }
      OpRec* p = op.get();
      if (roll < 45 || (roll < 60 && !victim)) {
        p->kind = Kind::kCreate;
        p->names = {name};
        p->values = {random_value(name)};
        rc = zoo_acreate(zk->zh(), (base + "/" + name).c_str(), p->values[0].data(),
                         static_cast<int>(p->values[0].size()), &ZOO_OPEN_ACL_UNSAFE, 0, &on_string,
                         p);
      } else if (roll < 60) {
        p->kind = Kind::kDelete;
        p->target = *victim;
        p->names = ops[*victim]->names;
        rc = zoo_adelete(zk->zh(), (base + "/" + p->names[0]).c_str(), -1, &on_void, p);
      } else if (roll < 80) {
        p->kind = Kind::kSet;
        p->counter_value = next_value++;
        p->counter_data = std::to_string(p->counter_value);
        rc = zoo_aset(zk->zh(), counter_path.c_str(), p->counter_data.data(),
                      static_cast<int>(p->counter_data.size()), -1, &on_stat, p);
      } else {
        // 2 or 3 creates, and half the time a set of the counter: 2 to 4 ops.
        p->kind = Kind::kMulti;
        int creates = 2 + static_cast<int>(rng() % 2);
        bool with_set = rng() % 2 == 0;
        int count = creates + (with_set ? 1 : 0);
        p->ops.resize(static_cast<size_t>(count));
        p->results.resize(static_cast<size_t>(count));
        p->path_bufs.resize(static_cast<size_t>(creates));
        std::vector<std::string> full(static_cast<size_t>(creates));
        for (int k = 0; k < creates; ++k) {
          p->names.push_back(name + "-m" + std::to_string(k));
          p->values.push_back(random_value(p->names.back()));
        }
        for (int k = 0; k < creates; ++k) {
          auto u = static_cast<size_t>(k);
          full[u] = base + "/" + p->names[u];
          zoo_create_op_init(&p->ops[u], full[u].c_str(), p->values[u].data(),
                             static_cast<int>(p->values[u].size()), &ZOO_OPEN_ACL_UNSAFE, 0,
                             p->path_bufs[u].data(), static_cast<int>(p->path_bufs[u].size()));
        }
        if (with_set) {
          p->counter_value = next_value++;
          p->counter_data = std::to_string(p->counter_value);
          zoo_set_op_init(&p->ops.back(), counter_path.c_str(), p->counter_data.data(),
                          static_cast<int>(p->counter_data.size()), -1, &p->stat);
        }
        // zoo_amulti serializes the request before it returns, so `full` may go then.
        rc = zoo_amulti(zk->zh(), count, p->ops.data(), p->results.data(), &on_void, p);
      }
      if (rc != ZOK) {
        // Not queued: no completion will come, and the server never saw it.
        std::lock_guard lock(mu);
        --inflight;
        ++not_sent;
        if (victim) deletable.push_back(*victim);
        if (p->counter_value >= 0) --next_value;
        break;
      }
      ops.push_back(std::move(op));
    }
  }
};

// ---- What the verifier expects ----

/// What one restart showed of a round: its children and their data. Fixed from then on.
struct RoundState {
  std::map<std::string, std::string> nodes;
};

struct Counter {
  std::unordered_set<int64_t> sent{0};
  int64_t floor = 0;  // the value is at least this (acknowledged or seen after a restart)
  int64_t next = 1;   // next value to send
};

struct Ephemeral {
  std::string path;
  int64_t owner = 0;
};

struct Stats {
  int rounds = 0;
  int restarts = 0;
  int double_kills = 0;
  int early_deaths = 0;
  uint64_t issued = 0;
  uint64_t acked = 0;
  uint64_t unknown = 0;
  uint64_t unknown_applied = 0;
  uint64_t failed = 0;
  uint64_t not_sent = 0;
  uint64_t verified = 0;  // individual checks that passed
  uint64_t by_kind_acked[4] = {0, 0, 0, 0};
};

struct Config {
  uint64_t seed = 0;
  int rounds = 20;
  bool keep = false;
};

class CrashTest {
 public:
  explicit CrashTest(Config cfg) : cfg_(cfg), rng_(cfg.seed) {}

  int run() {
    server_ = std::make_unique<ServerProcess>(
        "corral-crash",
        ServerProcess::Options{.output = ServerProcess::Output::kLogAppend, .tick_ms = kTickMs});
    if (cfg_.keep) server_->keep_dir();
    g_server = server_.get();
    const uint16_t port = corral::e2e::free_port();
    if (server_->dir().empty() || port == 0) {
      std::fprintf(stderr, "cannot create the temp dir or find a free port\n");
      return 2;
    }
    server_->configure(port, "snapCount=" + std::to_string(kSnapCount) +
                                 "\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n");
    client_log_ = std::fopen((server_->dir() / "client.log").c_str(), "w");
    if (client_log_) zoo_set_log_stream(client_log_);
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
    std::printf("server dir %s, port %u, snapCount=%d\n", server_->dir().c_str(), server_->port(),
                kSnapCount);
    const auto started = Clock::now();
    bool ok = start_server() && setup();
    if (!ok) violation("setup failed");
    for (int r = 0; ok && r < cfg_.rounds; ++r) {
      ok = round(r);
      std::fflush(stdout);
    }
    if (ok) final_checks();
    server_->kill_now();
    zoo_set_log_stream(stderr);
    if (client_log_) std::fclose(client_log_);
    auto secs = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf(
        "crash_test: rounds=%d restarts=%d double_kills=%d issued=%llu acknowledged=%llu "
        "(create %llu, set %llu, delete %llu, multi %llu) unknown_outcome=%llu "
        "(applied %llu) failed=%llu not_sent=%llu checks_passed=%llu violations=%zu "
        "time=%.1fs\n",
        stats_.rounds, stats_.restarts, stats_.double_kills,
        static_cast<unsigned long long>(stats_.issued),
        static_cast<unsigned long long>(stats_.acked),
        static_cast<unsigned long long>(stats_.by_kind_acked[0]),
        static_cast<unsigned long long>(stats_.by_kind_acked[1]),
        static_cast<unsigned long long>(stats_.by_kind_acked[2]),
        static_cast<unsigned long long>(stats_.by_kind_acked[3]),
        static_cast<unsigned long long>(stats_.unknown),
        static_cast<unsigned long long>(stats_.unknown_applied),
        static_cast<unsigned long long>(stats_.failed),
        static_cast<unsigned long long>(stats_.not_sent),
        static_cast<unsigned long long>(stats_.verified), g_violations.size(), secs);
    if (!g_violations.empty() || !ok) {
      std::printf("crash_test FAILED: %zu violations; seed=%llu (reproduce with CRASH_SEED=%llu)\n",
                  g_violations.size(), static_cast<unsigned long long>(cfg_.seed),
                  static_cast<unsigned long long>(cfg_.seed));
      if (cfg_.keep) std::printf("kept %s\n", server_->dir().c_str());
      std::string log = server_->log();
      if (log.size() > 6000) log = "...\n" + log.substr(log.size() - 6000);
      std::printf("server log (tail):\n%s\n", log.c_str());
      g_server = nullptr;
      return 1;
    }
    std::printf("crash_test PASSED seed=%llu\n", static_cast<unsigned long long>(cfg_.seed));
    g_server = nullptr;
    return 0;
  }

 private:
  /// Starts the server and waits until it answers "ruok"; false (after saying why) if it
  /// exits or does not answer in time. If it could not listen because the port was still
  /// taken, tries again until the deadline.
  bool start_server() {
    const auto deadline = Clock::now() + kStartDeadline;
    auto answers_ruok = [&] {
      auto attempt = std::min(deadline, Clock::now() + 200ms) - Clock::now();
      return corral::e2e::four_letter_word(
                 server_->port(), "ruok",
                 std::chrono::duration_cast<std::chrono::milliseconds>(attempt)) == "imok";
    };
    while (Clock::now() < deadline) {
      if (!server_->launch()) return false;
      if (server_->wait_until(answers_ruok, deadline - Clock::now(), 5ms) ==
          ServerProcess::Wait::kReady)
        return true;
      if (server_->running()) break;  // deadline passed
      if (server_->port_was_taken()) {
        std::this_thread::sleep_for(50ms);
        continue;
      }
      std::fprintf(stderr, "corral-server ended (%s) during start:\n%s\n",
                   corral::e2e::status_text(server_->exit_status()).c_str(),
                   server_->output_since_launch().c_str());
      return false;
    }
    std::fprintf(stderr, "corral-server did not answer ruok on port %u within %lld s\n",
                 server_->port(), static_cast<long long>(kStartDeadline.count()));
    server_->kill_now();
    return false;
  }

  /// Starts the server and kills it after `delay` whatever it is doing (reading its database,
  /// recovering, serving). False if it had exited by itself with an error before.
  bool launch_and_kill(std::chrono::milliseconds delay) {
    if (!server_->launch()) return false;
    std::this_thread::sleep_for(delay);  // a random moment, on purpose
    if (server_->kill_now()) return true;
    const int status = server_->exit_status();
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean)
      std::fprintf(stderr, "corral-server ended (%s) while starting:\n%s\n",
                   corral::e2e::status_text(status).c_str(),
                   server_->output_since_launch().c_str());
    return clean;
  }

  std::unique_ptr<Zk> connect(int timeout_ms) {
    auto zk = std::make_unique<Zk>(server_->host_port(), timeout_ms);
    if (!zk->wait_connected(kConnectDeadline)) {
      violation("a client could not connect within " + std::to_string(kConnectDeadline.count()) +
                " s");
      return nullptr;
    }
    return zk;
  }

  bool create_sync(zhandle_t* zh, const std::string& path, const std::string& value, int mode) {
    int rc = zoo_create(zh, path.c_str(), value.data(), static_cast<int>(value.size()),
                        &ZOO_OPEN_ACL_UNSAFE, mode, nullptr, 0);
    if (rc != ZOK) violation("create " + path + " failed: " + rc_name(rc));
    return rc == ZOK;
  }

  bool setup() {
    auto zk = connect(kVerifierTimeoutMs);
    if (!zk) return false;
    bool ok = create_sync(zk->zh(), "/crash", "", 0) && create_sync(zk->zh(), "/crash/r0", "", 0);
    for (int t = 0; ok && t < kMaxThreads; ++t) ok = create_sync(zk->zh(), counter_path(t), "0", 0);
    return ok;
  }

  static std::string counter_path(int t) { return "/crash/counter-t" + std::to_string(t); }
  static std::string round_path(int r) { return "/crash/r" + std::to_string(r); }

  bool round(int r) {
    const std::string base = round_path(r);
    int nthreads = 2 + static_cast<int>(rng_() % 2);
    auto delay = std::chrono::milliseconds(20 + rng_() % 281);
    bool double_kill = rng_() % 8 == 0;
    auto second_delay = std::chrono::milliseconds(rng_() % 80);

    // A session with an ephemeral that must survive the kill (as long as the session).
    auto eph = connect(kEphemeralTimeoutMs);
    if (!eph) return false;
    Ephemeral e{"/crash/eph-r" + std::to_string(r), eph->session_id()};
    if (!create_sync(eph->zh(), e.path, "e", ZOO_EPHEMERAL)) return false;

    std::atomic<bool> stop{false};
    std::vector<std::unique_ptr<Writer>> writers;
    for (int t = 0; t < nthreads; ++t) {
      auto w = std::make_unique<Writer>();
      w->index = t;
      w->base = base;
      w->counter_path = counter_path(t);
      w->rng.seed(cfg_.seed ^ (static_cast<uint64_t>(r) * 1000003u + static_cast<uint64_t>(t) + 1) *
                                  0x9e3779b97f4a7c15ull);
      w->next_value = counters_[t].next;
      w->stop = &stop;
      w->zk = connect(kWriterTimeoutMs);
      if (!w->zk) return false;
      writers.push_back(std::move(w));
    }
    std::vector<std::thread> threads;
    for (auto& w : writers) threads.emplace_back([p = w.get()] { p->run(); });
    std::this_thread::sleep_for(delay);  // the random moment of the kill, not a wait for state
    stop = true;  // no new writes after the kill; those in flight stay in flight
    bool was_running = server_->kill_now();
    for (auto& t : threads) t.join();
    // Closing while the server is down sends nothing: no closeSession is logged, and every
    // outstanding completion runs (with a connection error) before zookeeper_close returns.
    for (auto& w : writers) w->zk->close();
    eph->close();

    if (!was_running) {
      ++stats_.early_deaths;
      violation("round " + std::to_string(r) + ": the server had died before the kill");
    }
    if (double_kill) {
      // Start it and kill it again without waiting: most likely while it recovers.
      ++stats_.double_kills;
      if (!launch_and_kill(second_delay)) {
        violation("round " + std::to_string(r) + ": the server exited by itself while starting");
        return false;
      }
    }
    if (!start_server()) {
      violation("round " + std::to_string(r) + ": the server failed to restart");
      return false;
    }
    ++stats_.restarts;

    uint64_t issued = 0, acked = 0, unknown = 0;
    for (auto& w : writers) {
      issued += w->ops.size();
      stats_.not_sent += static_cast<uint64_t>(w->not_sent);
      for (auto& op : w->ops) {
        if (op->outcome() == Outcome::kAcked) ++acked;
        if (op->outcome() == Outcome::kUnknown) ++unknown;
      }
    }
    stats_.issued += issued;
    bool ok = verify(r, writers, e);
    for (auto& w : writers) counters_[w->index].next = w->next_value;
    ++stats_.rounds;
    std::printf(
        "round %d: threads=%d kill after %lld ms%s: %llu writes issued, %llu acknowledged, %llu "
        "unknown%s\n",
        r, nthreads, static_cast<long long>(delay.count()),
        double_kill ? " (+ kill while restarting)" : "", static_cast<unsigned long long>(issued),
        static_cast<unsigned long long>(acked), static_cast<unsigned long long>(unknown),
        ok ? "" : ", FAILED");
    return ok;
  }

  bool verify(int r, std::vector<std::unique_ptr<Writer>>& writers, const Ephemeral& eph) {
    auto zk = connect(kVerifierTimeoutMs);
    if (!zk) return false;
    zhandle_t* zh = zk->zh();
    const std::string rs = "round " + std::to_string(r) + ": ";
    size_t violations_before = g_violations.size();

    // The ephemeral first: its session was recovered a moment ago and must still be there.
    Stat st{};
    int rc = zoo_exists(zh, eph.path.c_str(), 0, &st);
    if (rc != ZOK)
      violation(rs + "ephemeral " + eph.path + " of the live session is gone: " + rc_name(rc));
    else if (st.ephemeralOwner != eph.owner)
      violation(rs + "ephemeral " + eph.path + " has the wrong owner");
    else
      ++stats_.verified;
    ephemerals_.push_back(eph);

    // Earlier rounds: exactly what the earlier restarts showed.
    for (int q = 0; q < r; ++q) {
      auto now = children(zh, round_path(q), rc);
      if (!now) {
        violation(rs + "cannot list " + round_path(q) + ": " + rc_name(rc));
        continue;
      }
      std::set<std::string> before;
      for (auto& [name, value] : rounds_[static_cast<size_t>(q)].nodes) before.insert(name);
      if (*now != before) {
        for (auto& n : before)
          if (!now->count(n)) violation(rs + round_path(q) + "/" + n + " vanished after a restart");
        for (auto& n : *now)
          if (!before.count(n))
            violation(rs + round_path(q) + "/" + n + " appeared after a restart");
      } else {
        stats_.verified += before.size();
      }
    }

    // This round.
    RoundState state;
    auto names = children(zh, round_path(r), rc);
    if (!names) {
      violation(rs + "cannot list " + round_path(r) + ": " + rc_name(rc));
      return false;
    }
    std::vector<std::string> paths;
    std::vector<std::string> list(names->begin(), names->end());
    for (auto& n : list) paths.push_back(round_path(r) + "/" + n);
    std::vector<std::optional<std::string>> data;
    if (!get_many(zh, paths, data)) return false;
    for (size_t i = 0; i < list.size(); ++i) {
      if (data[i])
        state.nodes[list[i]] = *data[i];
      else  // nothing writes while the verifier reads
        violation(rs + paths[i] + " was listed but then did not exist");
    }

    std::vector<std::optional<int64_t>> counter_now(kMaxThreads);
    for (int t = 0; t < kMaxThreads; ++t) {
      char buf[64];
      int len = sizeof buf;
      rc = zoo_get(zh, counter_path(t).c_str(), 0, buf, &len, nullptr);
      if (rc != ZOK) {
        violation(rs + counter_path(t) + " cannot be read: " + rc_name(rc));
        continue;
      }
      std::string v(buf, static_cast<size_t>(std::max(len, 0)));
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') {
        violation(rs + counter_path(t) + " holds '" + v + "', not a number");
        continue;
      }
      counter_now[static_cast<size_t>(t)] = n;
    }

    std::set<std::string> expected_names;
    for (auto& w : writers) check_writer(rs, *w, state, counter_now, expected_names);
    for (auto& [name, value] : state.nodes)
      if (!expected_names.count(name))
        violation(rs + round_path(r) + "/" + name + " was never created by anyone");

    for (int t = 0; t < kMaxThreads; ++t) {
      auto& c = counters_[t];
      auto now = counter_now[static_cast<size_t>(t)];
      if (!now) continue;
      // Values sent this round.
      for (auto& w : writers)
        if (w->index == t)
          for (auto& op : w->ops)
            if (op->counter_value >= 0) c.sent.insert(op->counter_value);
      if (!c.sent.count(*now))
        violation(rs + counter_path(t) + " = " + std::to_string(*now) + " was never sent");
      else if (*now < c.floor)
        violation(rs + counter_path(t) + " = " + std::to_string(*now) + " but at least " +
                  std::to_string(c.floor) + " was acknowledged or seen before");
      else
        ++stats_.verified;
      c.floor = std::max(c.floor, *now);
    }

    // The root: counters, rounds, ephemerals (which may have expired already), nothing else.
    auto root = children(zh, "/crash", rc);
    if (!root) {
      violation(rs + "cannot list /crash: " + rc_name(rc));
    } else {
      std::set<std::string> allowed;
      for (int t = 0; t < kMaxThreads; ++t) allowed.insert("counter-t" + std::to_string(t));
      for (int q = 0; q <= r; ++q) allowed.insert("r" + std::to_string(q));
      for (auto& e : ephemerals_) allowed.insert(e.path.substr(std::strlen("/crash/")));
      for (auto& n : *root)
        if (!allowed.count(n)) violation(rs + "/crash/" + n + " should not exist");
      for (int t = 0; t < kMaxThreads; ++t)
        if (!root->count("counter-t" + std::to_string(t)))
          violation(rs + counter_path(t) + " is gone");
      for (int q = 0; q <= r; ++q)
        if (!root->count("r" + std::to_string(q))) violation(rs + round_path(q) + " is gone");
    }
    // Ephemerals of older sessions may still be there (their sessions are recovered too),
    // but only with their own owner.
    for (auto& e : ephemerals_) {
      rc = zoo_exists(zh, e.path.c_str(), 0, &st);
      if (rc == ZOK && st.ephemeralOwner != e.owner)
        violation(rs + e.path + " has the wrong owner");
    }

    rounds_.push_back(std::move(state));
    bool ok = g_violations.size() == violations_before;
    if (ok && r + 1 < cfg_.rounds) ok = create_sync(zh, round_path(r + 1), "", 0);
    return ok;
  }

  /// Checks one writer's ops against what the restart showed, and lists the names it created.
  void check_writer(const std::string& rs, Writer& w, const RoundState& state,
                    const std::vector<std::optional<int64_t>>& counter_now,
                    std::set<std::string>& expected_names) {
    const std::string who = rs + "thread " + std::to_string(w.index) + " ";
    // Deletes by the seq of their create.
    std::map<size_t, OpRec*> delete_of;
    for (auto& op : w.ops)
      if (op->kind == Kind::kDelete) delete_of[op->target] = op.get();
    auto counter = counter_now[static_cast<size_t>(w.index)];
    // Whether each op took effect, as far as one can tell: -1 unknowable.
    std::vector<int> applied(w.ops.size(), -1);
    for (auto& opp : w.ops) {
      OpRec& op = *opp;
      Outcome out = op.outcome();
      if (out == Outcome::kAcked) {
        ++stats_.acked;
        ++stats_.by_kind_acked[static_cast<int>(op.kind)];
      } else if (out == Outcome::kUnknown) {
        ++stats_.unknown;
      } else {
        ++stats_.failed;
        violation(who + kind_name(op.kind) + " #" + std::to_string(op.seq) + " (" +
                  (op.names.empty() ? std::string("counter") : op.names[0]) +
                  ") failed: " + rc_name(op.rc.load()));
      }
      std::string desc = who + kind_name(op.kind) + " #" + std::to_string(op.seq);
      switch (op.kind) {
        case Kind::kCreate: {
          const std::string& n = op.names[0];
          expected_names.insert(n);
          auto it = state.nodes.find(n);
          bool present = it != state.nodes.end();
          if (present && it->second != op.values[0]) {
            violation(desc + ": " + n + " has data '" + it->second + "', sent '" + op.values[0] +
                      "'");
          }
          OpRec* del = delete_of.count(op.seq) ? delete_of[op.seq] : nullptr;
          Outcome del_out = del ? del->outcome() : Outcome::kFailed;
          if (out == Outcome::kAcked) {
            applied[op.seq] = 1;
            if (del_out == Outcome::kAcked) {
              if (present)
                violation(desc + ": " + n + " still exists after an acknowledged delete");
            } else if (del_out == Outcome::kFailed) {
              if (!present)
                violation(desc + ": acknowledged " + n + " is lost");
              else
                ++stats_.verified;
            }
            if (del) applied[del->seq] = present ? 0 : 1;
            if (del && del_out == Outcome::kAcked && !present) ++stats_.verified;
          } else if (out == Outcome::kUnknown) {
            applied[op.seq] = present ? 1 : 0;
            if (present) ++stats_.unknown_applied;
            ++stats_.verified;
          } else {
            applied[op.seq] = 0;
            if (present) violation(desc + ": failed create of " + n + " took effect");
          }
          break;
        }
        case Kind::kMulti: {
          size_t there = 0;
          for (size_t k = 0; k < op.names.size(); ++k) {
            expected_names.insert(op.names[k]);
            auto it = state.nodes.find(op.names[k]);
            if (it == state.nodes.end()) continue;
            ++there;
            if (it->second != op.values[k])
              violation(desc + ": " + op.names[k] + " has data '" + it->second + "', sent '" +
                        op.values[k] + "'");
          }
          bool all = there == op.names.size();
          if (there != 0 && !all) {
            violation(desc + ": half applied: " + std::to_string(there) + " of " +
                      std::to_string(op.names.size()) + " nodes exist (" + op.names[0] + "...)");
          } else if (out == Outcome::kAcked && !all) {
            violation(desc + ": acknowledged multi is lost (" + op.names[0] + "...)");
          } else if (out == Outcome::kFailed && there != 0) {
            violation(desc + ": failed multi took effect (" + op.names[0] + "...)");
          } else {
            ++stats_.verified;
          }
          applied[op.seq] = all ? 1 : 0;
          if (out == Outcome::kUnknown && all) ++stats_.unknown_applied;
          if (op.counter_value >= 0 && counter) {
            if (all && *counter < op.counter_value)
              violation(desc + ": applied, but the counter " + std::to_string(*counter) +
                        " is below its set " + std::to_string(op.counter_value));
            if (!all && *counter == op.counter_value)
              violation(desc + ": the counter holds its value " + std::to_string(op.counter_value) +
                        " but its creates are absent");
          }
          break;
        }
        case Kind::kSet:
          if (counter) {
            bool took = *counter >= op.counter_value;
            applied[op.seq] = took ? 1 : 0;
            if (out == Outcome::kAcked && !took)
              violation(desc + ": acknowledged set " + std::to_string(op.counter_value) +
                        " is lost (counter " + std::to_string(*counter) + ")");
            else if (out == Outcome::kAcked)
              ++stats_.verified;
            if (out == Outcome::kUnknown && took) ++stats_.unknown_applied;
          }
          break;
        case Kind::kDelete: {
          // Checked with its create; only what the create cannot tell is left.
          if (out == Outcome::kUnknown && applied[op.seq] == 1) ++stats_.unknown_applied;
          break;
        }
      }
    }
    // What took effect must be a prefix of what the session sent.
    size_t last_applied = 0;
    bool any = false;
    for (size_t i = 0; i < applied.size(); ++i)
      if (applied[i] == 1) last_applied = i, any = true;
    if (any) {
      for (size_t i = 0; i < last_applied; ++i) {
        if (applied[i] == 0 && w.ops[i]->outcome() != Outcome::kFailed) {
          violation(who + kind_name(w.ops[i]->kind) + " #" + std::to_string(i) +
                    " did not take effect, but the later " + kind_name(w.ops[last_applied]->kind) +
                    " #" + std::to_string(last_applied) + " did (session order broken)");
          break;
        }
      }
    }
  }

  void final_checks() {
    auto zk = connect(kVerifierTimeoutMs);
    if (!zk) return;
    zhandle_t* zh = zk->zh();
    // Every node of every round, with its data, once more.
    std::vector<std::string> paths;
    std::vector<const std::string*> want;
    for (size_t q = 0; q < rounds_.size(); ++q)
      for (auto& [name, value] : rounds_[q].nodes) {
        paths.push_back(round_path(static_cast<int>(q)) + "/" + name);
        want.push_back(&value);
      }
    std::vector<std::optional<std::string>> data;
    if (get_many(zh, paths, data)) {
      for (size_t i = 0; i < paths.size(); ++i) {
        if (!data[i])
          violation("final: " + paths[i] + " is gone");
        else if (*data[i] != *want[i])
          violation("final: " + paths[i] + " has data '" + *data[i] + "', expected '" + *want[i] +
                    "'");
        else
          ++stats_.verified;
      }
    }
    // The ephemerals' sessions were recovered without clients: they must expire.
    const auto deadline = Clock::now() + std::chrono::milliseconds(kEphemeralTimeoutMs) +
                          std::chrono::milliseconds(4 * kTickMs) + 10s;
    std::vector<std::string> left;
    for (;;) {
      left.clear();
      for (auto& e : ephemerals_) {
        Stat st{};
        int rc = zoo_exists(zh, e.path.c_str(), 0, &st);
        if (rc == ZOK)
          left.push_back(e.path);
        else if (rc != ZNONODE)
          violation("final: exists " + e.path + ": " + rc_name(rc));
      }
      if (left.empty() || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(100ms);
    }
    for (auto& p : left) violation("final: ephemeral " + p + " outlived its session's timeout");
    if (left.empty()) stats_.verified += ephemerals_.size();
  }

  Config cfg_;
  std::mt19937_64 rng_;
  std::unique_ptr<ServerProcess> server_;
  FILE* client_log_ = nullptr;
  Stats stats_;
  Counter counters_[kMaxThreads];
  std::vector<RoundState> rounds_;
  std::vector<Ephemeral> ephemerals_;
};

}  // namespace

int main() {
  Config cfg;
  if (const char* s = std::getenv("CRASH_SEED"); s && *s) {
    cfg.seed = std::strtoull(s, nullptr, 10);
  } else {
    cfg.seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
  }
  if (const char* s = std::getenv("CRASH_ROUNDS"); s && *s) cfg.rounds = std::max(1, std::atoi(s));
  if (const char* s = std::getenv("CRASH_KEEP"); s && *s && *s != '0') cfg.keep = true;
  std::printf("crash_test seed=%llu (reproduce with CRASH_SEED=%llu) rounds=%d\n",
              static_cast<unsigned long long>(cfg.seed), static_cast<unsigned long long>(cfg.seed),
              cfg.rounds);
  std::fflush(stdout);
  signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGINT, SIGTERM, SIGABRT, SIGSEGV}) signal(sig, on_fatal_signal);
  CrashTest test(cfg);
  return test.run();
}
