// A session of Apache ZooKeeper's C client (multi-threaded build) with a queue of the watch
// events it receives, for the compatibility driver.
#pragma once

#include <zookeeper/zookeeper.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace corral::compat {

/// One watch event as the C client delivered it to a watcher.
struct WatchEvent {
  std::string watcher;  ///< tag of the watcher that received it ("default" for the global one)
  int type = 0;         ///< ZOO_CREATED_EVENT, ZOO_DELETED_EVENT, ...
  int state = 0;        ///< ZOO_CONNECTED_STATE, ...
  std::string path;
};

/// A C client session with a name ("A", "B", ...) used in the transcript.
/// Watch events are queued in the order the client's completion thread delivers them.
class ZkSession {
 public:
  /// Starts connecting to `hosts` ("host:port"); call wait_connected() before use.
  ZkSession(std::string name, const std::string& hosts, int session_timeout_ms);
  ~ZkSession();
  ZkSession(const ZkSession&) = delete;
  ZkSession& operator=(const ZkSession&) = delete;

  /// Waits until the session is connected; false on timeout.
  bool wait_connected(std::chrono::milliseconds timeout);
  /// Closes the session (the server then deletes its ephemerals). Idempotent.
  void close();
  /// True until close().
  bool open() const { return zh_ != nullptr; }

  /// The C client handle; nullptr after close().
  zhandle_t* zh() const { return zh_; }
  /// The session's name in the transcript.
  const std::string& name() const { return name_; }
  /// The session id the server assigned (0 before connecting).
  int64_t id() const { return id_; }

  /// The watcher function to pass with watcher_ctx(tag) to zoo_w* calls.
  static watcher_fn watcher() { return &on_watch; }
  /// A stable context for the watcher tagged `tag`; the same tag gives the same context,
  /// so the client treats repeated registrations as one watcher (as for one Java Watcher).
  void* watcher_ctx(const std::string& tag);

  /// Waits until at least `count` watch events are queued or `timeout` passes, then does
  /// a round trip through the client's completion queue so every event the server sent
  /// before it is delivered; returns and clears the queue.
  std::vector<WatchEvent> take_events(size_t count, std::chrono::milliseconds timeout);
  /// The last session state the global watcher saw (ZOO_CONNECTED_STATE, ...).
  int last_state();

 private:
  struct Tag {
    ZkSession* session;
    std::string name;
  };
  static void on_watch(zhandle_t* zh, int type, int state, const char* path, void* ctx);
  static void on_drained(int rc, const struct Stat* stat, const void* data);
  void push(const std::string& tag, int type, int state, const char* path);
  bool drain(std::chrono::milliseconds timeout);

  std::string name_;
  zhandle_t* zh_ = nullptr;
  int64_t id_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;
  std::vector<WatchEvent> events_;
  int drains_done_ = 0;
  std::map<std::string, std::unique_ptr<Tag>> tags_;
};

}  // namespace corral::compat
