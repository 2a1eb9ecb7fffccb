// An in-memory client connection for ServerCore tests, and the frames that go over it:
// requests jute-encoded as a client would send them, replies decoded for checking.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ensemble/server/client_link.h"
#include "wire/jute.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::server::test {

/// A connection that keeps what the core sends it.
class FakeLink : public ClientLink {
 public:
  /// Link `link_id` from `addr`, its endpoint `addr`:40000.
  FakeLink(uint64_t link_id, const std::string& addr);
  /// Keeps `frame` in frames and passes it to on_send, if set.
  void send(std::string frame) override;
  /// Counts the call; the link stays usable.
  void close() override { ++close_calls; }
  /// Counts the call.
  void wake() override { ++wake_calls; }

  /// Complete frames, length prefix included.
  std::vector<std::string> frames;
  /// Frames already looked at by the test.
  size_t read = 0;
  /// How often the core called close().
  int close_calls = 0;
  /// How often the core called wake().
  int wake_calls = 0;
  /// The xid of the latest request a test helper sent on this link.
  int32_t next_xid = 0;
  /// Called with each frame as it is sent.
  std::function<void(const std::string&)> on_send;
};

/// A response frame split into its header and the body after it.
struct Reply {
  wire::ReplyHeader header;
  std::string body;
  /// The header's error code.
  wire::ErrorCode err() const { return static_cast<wire::ErrorCode>(header.err); }
  /// The header's xid.
  int32_t xid() const { return header.xid; }
  /// True for a watch notification.
  bool is_event() const { return header.xid == wire::kNotificationXid; }
};

/// The payload of a frame, after checking its length prefix.
std::string payload_of(const std::string& frame);

/// A reply frame's header and body.
Reply parse_reply(const std::string& frame);

/// Writes a request's body.
using BodyFn = std::function<void(wire::JuteWriter&)>;

/// A request payload: RequestHeader{xid, type}, then what `body` (if any) writes.
std::string encode_request(int32_t xid, wire::OpCode type, const BodyFn& body);

/// A ConnectRequest payload: a new session unless `session_id` is given.
std::string connect_request(int32_t timeout_ms, int64_t session_id = 0,
                            const std::string& passwd = std::string(16, '\0'),
                            int64_t last_zxid_seen = 0);

/// The ConnectResponse in `frame`, checking nothing follows it.
wire::ConnectResponse parse_connect_response(const std::string& frame);

}  // namespace corral::server::test
