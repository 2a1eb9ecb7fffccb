#include "tests/e2e/ensemble.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/port_claims.h"

namespace corral::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Apache ZooKeeper from Debian: the jar, its configuration (log settings) and a logger.
constexpr const char* kDefaultZkClasspath =
    "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";
// Small heaps (N JVMs share the machine), and C1 only: it starts faster on a busy machine.
constexpr const char* kDefaultJvmFlags =
    "-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
    "-Dorg.slf4j.simpleLogger.showDateTime=true "
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS";

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// ZooKeeper 3.8 cannot start when a txn log file lacks its 16-byte header: SIGKILL between
// creating a new log (it rolls at every snapshot) and flushing the header leaves one, and the
// restart fails with EOFException in FileHeader.deserialize (ZOOKEEPER-1621, ZOOKEEPER-2332;
// 3.9.3 skips an empty one itself). Such a file holds no transaction, so removing it, the known
// workaround, loses nothing. Returns what it removed.
std::vector<std::string> remove_headerless_zookeeper_logs(const fs::path& data_dir) {
  constexpr std::uintmax_t kFileHeaderBytes = 16;  // magic, version, dbid
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir / "version-2", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("log.", 0) != 0 || e.file_size(ec) >= kFileHeaderBytes || ec) continue;
    if (fs::remove(e.path(), ec)) removed.push_back(name);
  }
  return removed;
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// True if 127.0.0.1:port can be bound now (without SO_REUSEADDR: nothing holds it at all).
bool bindable(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A TCP connection to ip:port within `deadline`; -1 if refused or slow.
int connect_to(const std::string& ip, uint16_t port, std::chrono::milliseconds deadline) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (errno != EINPROGRESS || poll(&p, 1, static_cast<int>(deadline.count())) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace

const char* impl_name(Impl impl) { return impl == Impl::kZooKeeper ? "zookeeper" : "corral"; }

bool parse_impl(std::string_view text, Impl& out) {
  if (text == "corral") {
    out = Impl::kCorral;
  } else if (text == "zookeeper") {
    out = Impl::kZooKeeper;
  } else {
    return false;
  }
  return true;
}

Impl impl_from_env() {
  Impl impl = Impl::kCorral;
  const char* v = std::getenv("ENSEMBLE_IMPL");
  if (v && *v && !parse_impl(v, impl)) {
    std::fprintf(stderr, "ENSEMBLE_IMPL=%s: expected corral or zookeeper\n", v);
    std::exit(2);
  }
  return impl;
}

uint16_t pick_listen_port() {
  static std::mutex mu;
  static std::set<uint16_t> handed_out;
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  std::lock_guard lock(mu);
  int low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
  int hi = low - 1;
  int lo = std::max(10000, hi - 12767);
  // Shards of one program run at once (tests/run_shards.sh) and restart killed members on
  // their old ports: each shard picks from a range of its own, so no shard takes a port
  // another's member is coming back to.
  const char* total = std::getenv("GTEST_TOTAL_SHARDS");
  const char* index = std::getenv("GTEST_SHARD_INDEX");
  if (total && index && std::atoi(total) > 1 && hi - lo >= 1000) {
    const int n = std::atoi(total), i = std::clamp(std::atoi(index), 0, n - 1);
    const int width = (hi - lo) / n;
    lo += i * width;
    hi = lo + width;
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    uint16_t port = 0;
    if (hi - lo >= 1000) {
      port = static_cast<uint16_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo)));
    } else {
      // No room below the ephemeral range: let the kernel pick.
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
      ::close(fd);
    }
    if (port == 0 || handed_out.count(port) || !bindable(port) || !claim_port(port)) continue;
    handed_out.insert(port);
    return port;
  }
  return 0;
}

std::string srvr_mode(uint16_t port, std::chrono::milliseconds deadline, const std::string& ip) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  int fd = connect_to(ip, port, deadline);
  if (fd < 0) return "";
  std::string out;
  if (::send(fd, "srvr", 4, MSG_NOSIGNAL) == 4) {
    // The server writes its answer and closes the connection.
    char buf[4096];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1) break;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  size_t at = out.find("Mode: ");
  if (at == std::string::npos) return "";  // e.g. "not currently serving requests"
  size_t end = out.find_first_of("\r\n", at);
  return out.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

Ensemble::Ensemble(Options options) : options_(std::move(options)) {
  if (const char* keep = std::getenv("ENSEMBLE_KEEP"); keep && *keep && *keep != '0')
    keep_dir_ = true;
  std::string tmpl =
      (fs::temp_directory_path() / (options_.name + "-" + impl_name(options_.impl) + ".XXXXXX"))
          .string();
  if (!mkdtemp(tmpl.data())) {
    error_ = "cannot create a temp directory: " + std::string(std::strerror(errno));
    return;
  }
  dir_ = tmpl;
  members_.resize(static_cast<size_t>(std::max(1, options_.size)));
  for (auto& m : members_) {
    m.client_port = pick_listen_port();
    m.quorum_port = pick_listen_port();
    m.election_port = pick_listen_port();
    if (!m.client_port || !m.quorum_port || !m.election_port) {
      error_ = "cannot find free ports";
      return;
    }
  }
  ok_ = write_configs();
}

