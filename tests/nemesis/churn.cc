#include "tests/nemesis/churn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <sstream>

#ifndef NEMESIS_OWNER_BIN
#error "NEMESIS_OWNER_BIN must name nemesis_owner"
#endif

namespace corral::nemesis {

using namespace std::chrono_literals;

namespace {

/// Churned sessions expire quickly once their owner is killed.
constexpr int kOwnerSessionTimeoutMs = 1500;

}  // namespace

OwnerProcess::OwnerProcess(const std::string& connect_string, int session_timeout_ms,
                           const std::vector<std::string>& paths) {
  std::vector<std::string> args = {NEMESIS_OWNER_BIN, connect_string,
                                   std::to_string(session_timeout_ms)};
  args.insert(args.end(), paths.begin(), paths.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return;
  if (pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    // The owner exits by itself when its stdin ends, i.e. when the test goes away.
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(in[1]), ::close(out[0]);
    return;
  }
  pid_ = pid;
  to_ = in[1];
  from_ = out[0];
}

OwnerProcess::~OwnerProcess() {
  kill9();
  if (to_ >= 0) ::close(to_);
  if (from_ >= 0) ::close(from_);
}

void OwnerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool OwnerProcess::read_line(Clock::time_point deadline, std::string& line) {
  for (;;) {
    if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{from_, POLLIN, 0};
    if (from_ < 0 || left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1)
      return false;
    char buf[1024];
    ssize_t n = ::read(from_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

bool OwnerProcess::wait_ready(Clock::time_point deadline, EphemeralSession& session,
                              int& granted_ms) {
  for (std::string line; read_line(deadline, line);) {
    std::istringstream in(line);
    std::string word, path;
    in >> word;
    if (word == "ready") return true;
    if (word == "noconnect") return false;
    if (word == "session") in >> session.session_id >> granted_ms;
    if (word == "created" && in >> path) session.created.push_back(path);
    if (word == "unknown" && in >> path) session.maybe_created.push_back(path);
  }
  return false;
}

bool OwnerProcess::close_session(Clock::time_point deadline) {
  if (to_ < 0 || ::write(to_, "close\n", 6) != 6) return false;
  std::string line;
  return read_line(deadline, line) && line == "closed 0";
}

EphemeralChurn::EphemeralChurn(std::string connect_string, uint64_t seed)
    : connect_(std::move(connect_string)), thread_([this, seed] { loop(seed); }) {}

EphemeralChurn::~EphemeralChurn() { stop(); }

void EphemeralChurn::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void EphemeralChurn::record(const EphemeralSession& s, int granted_ms) {
  std::lock_guard lock(mu_);
  if (s.session_id != 0) sessions_.push_back(s);
  if (granted_ms > max_timeout_ms_) max_timeout_ms_ = granted_ms;
}

void EphemeralChurn::loop(uint64_t seed) {
  std::mt19937_64 rng(seed);
  while (!stop_) {
    const std::string base = std::string(kEphemeralRoot) + "/o" + std::to_string(++next_owner_);
    OwnerProcess owner(connect_, kOwnerSessionTimeoutMs, {base + "-a", base + "-b"});
    EphemeralSession s;
    int granted = kOwnerSessionTimeoutMs;
    bool ready = owner.pid() > 0 && owner.wait_ready(Clock::now() + 15s, s, granted);
    if (ready) {
      // Hold the ephemerals a while, then end the session one way or the other.
      const auto hold_until = Clock::now() + std::chrono::milliseconds(200 + rng() % 1000);
      while (!stop_ && Clock::now() < hold_until) std::this_thread::sleep_for(20ms);
    }
    // Half the sessions are closed, the others abandoned: the owner is killed and the session
    // left to expire (as is one whose close got no answer).
    s.closed = ready && rng() % 2 == 0 && owner.close_session(Clock::now() + 5s);
    owner.kill9();
    s.alive = false;
    s.ended = Clock::now();
    record(s, granted);
  }
}

bool EphemeralChurn::start_survivor(const std::string& connect_string) {
  const std::string base = std::string(kEphemeralRoot) + "/survivor";
  survivor_ = std::make_unique<OwnerProcess>(connect_string, 4000,
                                             std::vector<std::string>{base + "-a", base + "-b"});
  EphemeralSession s;
  int granted = 4000;
  if (survivor_->pid() <= 0 || !survivor_->wait_ready(Clock::now() + 15s, s, granted)) return false;
  s.alive = true;
  record(s, 0);
  return true;
}

std::vector<EphemeralSession> EphemeralChurn::sessions() const {
  std::lock_guard lock(mu_);
  return sessions_;
}

}  // namespace corral::nemesis
