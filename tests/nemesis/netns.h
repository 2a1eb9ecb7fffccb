// The network of a nemesis run: one network namespace per ensemble member, each with a veth
// into a bridge that lives in a hub namespace, and one more veth from the bridge to the root
// namespace, where the test and its clients run. Members get 10.a.b.(i+1)/24, the root end
// 10.a.b.100. Faults are iptables DROP rules in the receiving member's namespace, so the
// clients' links (from the root address) are never cut.
//
// Names carry the test's pid (cnm<pid>-hub, cnm<pid>-s1, ...), and a watcher process removes
// them when the test process ends in any way (netns_cleanup.sh); leftovers of earlier runs
// whose process is gone are removed before a new topology is built.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace corral::nemesis {

/// Runs `command` with /bin/sh; its exit code (-1 if it could not run or was signalled).
/// stdout and stderr go to `output` if given, else are discarded.
int run_command(const std::string& command, std::string* output = nullptr);

/// Why nemesis tests cannot run here ("" when they can): not root, no `ip netns`, no
/// veth/bridge support, or no iptables inside a namespace. Probes with a throwaway namespace.
std::string unavailable_reason();

/// The namespaces, veths, bridge and filter rules of one run.
class Topology {
 public:
  /// Builds the network for `members` members; check ok(). Removes leftovers of dead runs
  /// first, and starts the watcher that removes this run's namespaces when the process ends.
  explicit Topology(int members);
  /// Deletes every namespace of the run (and with them the veths and rules).
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  /// True when every command succeeded.
  bool ok() const { return ok_; }
  /// The failing command and its output, when !ok().
  const std::string& error() const { return error_; }
  /// The number of members.
  int size() const { return members_; }
  /// Member i's namespace name, e.g. "cnm1234-s1".
  std::string ns(int i) const;
  /// Member i's address, e.g. "10.211.7.1".
  std::string ip(int i) const;
  /// The root namespace's address on the bridge (the clients' source address).
  std::string root_ip() const;

  /// Drops every packet from member `from` arriving at member `to` (one direction).
  bool drop(int from, int to);
  /// Cuts both directions between the two members.
  bool cut(int a, int b);
  /// Splits members into groups that can only talk within themselves.
  bool partition(const std::vector<std::vector<int>>& groups);
  /// Removes every rule: the full mesh again.
  bool heal();
  /// One line per member with its DROP sources, for messages.
  std::string describe_rules();

 private:
  bool sh(const std::string& command);
  void start_watcher();

  int members_ = 0;
  std::string prefix_;  // "cnm<pid>"
  std::string subnet_;  // "10.211.7."
  bool ok_ = false;
  std::string error_;
  pid_t watcher_ = -1;
  int watcher_pipe_ = -1;
  std::vector<std::vector<bool>> dropped_;  // [to][from]
};

}  // namespace corral::nemesis
