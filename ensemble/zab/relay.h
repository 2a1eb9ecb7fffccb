// Server traffic that rides the quorum port next to ZAB's own messages: client
// writes a learner forwards to the leader, session touches, the sync round
// that confirms leadership before a `sync` is answered, and the revalidation of a
// session a client reattaches to on a learner that has not applied it yet. The ZAB core never
// sees these; the server's ensemble driver handles them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wire/records.h"

namespace corral::zab {

/// What a relay message is for.
enum class RelayKind : uint8_t {
  kRequest,      ///< learner -> leader: a client's write (or createSession/closeSession)
  kTouch,        ///< learner -> leader: sessions that were active on the learner
  kSyncRequest,  ///< learner -> leader: a client asked for sync
  kSyncReply,    ///< leader -> learner: the sync is answered once `zxid` is applied
  kConfirm,      ///< leader -> follower: still my follower? (round `id`)
  kConfirmAck,   ///< follower -> leader: yes, for round `id`
  /// learner -> leader: is session `session_id` with `passwd` live? (ZooKeeper's REVALIDATE)
  kRevalidate,
  /// leader -> learner: the verdict on revalidation `id`, and the zxid it was made at
  kRevalidateReply,
  /// leader -> learner: `body` is the part at offset `id` of the snapshot at `zxid` that the
  /// next SYNC (SNAP) names; the parts come before it, in order
  kSnapshotChunk,
};

/// One relay message. Fields not used by a kind stay at their defaults.
struct Relay {
  RelayKind kind = RelayKind::kTouch;
  int64_t from = 0;
  /// kRequest: the client's session and request.
  int64_t session_id = 0;
  int32_t cxid = 0;
  int32_t type = 0;
  /// kRequest: the request body after its header (jute), as the client sent it;
  /// kSnapshotChunk: a part of the snapshot's bytes.
  std::string body;
  /// kRequest: the identities the client authenticated as on the learner.
  std::vector<wire::Id> auth;
  /// kRequest createSession: the negotiated timeout and the new session's password;
  /// kRevalidate: the password the client presented.
  int32_t timeout_ms = 0;
  std::string passwd;
  /// kTouch: session ids.
  std::vector<int64_t> sessions;
  /// kSyncRequest/kSyncReply and kRevalidate/kRevalidateReply: the learner's request
  /// number; kConfirm/kConfirmAck: the round; kSnapshotChunk: the body's offset.
  int64_t id = 0;
  /// kSyncReply: the zxid to apply before answering; kRevalidateReply: the leader's last
  /// applied zxid when it gave its verdict; kSnapshotChunk: the snapshot's zxid.
  int64_t zxid = 0;
  /// kRevalidateReply: the session is live and the password is its own.
  bool valid = false;
};

}  // namespace corral::zab
