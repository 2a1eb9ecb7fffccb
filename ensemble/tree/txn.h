// Transactions: the resolved, deterministic form of a write. The request
// pipeline turns a request into a Txn (or an error Txn); every server applies
// Txns to its DataTree in zxid order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::tree {

/// One change inside a Txn. For a single write there is one op; for multi, one per request op;
/// for closeSession, a kDelete per ephemeral it removes.
struct TxnOp {
  /// The request opcode this op came from (create variants keep their own code so
  /// the response can be shaped), or kError for a failed op.
  wire::OpCode type = wire::OpCode::kError;
  std::string path;
  std::string data;
  /// The request sent a null buffer (length -1), kept apart from empty data.
  bool data_null = false;
  wire::AclList acl;
  /// create: the node's ephemeralOwner (session id, container or TTL marker).
  int64_t ephemeral_owner = 0;
  /// setData/setACL: the new version; check: the version matched.
  int32_t version = 0;
  /// create: the parent's new cversion.
  int32_t parent_cversion = 0;
  /// kError: the error code this op failed (or rolled back) with.
  wire::ErrorCode err = wire::ErrorCode::kOk;
};

/// A transaction with its header.
struct Txn {
  int64_t session_id = 0;
  int32_t cxid = 0;
  int64_t zxid = 0;
  int64_t time_ms = 0;
  /// kMulti, kCreateSession, kCloseSession, kError, or the single op's opcode.
  wire::OpCode type = wire::OpCode::kError;
  std::vector<TxnOp> ops;
  /// kCreateSession: negotiated timeout.
  int32_t session_timeout_ms = 0;
  /// kCreateSession: the session's password.
  std::string session_passwd;
  /// kError: the failed single request's code.
  wire::ErrorCode err = wire::ErrorCode::kOk;
  /// The txn encoded as the txn log and the quorum's frames hold it (txn::encode_txn), once
  /// made: the bytes a learner received it in, the leader's one encoding at propose
  /// (zab::PeerConfig::encode_txn), or the txn log's row it was read from. Empty: not made
  /// yet; whoever needs it encodes the txn.
  /// Set only before the txn is shared, so it always matches the fields above.
  std::string record;
};

/// A txn once made, shared by all that hold it (a leader's history, the batch to log, the
/// proposal to each follower, the batch to apply): it never changes again, and a copy would
/// allocate every op's path and data anew.
using SharedTxn = std::shared_ptr<const Txn>;

/// `txn`, moved into a SharedTxn.
inline SharedTxn share(Txn txn) { return std::make_shared<const Txn>(std::move(txn)); }

/// ephemeralOwner of a container node.
inline constexpr int64_t kContainerOwner = INT64_MIN;
/// Marks a TTL node's ephemeralOwner (extended type bits); the low 40 bits hold the TTL.
inline constexpr uint64_t kExtendedMask = 0xff00000000000000ull;
inline constexpr int64_t kMaxTtlMs = 0x000000ffffffffffll;

/// Kind of a node, decoded from its ephemeralOwner.
enum class NodeKind { kPersistent, kEphemeral, kContainer, kTtl };

/// Decodes ephemeralOwner the way ZooKeeper does with extended types enabled.
inline NodeKind node_kind(int64_t owner) {
  if (owner == 0) return NodeKind::kPersistent;
  if (owner == kContainerOwner) return NodeKind::kContainer;
  if ((static_cast<uint64_t>(owner) & kExtendedMask) == kExtendedMask) return NodeKind::kTtl;
  return NodeKind::kEphemeral;
}

/// The TTL in milliseconds held in a TTL node's ephemeralOwner.
inline int64_t ttl_of(int64_t owner) { return owner & kMaxTtlMs; }

/// The ephemeralOwner value for a TTL node.
inline int64_t ttl_owner(int64_t ttl_ms) {
  return static_cast<int64_t>(kExtendedMask | static_cast<uint64_t>(ttl_ms));
}

}  // namespace corral::tree
