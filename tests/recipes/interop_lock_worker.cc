// The Corral side of kazoo_interop_test.py, which proves that a Corral Mutex and kazoo's Lock
// (extra_lock_patterns=["-lock-"]) on one path exclude each other. One binary, four modes:
//
//   interop_lock_worker ensemble --impl corral|zookeeper
//       Starts a 3-server ensemble (tests/e2e/ensemble.h), prints "hosts <connect string>
//       <directory>", and keeps it until stdin closes (the test ended, however it ended), then
//       removes the directory (and what the test put there). A line "describe" on stdin
//       prints every member's state and log tail to stderr (for failures).
//   interop_lock_worker lock --hosts H --path P --who W --rounds N --ledger F [--hold-ms 3]
//       Connects, prints "ready", waits for a line "go" (so that every contender starts at
//       once), then N times: acquires the Mutex, appends "enter W <fencing token>" to the
//       ledger, holds it for hold-ms, appends "leave W", releases, pauses up to hold-ms.
//       Prints "done".
//   interop_lock_worker hold --hosts H --path P --who W
//       Acquires (waiting as long as it takes), prints "held <token> <node>", keeps the lock
//       until stdin closes, releases, prints "released".
//   interop_lock_worker try --hosts H --path P --who W --timeout-ms T
//       One acquire with timeout T (0: try_acquire). Prints "busy" when it timed out
//       (ZOPERATIONTIMEOUT), or "acquired <token> <node>" and then releases.
//
// Every mode exits non-zero (with the reason on stderr) on any other error. Contenders die
// with their parent (PR_SET_PDEATHSIG) and the ensemble's servers with the ensemble, so a
// killed test leaves no process behind.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <asio/use_future.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "corral/client/blocking.h"
#include "corral/client/client.h"
#include "corral/recipes/mutex.h"
#include "tests/e2e/ensemble.h"

namespace {

using namespace std::chrono_literals;
using corral::client::BlockingClient;
using corral::client::error_text;
using corral::client::ErrorCode;
using corral::client::Result;
using corral::recipes::Grant;
using corral::recipes::Mutex;

/// How long any single acquire may wait before the worker gives up (a hung lock must fail
/// the test, not time it out).
constexpr auto kAcquireLimit = std::chrono::milliseconds(30000);

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "interop_lock_worker: " << why << std::endl;
  std::exit(1);
}

/// "--key value" pairs after the mode.
using Flags = std::map<std::string, std::string>;

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 2; i < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) fail("bad argument: " + key);
    flags[key.substr(2)] = argv[i + 1];
  }
  return flags;
}

std::string flag(const Flags& flags, const std::string& key, const std::string& fallback = "") {
  auto it = flags.find(key);
  if (it != flags.end()) return it->second;
  if (fallback.empty()) fail("missing --" + key);
  return fallback;
}

/// Waits for a future from the client, with a limit: a reply that never comes is an error.
template <typename T>
T await(std::future<T> f, std::chrono::milliseconds limit = kAcquireLimit + 10s) {
  if (f.wait_for(limit) != std::future_status::ready) fail("no answer from the client in time");
  return f.get();
}

/// A connected client and the Mutex on --path named --who.
struct Session {
  explicit Session(const Flags& flags) : client(options(flags)) {
    if (!client.wait_connected(30s)) fail("could not connect to " + flag(flags, "hosts"));
    mutex = std::make_unique<Mutex>(client.async(), flag(flags, "path"), flag(flags, "who"));
  }
  ~Session() { mutex.reset(); }  // before the client it uses

  static corral::client::Options options(const Flags& flags) {
    corral::client::Options o;
    o.connect_string = flag(flags, "hosts");
    o.session_timeout = 10s;
    return o;
  }

  Result<Grant> acquire(std::chrono::milliseconds timeout) {
    return await(mutex->acquire(timeout, asio::use_future));
  }
  void release() {
    auto r = await(mutex->release(asio::use_future));
    if (!r) fail("release: " + error_text(r.error()));
  }

