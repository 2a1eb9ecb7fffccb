#include "tests/nemesis/netns.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#ifndef NEMESIS_CLEANUP_SCRIPT
#error "NEMESIS_CLEANUP_SCRIPT must name netns_cleanup.sh"
#endif

namespace corral::nemesis {

int run_command(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;)
    if (output) output->append(buf.data(), n);
  int status = pclose(p);
  if (status < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

std::string unavailable_reason() {
  if (geteuid() != 0) return "not root: network namespaces and iptables need root";
  if (run_command("command -v ip") != 0) return "no `ip` command (iproute2)";
  if (run_command("command -v iptables") != 0)
    return "no `iptables` command (apt-get install iptables)";
  const std::string probe = "cnm" + std::to_string(getpid()) + "-probe";
  std::string out;
  bool ok = run_command("ip netns add " + probe, &out) == 0;
  std::string reason;
  if (!ok) {
    reason = "`ip netns add` fails: " + out;
  } else if (run_command("ip -n " + probe + " link add br0 type bridge && ip -n " + probe +
                             " link add va type veth peer name vb",
                         &out) != 0) {
    reason = "no bridge or veth support: " + out;
  } else if (run_command("ip netns exec " + probe + " iptables -w -A INPUT -s 10.0.0.1 -j DROP",
                         &out) != 0) {
    reason = "iptables does not work inside a network namespace: " + out;
  }
  if (ok) run_command("ip netns del " + probe);
  return reason;
}

Topology::Topology(int members) : members_(members) {
  prefix_ = "cnm" + std::to_string(getpid());
  dropped_.assign(static_cast<size_t>(members), std::vector<bool>(static_cast<size_t>(members)));
  run_command(NEMESIS_CLEANUP_SCRIPT);
  run_command(std::string(NEMESIS_CLEANUP_SCRIPT) + " " + std::to_string(getpid()));
  start_watcher();
  // A /24 that no root address uses yet (another run may hold one).
  std::string addrs;
  run_command("ip -4 -o addr show", &addrs);
  for (int k = 0; k < 250; ++k) {
    std::string s = "10.211." + std::to_string((getpid() + k) % 250 + 1) + ".";
    if (addrs.find(s) == std::string::npos) {
      subnet_ = s;
      break;
    }
  }
  const std::string hub = prefix_ + "-hub", root_if = prefix_ + "r";
  ok_ = !subnet_.empty() && sh("ip netns add " + hub) && sh("ip -n " + hub + " link set lo up") &&
        sh("ip -n " + hub + " link add br0 type bridge") && sh("ip -n " + hub + " link set br0 up");
  for (int i = 0; ok_ && i < members; ++i) {
    const std::string n = ns(i), port = "v" + std::to_string(i + 1);
    ok_ = sh("ip netns add " + n) && sh("ip -n " + n + " link set lo up") &&
          sh("ip link add eth0 netns " + n + " type veth peer name " + port + " netns " + hub) &&
          sh("ip -n " + n + " addr add " + ip(i) + "/24 dev eth0") &&
          sh("ip -n " + n + " link set eth0 up") &&
          sh("ip -n " + hub + " link set " + port + " master br0 up");
  }
  ok_ = ok_ && sh("ip link add " + root_if + " type veth peer name vr netns " + hub) &&
        sh("ip addr add " + root_ip() + "/24 dev " + root_if) &&
        sh("ip link set " + root_if + " up") && sh("ip -n " + hub + " link set vr master br0 up");
  if (!ok_ && error_.empty()) error_ = "no free 10.211.x.0/24 subnet";
}

Topology::~Topology() {
  run_command(std::string(NEMESIS_CLEANUP_SCRIPT) + " " + std::to_string(getpid()));
  if (watcher_pipe_ >= 0) ::close(watcher_pipe_);
  if (watcher_ > 0) waitpid(watcher_, nullptr, 0);
}

void Topology::start_watcher() {
  // The watcher reads its stdin until the write end closes, which happens when this process
  // exits for whatever reason (even SIGKILL), then removes the run's namespaces. It runs in a
  // session of its own so that a Ctrl-C to the test's process group does not stop it.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  const std::string pid = std::to_string(getpid());
  pid_t child = fork();
  if (child == 0) {
    setsid();
    dup2(fds[0], STDIN_FILENO);
    execl("/bin/sh", "sh", "-c", "cat >/dev/null; exec \"$0\" \"$1\"", NEMESIS_CLEANUP_SCRIPT,
          pid.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[0]);
  if (child < 0) {
    ::close(fds[1]);
    return;
  }
  watcher_ = child;
  watcher_pipe_ = fds[1];
}

bool Topology::sh(const std::string& command) {
  std::string out;
  if (run_command(command, &out) == 0) return true;
  error_ = command + ": " + out;
  return false;
}

std::string Topology::ns(int i) const { return prefix_ + "-s" + std::to_string(i + 1); }
std::string Topology::ip(int i) const { return subnet_ + std::to_string(i + 1); }
std::string Topology::root_ip() const { return subnet_ + "100"; }

bool Topology::drop(int from, int to) {
  if (from == to || dropped_[static_cast<size_t>(to)][static_cast<size_t>(from)]) return true;
  dropped_[static_cast<size_t>(to)][static_cast<size_t>(from)] = true;
  return sh("ip netns exec " + ns(to) + " iptables -w -A INPUT -s " + ip(from) + " -j DROP");
}

bool Topology::cut(int a, int b) { return drop(a, b) && drop(b, a); }

bool Topology::partition(const std::vector<std::vector<int>>& groups) {
  std::vector<int> group_of(static_cast<size_t>(members_), -1);
  for (size_t g = 0; g < groups.size(); ++g)
    for (int m : groups[g]) group_of[static_cast<size_t>(m)] = static_cast<int>(g);
  bool ok = true;
  for (int a = 0; a < members_; ++a)
    for (int b = 0; b < members_; ++b)
      if (a != b && group_of[static_cast<size_t>(a)] != group_of[static_cast<size_t>(b)])
        ok = drop(a, b) && ok;
  return ok;
}

bool Topology::heal() {
  bool ok = true;
  for (int i = 0; i < members_; ++i) {
    bool any = false;
    for (bool d : dropped_[static_cast<size_t>(i)]) any = any || d;
    if (!any) continue;
    ok = sh("ip netns exec " + ns(i) + " iptables -w -F INPUT") && ok;
    dropped_[static_cast<size_t>(i)].assign(static_cast<size_t>(members_), false);
  }
  return ok;
}

std::string Topology::describe_rules() {
  std::string out;
  for (int to = 0; to < members_; ++to) {
    out += "  s" + std::to_string(to + 1) + " drops from:";
    for (int from = 0; from < members_; ++from)
      if (dropped_[static_cast<size_t>(to)][static_cast<size_t>(from)])
        out += " s" + std::to_string(from + 1);
    out += "\n";
  }
  return out;
}

}  // namespace corral::nemesis
