// Constants of ZooKeeper 3.8's client protocol: opcodes, error codes,
// permissions, create modes, watch event types and keeper states.
#pragma once

#include <cstdint>
#include <string_view>

namespace corral::wire {

/// Request opcodes (ZooDefs.OpCode).
enum class OpCode : int32_t {
  kNotification = 0,
  kCreate = 1,
  kDelete = 2,
  kExists = 3,
  kGetData = 4,
  kSetData = 5,
  kGetAcl = 6,
  kSetAcl = 7,
  kGetChildren = 8,
  kSync = 9,
  kPing = 11,
  kGetChildren2 = 12,
  kCheck = 13,
  kMulti = 14,
  kCreate2 = 15,
  kReconfig = 16,
  kCheckWatches = 17,
  kRemoveWatches = 18,
  kCreateContainer = 19,
  kDeleteContainer = 20,
  kCreateTtl = 21,
  kMultiRead = 22,
  kAuth = 100,
  kSetWatches = 101,
  kSasl = 102,
  kGetEphemerals = 103,
  kGetAllChildrenNumber = 104,
  kSetWatches2 = 105,
  kAddWatch = 106,
  kWhoAmI = 107,
  kCreateSession = -10,
  kCloseSession = -11,
  kError = -1,
};

/// Error codes carried in ReplyHeader.err (KeeperException.Code).
enum class ErrorCode : int32_t {
  kOk = 0,
  kSystemError = -1,
  kRuntimeInconsistency = -2,
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kUnimplemented = -6,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kUnknownSession = -12,
  kNewConfigNoQuorum = -13,
  kReconfigInProgress = -14,
  kApiError = -100,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kInvalidCallback = -113,
  kInvalidAcl = -114,
  kAuthFailed = -115,
  kClosing = -116,
  kNothing = -117,
  kSessionMoved = -118,
  kNotReadOnly = -119,
  kEphemeralOnLocalSession = -120,
  kNoWatcher = -121,
  kRequestTimeout = -122,
  kReconfigDisabled = -123,
  kSessionClosedRequireSaslAuth = -124,
  kQuotaExceeded = -125,
  kThrottledOp = -127,
};

/// True for the create variants: create, create2, createContainer, createTTL.
constexpr bool is_create(OpCode op) {
  return op == OpCode::kCreate || op == OpCode::kCreate2 || op == OpCode::kCreateContainer ||
         op == OpCode::kCreateTtl;
}

/// True for the client requests that go through the txn log: the creates,
/// delete, setData, setACL, check and multi (session ops are the server's own).
constexpr bool is_write(OpCode op) {
  return is_create(op) || op == OpCode::kDelete || op == OpCode::kSetData ||
         op == OpCode::kSetAcl || op == OpCode::kCheck || op == OpCode::kMulti;
}

/// ZooKeeper's name for an error code ("ZNONODE"), or "ZUNKNOWN" for a code it does not define.
std::string_view error_name(ErrorCode code);

/// ACL permission bits (ZooDefs.Perms).
namespace perms {
inline constexpr int32_t kRead = 1;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kCreate = 4;
inline constexpr int32_t kDelete = 8;
inline constexpr int32_t kAdmin = 16;
inline constexpr int32_t kAll = 31;
}  // namespace perms

/// CreateMode flag values as sent in CreateRequest.flags.
enum class CreateMode : int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTtl = 5,
  kPersistentSequentialWithTtl = 6,
};

/// WatchedEvent types.
enum class EventType : int32_t {
  kNone = -1,
  kNodeCreated = 1,
  kNodeDeleted = 2,
  kNodeDataChanged = 3,
  kNodeChildrenChanged = 4,
  kDataWatchRemoved = 5,
  kChildWatchRemoved = 6,
  kPersistentWatchRemoved = 7,
};

/// Keeper states carried in WatcherEvent.state.
enum class KeeperState : int32_t {
  kDisconnected = 0,
  kSyncConnected = 3,
  kAuthFailed = 4,
  kConnectedReadOnly = 5,
  kExpired = -112,
};

/// Watcher types of checkWatches/removeWatches.
enum class WatcherType : int32_t {
  kChildren = 1,
  kData = 2,
  kAny = 3,
  kPersistent = 4,
  kPersistentRecursive = 5,
};

/// addWatch modes.
enum class AddWatchMode : int32_t { kPersistent = 0, kPersistentRecursive = 1 };

/// Reserved xids in ReplyHeader.
inline constexpr int32_t kNotificationXid = -1;
inline constexpr int32_t kPingXid = -2;
inline constexpr int32_t kAuthXid = -4;
inline constexpr int32_t kSetWatchesXid = -8;

/// Default bound on a frame's length (jute.maxbuffer).
inline constexpr int32_t kDefaultMaxBuffer = 0xfffff;

}  // namespace corral::wire
