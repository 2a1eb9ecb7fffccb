// What the server core knows of a client connection: an id, where it comes
// from, its session and identities, and a way to send frames. The Asio
// connection implements it; tests and the fuzzer use an in-memory one.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "ensemble/tree/acl.h"

namespace corral::server {

/// A client connection as the core sees it.
class ClientLink {
 public:
  virtual ~ClientLink() = default;
  /// Queues a complete frame (4-byte length prefix included) for the client.
  virtual void send(std::string frame) = 0;
  /// Closes the connection once queued frames are written; no more frames are read.
  virtual void close() = 0;
  /// The core can take more frames again after holding too many (see ServerCore::accepts).
  virtual void wake() {}
  /// Whether the link may take on another reply now. Frames held behind writes are released
  /// only while it says yes, so that a client that pipelines reads behind a write gets them
  /// answered at the pace its output drains, as if it had sent them after the write. A link
  /// that says no calls ServerCore::resume_held once it may.
  virtual bool may_answer() { return true; }

  /// Unique per connection for the server's lifetime; also the watcher id.
  uint64_t id = 0;
  /// The peer's IP address as text.
  std::string address;
  /// The peer's "ip:port", for the cons four-letter word.
  std::string endpoint;
  /// 0 until the handshake completes.
  int64_t session_id = 0;
  /// Negotiated session timeout.
  int32_t session_timeout_ms = 0;
  /// Identities: "ip" from the address, plus any added with setAuth.
  tree::AuthIds auth;
  /// The session was accepted by a read-only server: writes get ZNOTREADONLY.
  bool read_only = false;
  /// Set once the link is being closed; the core ignores its further frames.
  bool closing = false;
  /// Writes of this link sent to the log, and those applied and answered.
  /// Writes pipeline; other requests wait in `held_frames` until every write
  /// before them is answered, so a session's requests complete in order.
  uint64_t writes_submitted = 0;
  uint64_t writes_completed = 0;
  /// A frame waiting for `after_writes` of this link's writes to complete.
  struct HeldFrame {
    std::string payload;
    uint64_t after_writes;
    bool barrier;
  };
  std::deque<HeldFrame> held_frames;
  /// Held frames that later writes must not overtake (setAuth changes how
  /// they are checked; the handshake establishes the session).
  int held_barriers = 0;
  /// ServerCore::release_held runs for this link (a wake from inside must not re-enter it).
  bool releasing_held = false;

  /// When each request still to be answered arrived (answers go out in order).
  std::deque<int64_t> request_started_ms;

  // Counters for the cons/stat four-letter words.
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  int64_t last_zxid = 0;
  int32_t last_cxid = 0;
  std::string last_op = "NA";
  int64_t established_ms = 0;
  int64_t last_response_ms = 0;
  int64_t min_latency_ms = -1;
  int64_t max_latency_ms = 0;
  int64_t total_latency_ms = 0;
  int64_t last_latency_ms = 0;
  uint64_t requests_completed = 0;
};

}  // namespace corral::server
