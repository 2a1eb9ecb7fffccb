// A corral-server ensemble whose members each run in their own network namespace (see
// netns.h): member i listens on Topology::ip(i), client port 2181, quorum 2888, election
// 3888, with its directory (zoo.cfg, data/myid, server.log) under one temp directory.
// Members are started, killed with SIGKILL, paused with SIGSTOP and restarted on the same
// directory; roles come from the `srvr` four-letter word, polled with deadlines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/nemesis/netns.h"

namespace corral::nemesis {

/// The client port every member listens on (each has an address of its own).
constexpr uint16_t kClientPort = 2181;

/// N corral-server processes in the namespaces of a Topology. Not thread-safe: the test's
/// main thread drives it (children die with it through PR_SET_PDEATHSIG).
class Cluster {
 public:
  using Clock = std::chrono::steady_clock;

  /// Writes every member's zoo.cfg (tickTime `tick_ms`, initLimit 10, syncLimit 5); check
  /// ok(). Nothing runs yet. CORRAL_NEMESIS_KEEP=1 keeps the directory afterwards.
  Cluster(const Topology& net, int tick_ms);
  /// Kills every member and removes the directory (unless kept).
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// True when every member's directory and zoo.cfg were written.
  bool ok() const { return ok_; }
  /// Why not ok().
  const std::string& error() const { return error_; }
  /// The number of members.
  int size() const { return static_cast<int>(pids_.size()); }
  /// "10.a.b.c:2181" of member i.
  std::string host_port(int i) const;
  /// Every member's host:port, comma-separated.
  std::string connect_string() const;
  /// Keeps the directory when the cluster goes (its path is printed).
  void keep_dir() { keep_ = true; }

  /// Launches member i in its namespace (it must not run). Does not wait.
  bool start(int i);
  /// SIGKILL and reap member i; true if it was running.
  bool kill9(int i);
  /// SIGSTOP: a silent member whose connections stay open. False if it does not run.
  bool pause(int i);
  /// SIGCONT to a paused member. False if it does not run.
  bool resume(int i);
  /// True while member i's process runs (reaped once it has exited); a paused one runs.
  bool running(int i);
  /// True between pause(i) and resume(i) (or its kill).
  bool paused(int i) const { return paused_[static_cast<size_t>(i)]; }

  /// Member i's srvr mode, "" if down, paused or not serving.
  std::string mode(int i);
  /// The only member that says it leads, or -1.
  int leader();
  /// Polls until every running, unpaused member serves and exactly one leads: the leader,
  /// or -1 at `deadline`.
  int wait_for_quorum(Clock::time_point deadline);
  /// Member list with pid and mode, and each member's log tail.
  std::string describe(size_t log_tail = 2000);

 private:
  const Topology& net_;
  std::filesystem::path dir_;
  std::vector<pid_t> pids_;
  std::vector<bool> paused_;
  bool ok_ = false;
  bool keep_ = false;
  std::string error_;
  std::string server_bin_;
};

}  // namespace corral::nemesis
