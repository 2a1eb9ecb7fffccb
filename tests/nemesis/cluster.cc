#include "tests/nemesis/cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/ensemble.h"

namespace corral::nemesis {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Cluster::Cluster(const Topology& net, int tick_ms) : net_(net) {
  const char* bin = std::getenv("CORRAL_SERVER");
  server_bin_ = bin && *bin ? bin : CORRAL_SERVER_BIN;
  if (const char* k = std::getenv("CORRAL_NEMESIS_KEEP"); k && *k && *k != '0') keep_ = true;
  std::string tmpl = (fs::temp_directory_path() / "corral-nemesis.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    error_ = "cannot create a temp directory";
    return;
  }
  dir_ = tmpl;
  pids_.assign(static_cast<size_t>(net.size()), -1);
  paused_.assign(static_cast<size_t>(net.size()), false);
  std::ostringstream servers;
  for (int i = 0; i < net.size(); ++i)
    servers << "server." << i + 1 << "=" << net.ip(i) << ":2888:3888\n";
  for (int i = 0; i < net.size(); ++i) {
    const fs::path d = dir_ / ("s" + std::to_string(i + 1));
    std::error_code ec;
    fs::create_directories(d / "data", ec);
    std::ofstream(d / "data" / "myid") << i + 1 << "\n";
    std::ofstream cfg(d / "zoo.cfg");
    cfg << "tickTime=" << tick_ms << "\ninitLimit=10\nsyncLimit=5\n"
        << "dataDir=" << (d / "data").string() << "\nclientPort=" << kClientPort
        << "\nclientPortAddress=0.0.0.0\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n"
        << servers.str();
    if (ec || !cfg) {
      error_ = "cannot write " + d.string();
      return;
    }
  }
  ok_ = true;
}

Cluster::~Cluster() {
  for (int i = 0; i < size(); ++i) kill9(i);
  if (dir_.empty()) return;
  if (keep_) {
    std::fprintf(stderr, "nemesis: kept %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string Cluster::host_port(int i) const {
  return net_.ip(i) + ":" + std::to_string(kClientPort);
}

std::string Cluster::connect_string() const {
  std::string s;
  for (int i = 0; i < size(); ++i) s += (i ? "," : "") + host_port(i);
  return s;
}

bool Cluster::start(int i) {
  if (!ok_ || running(i)) return false;
  const fs::path d = dir_ / ("s" + std::to_string(i + 1));
  const std::string cfg = (d / "zoo.cfg").string(), log = (d / "server.log").string();
  const std::string ns_path = "/run/netns/" + net_.ns(i);
  std::ofstream(log, std::ios::app) << "==== nemesis: start s" << i + 1 << "\n";
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: the test is multi-threaded.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int ns = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    close_range(3, ~0U, 0);
    execl(server_bin_.c_str(), server_bin_.c_str(), cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pids_[static_cast<size_t>(i)] = pid;
  paused_[static_cast<size_t>(i)] = false;
  return true;
}

bool Cluster::kill9(int i) {
  pid_t& pid = pids_[static_cast<size_t>(i)];
  if (pid <= 0) return false;
  bool was = running(i);
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
  paused_[static_cast<size_t>(i)] = false;
  return was;
}

bool Cluster::pause(int i) {
  if (!running(i) || ::kill(pids_[static_cast<size_t>(i)], SIGSTOP) != 0) return false;
  paused_[static_cast<size_t>(i)] = true;
  return true;
}

bool Cluster::resume(int i) {
  if (!running(i) || ::kill(pids_[static_cast<size_t>(i)], SIGCONT) != 0) return false;
  paused_[static_cast<size_t>(i)] = false;
  return true;
}

bool Cluster::running(int i) {
  pid_t& pid = pids_[static_cast<size_t>(i)];
  if (pid <= 0) return false;
  if (waitpid(pid, nullptr, WNOHANG) == 0) return true;
  pid = -1;
  paused_[static_cast<size_t>(i)] = false;
  return false;
}

std::string Cluster::mode(int i) {
  if (!running(i) || paused(i)) return "";
  return e2e::srvr_mode(kClientPort, 500ms, net_.ip(i));
}

int Cluster::leader() {
  int found = -1;
  for (int i = 0; i < size(); ++i) {
    if (mode(i) != "leader") continue;
    if (found >= 0) return -1;
    found = i;
  }
  return found;
}

int Cluster::wait_for_quorum(Clock::time_point deadline) {
  for (;;) {
    int leaders = 0, leader = -1;
    bool all = true;
    for (int i = 0; i < size(); ++i) {
      if (!running(i) || paused(i)) continue;
      std::string m = mode(i);
      if (m == "leader") ++leaders, leader = i;
      if (m != "leader" && m != "follower") all = false;
    }
    if (all && leaders == 1) return leader;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(20ms);
  }
}

std::string Cluster::describe(size_t log_tail) {
  std::ostringstream out;
  out << "cluster in " << dir_.string() << "\n";
  for (int i = 0; i < size(); ++i)
    out << "  s" << i + 1 << " " << host_port(i) << " pid " << pids_[static_cast<size_t>(i)]
        << (paused(i) ? " paused" : "") << " mode '" << mode(i) << "'\n";
  for (int i = 0; i < size() && log_tail; ++i) {
    std::ifstream in(dir_ / ("s" + std::to_string(i + 1)) / "server.log");
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    if (text.size() > log_tail) text = "..." + text.substr(text.size() - log_tail);
    out << "---- s" << i + 1 << " log tail:\n" << text << "\n";
  }
  return out.str();
}

}  // namespace corral::nemesis
