// Messages between ensemble members on the quorum port, in ZAB's words.
// (The server encodes them with Protocol Buffers; the core and the simulator
// pass these structs.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/tree/txn.h"

namespace corral::zab {

/// What a message is for.
enum class MessageType : uint8_t {
  kFollowerInfo,  ///< learner -> leader: accepted epoch, last zxid, observer or not
  kLeaderInfo,    ///< leader -> learner: the new epoch
  kAckEpoch,      ///< learner -> leader: current epoch and last zxid
  kSync,          ///< leader -> learner: how to catch up (diff, trunc, snap) and the txns
  kNewLeader,     ///< leader -> learner: end of the sync stream
  kAckNewLeader,  ///< learner -> leader: the sync stream is durable
  kUpToDate,      ///< leader -> learner: start serving
  kProposal,      ///< leader -> follower: log these txns
  kAck,           ///< follower -> leader: logged up to zxid
  kCommit,        ///< leader -> follower: commit up to zxid
  kInform,        ///< leader -> observer: committed txns
  kPing,          ///< leader -> learner, and learner -> leader in reply
};

/// How a learner catches up with the leader.
enum class SyncMode : uint8_t {
  kDiff,   ///< append the txns that follow its last zxid
  kTrunc,  ///< drop its txns after `trunc_zxid`, then append
  kSnap,   ///< replace its state with the leader's snapshot, then append
};

/// The state a learner installs on SNAP: opaque bytes made by the driver
/// (the server's serialized tree and sessions) and the zxid they reflect.
struct SnapshotData {
  int64_t zxid = 0;
  std::string bytes;
  /// The leader's driver streams the bytes to the learner ahead of the SYNC, in relays of
  /// kind kSnapshotChunk, and `bytes` is empty; the learner's driver puts them back before
  /// its core sees the SYNC. The core never looks at either.
  bool streamed = false;
};

/// One message. Fields not used by a type stay at their defaults.
/// The most txn bytes (roughly, as encoded) one PROPOSAL or INFORM carries when Peer::send
/// folds txns together: well within the quorum's smallest frame limit (2 MiB). A txn bigger
/// than this travels alone.
inline constexpr size_t kFoldBytes = 512 * 1024;

struct Message {
  MessageType type = MessageType::kPing;
  int64_t from = 0;
  int64_t to = 0;
  /// kFollowerInfo: accepted epoch; kLeaderInfo/kNewLeader: the new epoch;
  /// kAckEpoch: current epoch.
  int64_t epoch = 0;
  /// kFollowerInfo/kAckEpoch: last logged zxid; kAck/kCommit: the zxid.
  int64_t zxid = 0;
  /// kFollowerInfo: the learner is an observer.
  bool observer = false;
  /// kFollowerInfo: the learner's state disagreed with the txns it was told to commit, so a
  /// DIFF or TRUNC cannot repair it: it asks for a SNAP.
  bool wants_snapshot = false;
  /// kSync: how to catch up, where to truncate, up to where the txns are committed.
  SyncMode sync_mode = SyncMode::kDiff;
  int64_t trunc_zxid = 0;
  int64_t committed_zxid = 0;
  std::shared_ptr<const SnapshotData> snapshot;
  /// kSync: txns to append; kProposal/kInform: one txn, or a few of one Ready (Peer::send
  /// folds them up to kFoldBytes; a bigger txn travels alone).
  std::vector<tree::SharedTxn> txns;
  /// kSync of a DIFF or TRUNC from further back than the leader's history in memory: the
  /// driver reads the logged txns after log_from up to log_to from its log and puts them
  /// before `txns` (and fails the sync if the log no longer holds log_from). 0: none.
  int64_t log_from = 0;
  int64_t log_to = 0;
  /// kCommit/kInform of a reconfig txn, and kUpToDate of a leader that completed one: who
  /// leads under the new config (ZooKeeper's COMMITANDACTIVATE/INFORMANDACTIVATE); 0 = none.
  int64_t designated_leader = 0;
  /// kNewLeader: the leader's newest config text (its last-seen one, or its active one), which
  /// the learner activates at UPTODATE if it is newer than its own (reconfig on only).
  std::string config;
  /// kFollowerInfo: the version of the learner's active config; a leader refuses a learner
  /// whose config is newer than its own (LearnerHandler).
  int64_t config_version = 0;
};

}  // namespace corral::zab
