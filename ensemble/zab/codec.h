// Frames of the quorum port: election notifications and ZAB messages encoded
// with Protocol Buffers (ensemble/zab/wire.proto), txns as in the txn log.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "ensemble/zab/election.h"
#include "ensemble/zab/messages.h"
#include "ensemble/zab/relay.h"

namespace corral::zab {

/// What one quorum frame carries.
using PeerFrame = std::variant<Notification, Message, Relay>;

/// Encodes a notification, message or relay as one frame body.
std::string encode_frame(const PeerFrame& frame);
/// Encodes the messages of one Ready, each txn once: a proposal goes to every learner (and a
/// DIFF's txns to every learner syncing), and its txn is most of the cost of each frame. The
/// txns are told apart by zxid, which names one txn within a Ready.
class MessageEncoder {
 public:
  /// The frame body of `m`, as encode_frame(m) makes it.
  std::string encode(const Message& m);

 private:
  std::unordered_map<int64_t, std::string> txns_;
};

/// Decodes a frame body; nullopt when it is malformed.
std::optional<PeerFrame> decode_frame(std::string_view bytes);

}  // namespace corral::zab
