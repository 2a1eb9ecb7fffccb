// Frames of the quorum port: election notifications and ZAB messages encoded
// with Protocol Buffers (ensemble/zab/wire.proto), txns as in the txn log.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ensemble/zab/election.h"
#include "ensemble/zab/messages.h"
#include "ensemble/zab/relay.h"

namespace corral::zab {

/// What one quorum frame carries.
using PeerFrame = std::variant<Notification, Message, Relay>;

/// Encodes a notification, message or relay as one frame body.
std::string encode_frame(const PeerFrame& frame);
/// Decodes a frame body; nullopt when it is malformed.
std::optional<PeerFrame> decode_frame(std::string_view bytes);

}  // namespace corral::zab
