#include "tests/e2e/server_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace corral::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

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

std::string status_text(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

ServerProcess::ServerProcess(std::string_view name, Options options) : options_(options) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(name) + ".XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) return;
  dir_ = tmpl;
  std::error_code ec;
  fs::create_directories(data_dir(), ec);
}

ServerProcess::~ServerProcess() {
  kill_now();
  if (!dir_.empty() && !keep_dir_) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string ServerProcess::log() const {
  return dir_.empty() ? "" : read_file(dir_ / "server.log");
}

std::string ServerProcess::err() const {
  if (dir_.empty() || options_.output != Output::kSplit) return "";
  return read_file(dir_ / "server.err");
}

std::string ServerProcess::output_since_launch() const {
  std::string out = log();
  return out.substr(std::min(log_offset_, out.size())) + err();
}

void ServerProcess::configure(uint16_t port, const std::string& extra) {
  port_ = port;
  std::error_code ec;
  fs::create_directories(data_dir(), ec);
  std::ofstream(dir_ / "zoo.cfg") << "tickTime=" << options_.tick_ms << "\n"
                                  << "dataDir=" << data_dir().string() << "\n"
                                  << "clientPort=" << port_ << "\n"
                                  << "clientPortAddress=127.0.0.1\n"
                                  << extra;
}

bool ServerProcess::launch() {
  const std::string cfg = (dir_ / "zoo.cfg").string();
  const std::string log_path = (dir_ / "server.log").string();
  const std::string err_path = (dir_ / "server.err").string();
  const bool append = options_.output == Output::kLogAppend;
  const bool split = options_.output == Output::kSplit;
  if (append) {
    log_offset_ = log().size();
  } else {
    // Not the previous run's words: callers wait for "serving on" in them.
    log_offset_ = 0;
    std::ofstream(log_path, std::ios::trunc);
    if (split) std::ofstream(err_path, std::ios::trunc);
  }
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    // The server must not outlive the test, even if the test crashes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE* out = std::fopen(log_path.c_str(), append ? "a" : "w");
    FILE* err = split ? std::fopen(err_path.c_str(), "w") : out;
    if (out) dup2(fileno(out), STDOUT_FILENO);
    if (err) dup2(fileno(err), STDERR_FILENO);
    execl(CORRAL_SERVER_BIN, CORRAL_SERVER_BIN, cfg.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "e2e: cannot exec %s: %s\n", CORRAL_SERVER_BIN, std::strerror(errno));
    _exit(127);
  }
  return true;
}

ServerProcess::Wait ServerProcess::wait_until(const std::function<bool()>& ready,
                                              Clock::duration timeout, Clock::duration interval) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (ready()) return Wait::kReady;
    if (!running()) return Wait::kExited;
    std::this_thread::sleep_for(interval);
  }
  return Wait::kTimeout;
}

bool ServerProcess::port_was_taken() const {
  return output_since_launch().find("cannot listen") != std::string::npos;
}

bool ServerProcess::start(const std::string& extra) {
  if (dir_.empty()) return false;
  auto serving = [&] { return log().find("serving on") != std::string::npos; };
  for (int attempt = 0; attempt < 5; ++attempt) {
    configure(free_port(), extra);
    if (!launch()) return false;
    if (wait_until(serving, options_.start_timeout) == Wait::kReady) return true;
    if (running()) return false;  // neither serving nor gone
    if (!port_was_taken()) return false;
  }
  return false;
}

std::optional<int> ServerProcess::start_expecting_exit(const std::string& extra) {
  configure(free_port(), extra);
  if (!launch()) return std::nullopt;
  wait_until([] { return false; }, options_.start_timeout);
  if (running()) {
    kill_now();
    return std::nullopt;
  }
  return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : 128 + WTERMSIG(exit_status_);
}

bool ServerProcess::terminate() {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + options_.stop_timeout;
  while (Clock::now() < deadline && running()) std::this_thread::sleep_for(10ms);
  if (running()) {
    kill_now();
    return false;
  }
  return WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
}

bool ServerProcess::kill_now() {
  if (pid_ <= 0) return false;
  bool was_running = running();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
  }
  return was_running;
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;
  exit_status_ = status;
  return false;
}

}  // namespace corral::e2e
