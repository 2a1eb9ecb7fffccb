// Checkers for what tests/e2e/history.h does not model, over records the nemesis workload
// keeps beside its register History:
//   - compare-and-set: setData with the version just read; no two acknowledged CAS writes
//     from the same version (a lost update), each one's new version is the old one plus one,
//     and versions grow with zxids;
//   - sequential creates: no two acknowledged creates got the same name, sequence numbers and
//     czxids increase together, a create that completed before another was invoked has the
//     smaller sequence number, and every server ends up with every acknowledged node;
//   - ephemerals: once their session has ended (closed, or its owner killed) and its timeout
//     plus a bound has passed, none of its ephemerals is on any server; a live session's are
//     on every server; and no ephemeral belongs to a session nobody knows to be alive.
// Each check returns its violations, one message each; empty means it holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/e2e/history.h"

namespace corral::nemesis {

using Clock = std::chrono::steady_clock;
using e2e::Outcome;

/// One setData(path, value, expected_version).
struct CasRecord {
  int client = 0;
  std::string path;
  int32_t expected_version = 0;
  Outcome outcome = Outcome::kPending;
  /// For an acknowledged one: the Stat's mzxid and version after it.
  int64_t zxid = 0;
  int32_t new_version = 0;
};

/// Lost updates and version/zxid disagreements among acknowledged CAS writes.
std::vector<std::string> check_cas(const std::vector<CasRecord>& ops);

/// One create of a PERSISTENT_SEQUENTIAL node under one parent.
struct SeqCreate {
  int client = 0;
  Clock::time_point invoke{}, complete{};
  Outcome outcome = Outcome::kPending;
  /// For an acknowledged one: the name the server gave (last component) and its czxid.
  std::string name;
  int64_t czxid = 0;
};

/// The 10-digit counter at the end of a sequential node's name, or -1.
int64_t sequence_of(const std::string& name);

/// Duplicate names, sequence/czxid order, and real-time order of acknowledged creates.
std::vector<std::string> check_sequence(const std::vector<SeqCreate>& ops);

/// One server's children of the sequential parent at the end: name -> czxid.
using SeqChildren = std::map<std::string, int64_t>;

/// Every acknowledged create is on every server with its czxid; all servers agree; sequence
/// order is czxid order among the children.
std::vector<std::string> check_sequence_final(const std::vector<SeqCreate>& ops,
                                              const std::vector<SeqChildren>& servers);

/// One session that owned ephemerals.
struct EphemeralSession {
  int64_t session_id = 0;
  /// Ephemerals it created (acknowledged) and those whose create had no definite answer.
  std::vector<std::string> created, maybe_created;
  /// Still alive at the end (its owner runs and was never told it is lost).
  bool alive = true;
  /// Its close was acknowledged (else its owner was killed, leaving it to expire).
  bool closed = false;
  /// When it ended: its close was acknowledged, or its owner was killed.
  Clock::time_point ended{};
};

/// One ephemeral node as one server holds it: its path and ephemeralOwner.
using EphemeralView = std::map<std::string, int64_t>;

/// At the end, each server's ephemerals under the parent: none of an ended session, all of a
/// live one (with that owner), and none owned by a session not known to be alive.
std::vector<std::string> check_ephemerals(const std::vector<EphemeralSession>& sessions,
                                          const std::vector<EphemeralView>& servers);

}  // namespace corral::nemesis