  BlockingClient client;
  std::unique_ptr<Mutex> mutex;
};

void say(const std::string& line) {
  std::cout << line << std::endl;  // flushed: the test reads it as it comes
}

/// Appends one line to the ledger in one write(2) (O_APPEND: lines from many processes never
/// interleave).
void append(int fd, const std::string& line) {
  std::string text = line + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) fail("ledger write failed");
}

int run_ensemble(const Flags& flags) {
  corral::e2e::Ensemble::Options o;
  if (!corral::e2e::parse_impl(flag(flags, "impl"), o.impl)) fail("bad --impl");
  o.size = 3;
  o.name = "corral-kazoo-interop";
  corral::e2e::Ensemble ensemble(o);
  if (!ensemble.ok()) fail("ensemble: " + ensemble.error());
  if (!ensemble.start_all(std::chrono::seconds(90))) {
    std::cerr << ensemble.describe();
    fail("ensemble did not start: " + ensemble.error());
  }
  say("hosts " + ensemble.connect_string() + " " + ensemble.dir().string());
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "describe") std::cerr << ensemble.describe(4000) << std::flush;
  }
  ensemble.stop_all();
  return 0;
}

int run_lock(const Flags& flags) {
  const std::string who = flag(flags, "who");
  const int rounds = std::stoi(flag(flags, "rounds"));
  const auto hold = std::chrono::milliseconds(std::stoi(flag(flags, "hold-ms", "3")));
  int fd = ::open(flag(flags, "ledger").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) fail("cannot open the ledger");
  std::mt19937 random(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> jitter(0, static_cast<int>(hold.count()));
  Session s(flags);
  say("ready");
  std::string line;
  if (!std::getline(std::cin, line) || line != "go") fail("no go");
  for (int i = 0; i < rounds; ++i) {
    auto g = s.acquire(kAcquireLimit);
    if (!g) fail("acquire: " + error_text(g.error()));
    append(fd, "enter " + who + " " + std::to_string(g->fencing_token));
    std::this_thread::sleep_for(hold);  // the critical section: overlap would show here
    append(fd, "leave " + who);
    s.release();
    // A random pause before queueing again, so that the queue's order changes as the run goes
    // (not the same cycle of holders round after round).
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(random)));
  }
  ::close(fd);
  say("done");
  return 0;
}

int run_hold(const Flags& flags) {
  Session s(flags);
  auto g = s.acquire(kAcquireLimit);
  if (!g) fail("acquire: " + error_text(g.error()));
  say("held " + std::to_string(g->fencing_token) + " " + g->node);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  s.release();
  say("released");
  return 0;
}

int run_try(const Flags& flags) {
  Session s(flags);
  const auto timeout = std::chrono::milliseconds(std::stoi(flag(flags, "timeout-ms")));
  auto g = s.acquire(timeout);
  if (g.error() == ErrorCode::kOperationTimeout) {
    say("busy");
    return 0;
  }
  if (!g) fail("acquire: " + error_text(g.error()));
  say("acquired " + std::to_string(g->fencing_token) + " " + g->node);
  s.release();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: interop_lock_worker ensemble|lock|hold|try --flag value ...");
  const std::string mode = argv[1];
  const Flags flags = parse_flags(argc, argv);
  // The ensemble goes when stdin closes (the test ended, however it ended), so it can remove
  // its directory: a signal would leave that behind. A write to the gone test fails quietly.
  if (mode == "ensemble") {
    std::signal(SIGPIPE, SIG_IGN);
    return run_ensemble(flags);
  }
  // A contender dies with the test.
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) return 1;  // the parent went before the signal was armed
  if (mode == "lock") return run_lock(flags);
  if (mode == "hold") return run_hold(flags);
  if (mode == "try") return run_try(flags);
  fail("unknown mode " + mode);
}