Ensemble::~Ensemble() {
  for (int i = 0; i < size(); ++i) kill9(i);
  if (dir_.empty()) return;
  if (keep_dir_) {
    std::fprintf(stderr, "ensemble: kept %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

fs::path Ensemble::member_dir(int i) const { return dir_ / ("s" + std::to_string(i + 1)); }

bool Ensemble::write_configs() {
  std::ostringstream servers;
  const int first_observer = size() - std::clamp(options_.observers, 0, size());
  for (int i = 0; i < size(); ++i) {
    const Member& m = members_[static_cast<size_t>(i)];
    servers << "server." << i + 1 << "=127.0.0.1:" << m.quorum_port << ":" << m.election_port
            << (i >= first_observer ? ":observer" : "") << "\n";
  }
  for (int i = 0; i < size(); ++i) {
    const fs::path d = member_dir(i);
    std::error_code ec;
    fs::create_directories(d / "data", ec);
    if (ec) {
      error_ = "cannot create " + (d / "data").string() + ": " + ec.message();
      return false;
    }
    std::ofstream(d / "data" / "myid") << i + 1 << "\n";
    std::ofstream cfg(d / "zoo.cfg");
    cfg << "tickTime=" << options_.tick_ms << "\n"
        << "initLimit=" << options_.init_limit << "\n"
        << "syncLimit=" << options_.sync_limit << "\n"
        << "dataDir=" << (d / "data").string() << "\n"
        << "clientPort=" << client_port(i) << "\n"
        << "clientPortAddress=127.0.0.1\n"
        << "maxClientCnxns=0\n"
        << "4lw.commands.whitelist=*\n";
    if (options_.impl == Impl::kZooKeeper) cfg << "admin.enableServer=false\n";
    if (i >= first_observer) cfg << "peerType=observer\n";
    cfg << servers.str() << options_.extra_cfg;
    if (!cfg) {
      error_ = "cannot write " + (d / "zoo.cfg").string();
      return false;
    }
  }
  return true;
}

std::string Ensemble::host_port(int i) const {
  return "127.0.0.1:" + std::to_string(client_port(i));
}

std::string Ensemble::connect_string() const {
  std::vector<int> all;
  for (int i = 0; i < size(); ++i) all.push_back(i);
  return connect_string(all);
}

std::string Ensemble::connect_string(const std::vector<int>& members) const {
  std::string s;
  for (int i : members) s += (s.empty() ? "" : ",") + host_port(i);
  return s;
}

bool Ensemble::start(int i) {
  Member& m = members_[static_cast<size_t>(i)];
  if (!ok_ || running(i)) return false;
  const fs::path d = member_dir(i);
  const std::string cfg = (d / "zoo.cfg").string();
  const std::string log_path = (d / "server.log").string();
  std::vector<std::string> args;
  std::vector<std::string> removed_logs;
  if (options_.impl == Impl::kZooKeeper) {
    removed_logs = remove_headerless_zookeeper_logs(d / "data");
    args.push_back("java");
    for (auto& w : split_words(env_or("ENSEMBLE_JVMFLAGS", kDefaultJvmFlags))) args.push_back(w);
    args.push_back("-Dzookeeper.admin.enableServer=false");
    for (const auto& a : options_.jvm_args) args.push_back(a);
    args.push_back("-cp");
    args.push_back(env_or("ZK_CLASSPATH", kDefaultZkClasspath));
    args.push_back("org.apache.zookeeper.server.quorum.QuorumPeerMain");
  } else {
    std::string bin = options_.corral_bin;
#ifdef CORRAL_SERVER_BIN
    if (bin.empty()) bin = env_or("CORRAL_SERVER", CORRAL_SERVER_BIN);
#else
    if (bin.empty()) bin = env_or("CORRAL_SERVER", "corral-server");
#endif
    args.push_back(bin);
  }
  args.push_back(cfg);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  {
    std::ofstream log(log_path, std::ios::app);
    for (const auto& name : removed_logs)
      log << "==== ensemble: removed " << name << ", a txn log without its header\n";
    log << "==== ensemble: start member " << i << " (server." << i + 1 << ")\n";
  }
  std::fflush(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    error_ = "fork: " + std::string(std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    // The server must not outlive the test, even if the test crashes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    // No inherited client sockets: a server holding one open would keep that connection
    // alive after the client closes it.
    if (close_range(3, ~0U, 0) != 0)
      for (int f = 3; f < 1024; ++f) ::close(f);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "ensemble: cannot exec %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  m.pid = pid;
  return true;
}

bool Ensemble::start_all(Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (int i = 0; i < size(); ++i)
    if (!running(i) && !start(i)) return false;
  for (int i = 0; i < size(); ++i) {
    if (!wait_serving(i, deadline)) {
      error_ = "member " + std::to_string(i) + " does not serve";
      return false;
    }
  }
  if (wait_for_quorum(deadline) < 0) {
    error_ = "no single leader with every member serving";
    return false;
  }
  return true;
}

bool Ensemble::kill9(int i) {
  Member& m = members_[static_cast<size_t>(i)];
  if (m.pid <= 0) return false;
  bool was_running = running(i);
  if (m.pid > 0) {
    ::kill(m.pid, SIGKILL);
    int status = 0;
    waitpid(m.pid, &status, 0);
    m.pid = -1;
  }
  m.paused = false;
  return was_running;
}

bool Ensemble::pause(int i) {
  Member& m = members_[static_cast<size_t>(i)];
  if (!running(i) || ::kill(m.pid, SIGSTOP) != 0) return false;
  m.paused = true;
  return true;
}

bool Ensemble::resume(int i) {
  Member& m = members_[static_cast<size_t>(i)];
  if (!running(i) || ::kill(m.pid, SIGCONT) != 0) return false;
  m.paused = false;
  return true;
}

bool Ensemble::restart(int i) {
  kill9(i);
  return start(i);
}

void Ensemble::stop_all() {
  for (auto& m : members_) {
    if (m.pid <= 0) continue;
    ::kill(m.pid, SIGTERM);
    if (m.paused) ::kill(m.pid, SIGCONT);  // a stopped process acts on SIGTERM only then
  }
  const auto deadline = Clock::now() + 5s;
  for (int i = 0; i < size(); ++i) {
    while (running(i) && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    kill9(i);
  }
}

bool Ensemble::running(int i) {
  Member& m = members_[static_cast<size_t>(i)];
  if (m.pid <= 0) return false;
  int status = 0;
  if (waitpid(m.pid, &status, WNOHANG) == 0) return true;
  m.pid = -1;
  m.paused = false;
  return false;
}

std::string Ensemble::mode(int i, std::chrono::milliseconds deadline) {
  if (!running(i) || paused(i)) return "";
  return srvr_mode(client_port(i), deadline);
}

std::vector<std::string> Ensemble::modes() {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(mode(i));
  return out;
}

int Ensemble::leader() {
  int found = -1;
  for (int i = 0; i < size(); ++i) {
    if (mode(i) != "leader") continue;
    if (found >= 0) return -1;  // two say so: not settled
    found = i;
  }
  return found;
}

int Ensemble::wait_for_leader(Clock::time_point deadline) {
  for (;;) {
    int l = leader();
    if (l >= 0 || Clock::now() >= deadline) return l;
    std::this_thread::sleep_for(20ms);
  }
}

bool Ensemble::wait_serving(int i, Clock::time_point deadline) {
  for (;;) {
    if (!running(i)) return false;
    std::string m = mode(i);
    if (m == "leader" || m == "follower" || m == "observer") return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

int Ensemble::wait_for_quorum(Clock::time_point deadline) {
  for (;;) {
    int leaders = 0, leader_index = -1;
    bool all_serve = true;
    for (int i = 0; i < size(); ++i) {
      if (!running(i) || paused(i)) continue;
      std::string m = mode(i);
      if (m == "leader") ++leaders, leader_index = i;
      if (m != "leader" && m != "follower" && m != "observer") all_serve = false;
    }
    if (all_serve && leaders == 1) return leader_index;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(20ms);
  }
}

std::string Ensemble::log(int i, size_t tail) const {
  std::ifstream in(member_dir(i) / "server.log", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (tail && text.size() > tail) text = "..." + text.substr(text.size() - tail);
  return text;
}

size_t Ensemble::count_in_log(int i, const std::string& text, size_t from) const {
  const std::string all = log(i);
  size_t n = 0;
  for (size_t at = all.find(text, from); at != std::string::npos; at = all.find(text, at + 1)) ++n;
  return n;
}

std::string Ensemble::describe(size_t log_tail) {
  std::ostringstream out;
  out << impl_name(options_.impl) << " ensemble in " << dir_.string() << "\n";
  for (int i = 0; i < size(); ++i) {
    std::string m = mode(i);
    out << "  member " << i << " (server." << i + 1 << ") " << host_port(i) << " pid " << pid(i)
        << (paused(i) ? " paused" : "") << " mode '" << m << "'\n";
  }
  if (log_tail)
    for (int i = 0; i < size(); ++i)
      out << "---- member " << i << " log tail:\n" << log(i, log_tail) << "\n";
  return out.str();
}

}  // namespace corral::e2e
