// A replicated ensemble of real server processes for the end-to-end tests and benchmarks:
// Apache ZooKeeper 3.8 (QuorumPeerMain, the oracle) or corral-server, N members on loopback,
// each in a temp directory of its own (zoo.cfg, data/myid, server.log). Members are started,
// killed with SIGKILL and restarted on the same directory and ports; their role is read with
// the `srvr` four-letter word. Everything is polled with deadlines, never slept on blindly.
//
// Self-contained (standard library and POSIX only), so bench/ can compile it in too.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace corral::e2e {

/// Which server the ensemble runs.
enum class Impl { kCorral, kZooKeeper };

/// "corral" or "zookeeper".
const char* impl_name(Impl impl);

/// Parses "corral" or "zookeeper" (case-sensitive); false for anything else.
bool parse_impl(std::string_view text, Impl& out);

/// The implementation named by the environment variable ENSEMBLE_IMPL; kCorral when it is
/// unset or empty. Exits the process with a message if it names something else.
Impl impl_from_env();

/// A TCP port on 127.0.0.1 that nobody listens on now, picked below the kernel's ephemeral
/// range (net.ipv4.ip_local_port_range) so that outgoing connections (clients reconnecting,
/// servers dialling each other) cannot take it while its server is down between a kill and a
/// restart. Never the same port twice in one process. 0 if none was found.
uint16_t pick_listen_port();

/// What the server at ip:port answered to `srvr`: its Mode line, or "" if it is not serving
/// (down, not started, looking for a leader, or silent within the deadline).
std::string srvr_mode(uint16_t port, std::chrono::milliseconds deadline,
                      const std::string& ip = "127.0.0.1");

/// N server processes forming one ensemble. Members are numbered 0..size()-1; member i has
/// server id (myid) i + 1.
///
/// Processes are forked from the calling thread with PR_SET_PDEATHSIG(SIGKILL), which fires
/// when that *thread* ends: call start()/restart() from a thread that outlives the ensemble
/// (the main thread). Not thread-safe: one thread drives it.
class Ensemble {
 public:
  using Clock = std::chrono::steady_clock;

  /// How the ensemble is configured.
  struct Options {
    /// Which server runs.
    Impl impl = Impl::kCorral;
    /// Members: 3 or 5 (any N >= 1 works).
    int size = 3;
    /// zoo.cfg's tickTime, initLimit and syncLimit.
    int tick_ms = 500;
    int init_limit = 10;
    int sync_limit = 5;
    /// More zoo.cfg lines (each ending in '\n') for every member.
    std::string extra_cfg;
    /// The last `observers` members are observers: ":observer" on their server.N lines and
    /// peerType=observer in their own zoo.cfg (ZooKeeper wants both).
    int observers = 0;
    /// More JVM arguments for ZooKeeper members, e.g. "-Dreadonlymode.enabled=true" (a Java
    /// system property, not a zoo.cfg key, in ZooKeeper). Ignored for corral-server.
    std::vector<std::string> jvm_args;
    /// corral-server's path; empty: $CORRAL_SERVER, else the build's CORRAL_SERVER_BIN.
    std::string corral_bin;
    /// Prefix of the temp directory's name.
    std::string name = "corral-ensemble";
  };

  /// Makes the directories, picks the ports and writes every member's zoo.cfg and myid;
  /// check ok(). Nothing runs yet. ENSEMBLE_KEEP=1 in the environment keeps the directory.
  explicit Ensemble(Options options);
  /// Kills every member (SIGKILL) and removes the directory unless keep_dir() was called.
  ~Ensemble();
  Ensemble(const Ensemble&) = delete;
  Ensemble& operator=(const Ensemble&) = delete;

  /// True if the directories, configs and ports were all set up.
  bool ok() const { return ok_; }
  /// Why not ok(), or why the latest start() failed.
  const std::string& error() const { return error_; }
  /// The options it was made with.
  const Options& options() const { return options_; }
  /// The number of members.
  int size() const { return static_cast<int>(members_.size()); }
  /// The whole ensemble's directory; member i's is dir()/sN with N = i + 1.
  const std::filesystem::path& dir() const { return dir_; }
  /// Member i's directory: zoo.cfg, data/ (with myid), server.log.
  std::filesystem::path member_dir(int i) const;
  /// Leaves the directory behind (its path is printed when the ensemble goes).
  void keep_dir() { keep_dir_ = true; }

  /// Member i's client port.
  uint16_t client_port(int i) const { return members_[static_cast<size_t>(i)].client_port; }
  /// "127.0.0.1:port" of member i.
  std::string host_port(int i) const;
  /// Every member's host:port, comma-separated, in member order.
  std::string connect_string() const;
  /// The host:port of the given members, in the given order.
  std::string connect_string(const std::vector<int>& members) const;
  /// The running process of member i, or -1.
  pid_t pid(int i) const { return members_[static_cast<size_t>(i)].pid; }

  /// Launches member i (it must not be running); false if it could not fork. Does not wait:
  /// see wait_serving().
  bool start(int i);
  /// Launches every member not running and waits until each serves and one leads.
  bool start_all(Clock::duration timeout = std::chrono::seconds(90));
  /// SIGKILL and reap member i right away. True if it was running (had not died by itself).
  bool kill9(int i);
  /// kill9(i) if it runs, then start(i) on the same directory and ports.
  bool restart(int i);
  /// SIGTERM to every member, SIGKILL to those still there after 5 s; all reaped.
  void stop_all();
  /// True while member i's process runs (reaped once it has exited). A paused member runs.
  bool running(int i);
  /// SIGSTOP to member i: a silent peer whose connections stay open. False if not running.
  bool pause(int i);
  /// SIGCONT to a paused member i. False if it is not running.
  bool resume(int i);
  /// True between pause(i) and resume(i) (or its kill).
  bool paused(int i) const { return members_[static_cast<size_t>(i)].paused; }

  /// Member i's answer to `srvr`: "leader", "follower", "observer" ("standalone" for a
  /// one-server config), or "" when it is not serving (or paused: it would not answer).
  std::string mode(int i, std::chrono::milliseconds deadline = std::chrono::milliseconds(1000));
  /// Every member's mode() (""s for those not running).
  std::vector<std::string> modes();
  /// The member that says it leads if exactly one does, else -1.
  int leader();
  /// Polls leader() every 20 ms until there is one (returns it) or `deadline` passes (-1).
  int wait_for_leader(Clock::time_point deadline);
  /// Polls until member i serves as leader or follower (or observer); false at `deadline`
  /// or if its process exits.
  bool wait_serving(int i, Clock::time_point deadline);
  /// Polls until every running member (paused ones aside) serves and exactly one leads; the
  /// leader or -1.
  int wait_for_quorum(Clock::time_point deadline);

  /// Member i's server.log (kept across restarts), or its last `tail` bytes if nonzero.
  std::string log(int i, size_t tail = 0) const;
  /// How often `text` appears in member i's server.log at byte `from` or after.
  size_t count_in_log(int i, const std::string& text, size_t from = 0) const;
  /// One line per member: id, port, pid, mode; and each member's log tail, for failures.
  std::string describe(size_t log_tail = 3000);

 private:
  struct Member {
    uint16_t client_port = 0;
    uint16_t quorum_port = 0;
    uint16_t election_port = 0;
    pid_t pid = -1;
    bool paused = false;
  };

  bool write_configs();

  Options options_;
  std::filesystem::path dir_;
  std::vector<Member> members_;
  bool ok_ = false;
  bool keep_dir_ = false;
  std::string error_;
};

}  // namespace corral::e2e
