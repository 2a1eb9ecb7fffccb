// A seeded, simulated network that carries election notifications between
// servers, each running the pure zab::Election state machine, on a simulated
// clock. One seed drives every random choice (delays, drops, duplicates), so a
// seed reproduces a run exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/zab/election.h"

namespace corral::sim {

/// One simulated server: its membership and the history it elects with.
struct SimServer {
  int64_t id = 0;
  bool voter = true;
  int64_t last_zxid = 0;
  int64_t current_epoch = 0;
};

/// The vote a server casts for itself: its id and history.
zab::Vote history_vote(const SimServer& s);

/// What the network does to every message. Reordering follows from random
/// delays; a duplicate is a second copy with its own delay.
struct NetworkFaults {
  int64_t min_delay_ms = 1;
  int64_t max_delay_ms = 1;
  double drop_probability = 0;
  double duplicate_probability = 0;
};

/// A decision as it happened, with the voters whose latest notification (in
/// the decision's election epoch) delivered to the decider voted the same way.
struct DecisionEvent {
  int64_t id = 0;
  int incarnation = 0;
  int64_t at_ms = 0;
  zab::Decision decision;
  std::set<int64_t> supporters;
};

/// A notification as a server sent it, before the network's faults apply.
struct SentMessage {
  int64_t at_ms = 0;
  int64_t to = 0;
  zab::Notification notification;
};

/// The simulated ensemble: servers, network and clock.
class SimNetwork {
 public:
  SimNetwork(uint64_t seed, std::vector<SimServer> servers, NetworkFaults faults = {},
             zab::ElectionTiming timing = {});

  /// Starts a server (again, after a crash): a new Election starts from the
  /// server's history.
  void start(int64_t id);
  /// Starts every server at the current time.
  void start_all();
  /// Crashes a server: its Election is discarded and messages to it are lost.
  void crash(int64_t id);
  /// Ends a decided server's role and starts a new round on the same
  /// Election, as a server does when it loses its leader.
  void reelect(int64_t id);

  /// Splits the network: servers in different groups cannot talk, and a server
  /// in no group talks to nobody. Messages in flight across the cut are lost.
  void partition(const std::vector<std::vector<int64_t>>& groups);
  /// Lets every server talk to every other again.
  void heal();
  /// Models what the server does around the election, which is what makes it
  /// live when votes are lost: a follower or observer whose leader is not up,
  /// reachable and leading with the same vote, or a leader without a quorum of
  /// voters following it, looks again (reelect) after timeout_ms, as
  /// ZooKeeper's learners and leader give up after initLimit/syncLimit ticks.
  /// 0 (the default) leaves decisions alone, to test the election by itself.
  void set_role_timeout(int64_t timeout_ms) { role_timeout_ms_ = timeout_ms; }
  /// Whether the server's decision is confirmed as described above.
  bool role_confirmed(int64_t id) const;
  /// Changes the faults applied to messages sent from now on.
  void set_faults(const NetworkFaults& faults) { faults_ = faults; }

  /// Runs until pred() holds (checked every simulated millisecond) or max_ms
  /// pass; returns whether pred() held.
  bool run_until(const std::function<bool()>& pred, int64_t max_ms);
  /// Runs for ms simulated milliseconds.
  void run_for(int64_t ms);

  /// Calls f for every notification a server sends.
  void on_send(std::function<void(const SentMessage&)> f) { on_send_ = std::move(f); }

  int64_t now_ms() const { return now_ms_; }
  uint64_t seed() const { return seed_; }
  bool up(int64_t id) const;
  const SimServer& server(int64_t id) const;
  const std::vector<SimServer>& servers() const { return servers_; }
  /// The server's decision, if it is up and decided.
  std::optional<zab::Decision> decision(int64_t id) const;
  /// Whether every server that is up has decided.
  bool all_up_decided() const;
  /// Every decision made so far, in order.
  const std::vector<DecisionEvent>& decisions() const { return decisions_; }
  /// Notifications sent so far (before drops and duplicates).
  uint64_t messages_sent() const { return messages_sent_; }
  /// The state of every server, for failure messages.
  std::string describe() const;

 private:
  struct Node {
    std::unique_ptr<zab::Election> election;
    int incarnation = 0;
    bool decided = false;
    std::optional<int64_t> unconfirmed_since_ms;
    /// Latest notification delivered from (sender, election epoch).
    std::map<std::pair<int64_t, int64_t>, zab::Notification> seen;
  };
  struct InFlight {
    int64_t deliver_at_ms = 0;
    uint64_t seq = 0;
    int64_t to = 0;
    int to_incarnation = 0;
    zab::Notification notification;
    bool operator>(const InFlight& o) const {
      return deliver_at_ms != o.deliver_at_ms ? deliver_at_ms > o.deliver_at_ms : seq > o.seq;
    }
  };

  void boot(int64_t id);
  void begin(int64_t id);
  void step();
  void supervise(int64_t id);
  void deliver(const InFlight& m);
  void flush(int64_t id);
  void enqueue(int64_t from, int64_t to, const zab::Notification& n);
  bool connected(int64_t a, int64_t b) const;
  void note_decision(int64_t id);
  void trace(const std::string& line) const;
  uint64_t random_below(uint64_t n);
  double random_unit();

  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<SimServer> servers_;
  std::vector<zab::Member> members_;
  NetworkFaults faults_;
  zab::ElectionTiming timing_;
  int64_t role_timeout_ms_ = 0;
  int64_t now_ms_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t messages_sent_ = 0;
  bool trace_ = false;
  std::map<int64_t, Node> nodes_;
  std::map<int64_t, int> group_;  // empty: no partition
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> in_flight_;
  std::vector<DecisionEvent> decisions_;
  std::function<void(const SentMessage&)> on_send_;
};

/// Printable names for logs.
const char* state_name(zab::PeerState s);
std::string vote_text(const zab::Vote& v);

}  // namespace corral::sim
