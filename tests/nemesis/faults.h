// The nemesis: a schedule of faults drawn from a seed (printed, so a run can be repeated with
// CORRAL_NEMESIS_SEED), and the code that applies and heals them on a Topology and Cluster.
// Choices that depend on the run (which member leads right now) are resolved when a fault is
// applied, from random numbers fixed in the schedule, so the same seed gives the same faults
// relative to the ensemble's roles.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/nemesis/cluster.h"
#include "tests/nemesis/netns.h"

namespace corral::nemesis {

/// What one fault does.
enum class FaultKind {
  kIsolateLeader,  ///< the leader alone | the rest
  kMinoritySplit,  ///< a random minority | the majority (2|1 of 3, 3|2 of 5)
  kSplitAll,       ///< no majority anywhere (1|1|1 of 3, 2|2|1 of 5)
  kBridge,         ///< A sees B, B sees C, C does not see A (one pair cut)
  kOneWay,         ///< packets dropped in one direction only, around the leader
  kPauseLeader,    ///< SIGSTOP the leader
  kPauseMember,    ///< SIGSTOP a random member
  kKillLeader,     ///< SIGKILL the leader, restarted at heal
  kKillFollower,   ///< SIGKILL a follower, restarted at heal
  kKillMajority,   ///< SIGKILL a majority, restarted at heal
  kCrashRestart,   ///< SIGKILL a random member and start it again at once
};

/// One step of the schedule.
struct Fault {
  FaultKind kind = FaultKind::kIsolateLeader;
  /// Random numbers for the choices made when it is applied.
  uint32_t pick[3] = {0, 0, 0};
  /// How long it lasts before heal.
  std::chrono::milliseconds duration{1000};
  /// How long the healed ensemble runs (after it has a quorum again) before the next fault.
  std::chrono::milliseconds calm{500};
};

/// The faults of `duration` (the sum of their durations and calms); every kind works for 3
/// and 5 members.
std::vector<Fault> make_schedule(uint64_t seed, std::chrono::milliseconds duration);

/// "kill-leader 1200ms (+600ms calm)".
std::string describe(const Fault& f);

/// Applies faults to a running ensemble and heals them.
class Nemesis {
 public:
  Nemesis(Topology& net, Cluster& cluster) : net_(net), cluster_(cluster) {}
  /// Applies `f`; what it did ("isolate s2 | s1 s3"), or "failed: ..." on an error.
  std::string apply(const Fault& f);
  /// Removes every rule, resumes paused members and starts killed ones; false on an error.
  bool heal();

 private:
  using Clock = Cluster::Clock;
  /// apply() without the note.
  std::string inflict(const Fault& f);
  /// The leader now, or a member chosen by `pick` when none leads (noted in note_).
  int leader_or(uint32_t pick);
  /// A member other than `not_this`, chosen by `pick`.
  int other(int not_this, uint32_t pick) const;
  std::string name(int i) const { return "s" + std::to_string(i + 1); }
  std::string split(const std::vector<std::vector<int>>& groups);

  Topology& net_;
  Cluster& cluster_;
  std::string note_;  // said after apply()'s description
};

}  // namespace corral::nemesis
