// A minimal ZooKeeper client speaking the wire protocol over a plain socket, for requests the
// 3.8 C client has no API for (addWatch, removeWatches of persistent watches).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "zk_session.h"

namespace corral::compat {

/// One session on its own TCP connection; every call is synchronous and single-threaded.
class RawSession {
 public:
  /// addWatch modes (AddWatchMode in ZooKeeper).
  static constexpr int kPersistent = 0;
  static constexpr int kPersistentRecursive = 1;
  /// removeWatches types (WatcherType in ZooKeeper).
  static constexpr int kWatchChildren = 1;
  static constexpr int kWatchData = 2;
  static constexpr int kWatchAny = 3;
  static constexpr int kWatchPersistent = 4;
  static constexpr int kWatchPersistentRecursive = 5;

  /// Connects to `host_port` and creates a session; check ok().
  explicit RawSession(const std::string& host_port);
  ~RawSession();
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  /// True while the connection and session are up.
  bool ok() const { return fd_ >= 0; }
  /// The session id the server assigned.
  int64_t id() const { return session_id_; }

  /// addWatch (opcode 106); returns the server's error code (0 = ZOK).
  int add_watch(const std::string& path, int mode);
  /// removeWatches (opcode 18) of one watch type; returns the error code.
  int remove_watches(const std::string& path, int type);
  /// exists (opcode 3) with or without a one-shot watch; returns the error code.
  int exists(const std::string& path, bool watch);
  /// Waits until `count` events arrived or `timeout` passed, then makes a round trip so every
  /// event sent before it is read; returns and clears the queued events.
  std::vector<WatchEvent> take_events(size_t count, std::chrono::milliseconds timeout);
  /// Sends closeSession and waits for the answer.
  void close();

 private:
  bool handshake();
  /// Sends a request with `body` and reads until its reply; returns the error code.
  int call(int type, const std::string& body);
  bool send_frame(const std::string& frame);
  /// Reads one frame within `timeout`; false on timeout or error (error also closes).
  bool read_frame(std::string& frame, std::chrono::milliseconds timeout);
  /// Queues a notification, or returns the xid and error code of a reply.
  bool dispatch(const std::string& frame, int& xid, int& err);
  void fail();

  int fd_ = -1;
  int64_t session_id_ = 0;
  int next_xid_ = 1;
  std::deque<WatchEvent> events_;
};

}  // namespace corral::compat
