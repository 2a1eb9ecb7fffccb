// A "linearizability-lite" history of client operations against a ZooKeeper-compatible
// ensemble, and a checker of the guarantees ZooKeeper documents:
//   (a) acknowledged writes have distinct zxids;
//   (b) writes are linearizable: if write A completed before write B was invoked, then
//       zxid(A) < zxid(B);
//   (c) reads return something written: the value of a write (on that path) with the mzxid
//       that write got, invoked before the read completed and not one that failed; a read
//       preceded by a sync is fresh: not older than any write on its path that completed
//       before the read (its sync) was invoked; and every read is session-consistent: a
//       client never observes state older than what it saw or wrote before (plain reads may
//       be stale with respect to other clients, ZooKeeper allows that);
//   (d) at the end every server holds, for every path, the latest acknowledged write (or a
//       later one), and all servers agree.
// It is not a full linearizability checker (no search over orders): every write's place in
// the order is given by its zxid, so each rule is a direct check.
//
// Only create, set and get are modelled (no delete), and every write on a path is assumed to
// write a value no other write on that path writes: that is how a read is matched to its
// write, including a write whose outcome the client never learned (connection loss).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace corral::e2e {

/// What a client operation was.
enum class OpKind { kCreate, kSet, kGet };

/// How it ended, as far as the client knows.
enum class Outcome {
  kPending,  ///< invoked, no answer yet (checked as kUnknown)
  kOk,       ///< acknowledged
  kFailed,   ///< a definite error: it did not take effect (e.g. ZNODEEXISTS, ZBADVERSION)
  kUnknown,  ///< no definite answer (connection loss, timeout): it may or may not have
};

/// One client operation.
struct HistoryOp {
  using Clock = std::chrono::steady_clock;
  /// Who issued it: one client session, whose operations are issued in order.
  int client = 0;
  OpKind kind = OpKind::kGet;
  std::string path;
  /// The value written (create, set), or the value read (get that found the node).
  std::string value;
  /// When it was invoked (for a synced read: when its sync was invoked) and completed.
  Clock::time_point invoke{};
  Clock::time_point complete = Clock::time_point::max();
  Outcome outcome = Outcome::kPending;
  /// The client library's return code, for messages.
  int rc = 0;
  /// A write's zxid (czxid of a create, mzxid of a set); a read's mzxid (0 if not found).
  int64_t zxid = 0;
  /// For a get: whether the node existed.
  bool found = true;
  /// For a get: a sync on the same path was issued (and completed) right before it.
  bool synced = false;
};

/// One node as one server holds it at the end.
struct NodeState {
  bool found = false;
  std::string value;
  int64_t mzxid = 0;
  /// The whole Stat in any printable form; compared between servers when not empty.
  std::string stat;
};

/// One server's final state of the paths that were written: path -> node.
using ServerState = std::map<std::string, NodeState>;

/// A thread-safe record of operations, in invocation order.
class History {
 public:
  using Clock = HistoryOp::Clock;

  /// Records the invocation now; returns the id for complete().
  size_t invoke(int client, OpKind kind, const std::string& path, const std::string& value = {},
                bool synced = false);
  /// Records the completion of a write now: its outcome, return code and zxid (if kOk).
  void complete_write(size_t id, Outcome outcome, int rc, int64_t zxid = 0);
  /// Records the completion of a read now: whether the node was found, its value and mzxid.
  void complete_read(size_t id, Outcome outcome, int rc, bool found = false,
                     const std::string& value = {}, int64_t mzxid = 0);
  /// Appends a whole operation (hand-made histories).
  size_t add(HistoryOp op);
  /// A copy of every operation so far.
  std::vector<HistoryOp> ops() const;
  /// The number of operations so far.
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<HistoryOp> ops_;
};

/// Counts, for the test's report.
struct HistoryStats {
  size_t ops = 0, writes_ok = 0, writes_unknown = 0, writes_failed = 0, unknown_applied = 0;
  size_t reads_ok = 0, reads_synced = 0, reads_absent = 0, reads_failed = 0;
};

/// Checks a finished history. Each rule returns its violations, one message each (empty:
/// the rule holds); messages name the operations involved.
class HistoryChecker {
 public:
  /// Takes the operations (e.g. History::ops()) and matches reads to writes.
  explicit HistoryChecker(std::vector<HistoryOp> ops);

  /// (a) Acknowledged writes (and unknown ones that reads show took effect) have distinct,
  /// nonzero zxids.
  std::vector<std::string> unique_zxids() const;
  /// (b) A write that completed before another was invoked has the smaller zxid.
  std::vector<std::string> write_order() const;
  /// (c) Reads: each returns a real write's value with that write's zxid, not from a write
  /// invoked after the read completed nor from a failed write; synced reads are fresh; every
  /// client's reads and writes are session-consistent (see the file comment).
  std::vector<std::string> reads() const;
  /// (d) Every server has, for every path written (that starts with `prefix`), the latest
  /// acknowledged write or a later one with a value some write wrote; all servers agree on
  /// every path they report.
  std::vector<std::string> final_state(const std::vector<ServerState>& servers,
                                       const std::string& prefix = "") const;
  /// (a), (b) and (c).
  std::vector<std::string> check() const;

  /// Counts of what the history holds.
  HistoryStats stats() const;
  /// One operation for a message: "#12 c2 set /p='v' ok zxid=0x100000003 [1.234s, 1.240s]".
  std::string describe(size_t index) const;

 private:
  bool is_write(size_t i) const { return ops_[i].kind != OpKind::kGet; }
  /// The zxid a write took effect with: its own if acknowledged, the one reads showed if its
  /// outcome was unknown; 0 if not known to have taken effect.
  int64_t effective_zxid(size_t i) const;
  /// Matches reads to writes, learning the zxids of unknown writes; fills match_errors_.
  void resolve();

  std::vector<HistoryOp> ops_;
  HistoryOp::Clock::time_point origin_{};
  std::vector<int64_t> learned_;  // per op: zxid of an unknown write, learned from reads
  std::vector<std::string> match_errors_;
  // (path, value) -> the writes (any outcome) that wrote that value there
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> writers_;
  // path -> effective writes on it as (zxid, op index), sorted by zxid
  std::map<std::string, std::vector<std::pair<int64_t, size_t>>> by_path_;
};

}  // namespace corral::e2e
