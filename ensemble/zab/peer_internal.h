// Helpers shared by Peer's source files (peer.cc, peer_learner.cc); not a public API.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ensemble/zab/messages.h"

namespace corral::zab::detail {

/// Epochs are the high 32 bits of a zxid, which stays positive: a FOLLOWERINFO or
/// LEADERINFO with an epoch from here on is malformed.
inline constexpr int64_t kMaxEpoch = int64_t{1} << 31;

/// A message of `type` to `to`, its other fields at their defaults.
inline Message message(MessageType type, int64_t to, int64_t epoch = 0, int64_t zxid = 0) {
  Message m;
  m.type = type;
  m.to = to;
  m.epoch = epoch;
  m.zxid = zxid;
  return m;
}

/// A txn's size as encoded, roughly (a little over: the record's field tags and varints).
size_t approx_bytes(const tree::Txn& t);

}  // namespace corral::zab::detail
