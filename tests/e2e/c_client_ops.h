// Apache's C client (libzookeeper_mt) for the end-to-end tests that record a History: a
// session that reports its connection state, blocking wrappers for the asynchronous calls
// (sync, addAuth), and create/set/get recorded in one History as history.h's checker wants
// them (a write's outcome unknown on connection loss, a read's ZNONODE a successful "absent").
#pragma once

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <string>

#include "tests/e2e/history.h"

namespace corral::e2e {

/// Every operation the test's sessions made.
inline History g_history;
/// The next session's client number in g_history.
inline std::atomic<int> g_next_client{1};

/// How a C-client return code ends an operation: ok, unknown (connection trouble), or failed.
inline Outcome outcome_of(int rc) {
  if (rc == ZOK) return Outcome::kOk;
  if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED ||
      rc == ZSESSIONMOVED || rc == ZCLOSING || rc == ZINVALIDSTATE || rc == ZSYSTEMERROR)
    return Outcome::kUnknown;
  return Outcome::kFailed;
}

/// Every field of a Stat, to compare servers.
inline std::string stat_text(const Stat& s) {
  std::ostringstream out;
  out << s.czxid << "," << s.mzxid << "," << s.ctime << "," << s.mtime << "," << s.version << ","
      << s.cversion << "," << s.aversion << "," << s.ephemeralOwner << "," << s.dataLength << ","
      << s.numChildren << "," << s.pzxid;
  return out.str();
}

/// One C-client session, with its connection state from the session watcher.
class Zk {
 public:
  /// Starts a session over `hosts` (a connect string) with that session timeout.
  Zk(const std::string& hosts, int timeout_ms) : client_(g_next_client++) {
    zh_ = zookeeper_init(hosts.c_str(), &on_watch, timeout_ms, nullptr, this, 0);
  }
  /// Closes the session (its ephemerals go).
  ~Zk() {
    if (zh_) zookeeper_close(zh_);
  }
  Zk(const Zk&) = delete;
  Zk& operator=(const Zk&) = delete;
  /// The C client's handle.
  zhandle_t* zh() const { return zh_; }
  /// The history's client number of this session.
  int client() const { return client_; }
  /// The session id (0 before the first connection).
  int64_t session_id() const { return zoo_client_id(zh_)->client_id; }
  /// Waits until the watcher reports CONNECTED (false also once the session expired).
  bool wait_connected(std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(mu_);
    if (!zh_) return false;
    cv_.wait_for(lock, timeout, [&] {
      return state_ == ZOO_CONNECTED_STATE || state_ == ZOO_EXPIRED_SESSION_STATE;
    });
    return state_ == ZOO_CONNECTED_STATE;
  }

 private:
  static void on_watch(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<Zk*>(ctx);
    std::lock_guard lock(self->mu_);
    self->state_ = state;
    self->cv_.notify_all();
  }
  zhandle_t* zh_ = nullptr;
  int client_;
  std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;
};

/// Waits for one asynchronous C-client call: its completion stores the code here.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;

  static void on_void(int rc, const void* data) { finish(rc, data); }
  static void on_string(int rc, const char*, const void* data) { finish(rc, data); }
  /// The call's own code if it was not sent, else the completion's (which always comes:
  /// ZCLOSING at worst).
  int wait(int sent) {
    if (sent != ZOK) return sent;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return rc;
  }

 private:
  static void finish(int rc, const void* data) {
    auto* c = static_cast<Completion*>(const_cast<void*>(data));
    std::lock_guard lock(c->mu);
    c->rc = rc;
    c->done = true;
    c->cv.notify_all();
  }
};

/// zoo_async (sync) made blocking: the sync's code.
inline int sync_path(zhandle_t* zh, const std::string& path) {
  Completion c;
  return c.wait(zoo_async(zh, path.c_str(), &Completion::on_string, &c));
}

/// Adds the digest credentials "super:test" (the super digest the tests configure).
inline int add_super_auth(zhandle_t* zh) {
  const std::string cert = "super:test";
  Completion c;
  return c.wait(zoo_add_auth(zh, "digest", cert.data(), static_cast<int>(cert.size()),
                             &Completion::on_void, &c));
}

// ---- Recorded operations ----

/// A create recorded in g_history (its czxid as the write's zxid).
inline int create_op(Zk& zk, const std::string& path, const std::string& value, int flags = 0) {
  size_t id = g_history.invoke(zk.client(), OpKind::kCreate, path, value);
  Stat st{};
  int rc = zoo_create2(zk.zh(), path.c_str(), value.data(), static_cast<int>(value.size()),
                       &ZOO_OPEN_ACL_UNSAFE, flags, nullptr, 0, &st);
  g_history.complete_write(id, outcome_of(rc), rc, st.czxid);
  return rc;
}

/// A setData of any version recorded in g_history (its mzxid as the write's zxid).
inline int set_op(Zk& zk, const std::string& path, const std::string& value) {
  size_t id = g_history.invoke(zk.client(), OpKind::kSet, path, value);
  Stat st{};
  int rc = zoo_set2(zk.zh(), path.c_str(), value.data(), static_cast<int>(value.size()), -1, &st);
  g_history.complete_write(id, outcome_of(rc), rc, st.mzxid);
  return rc;
}

/// getData, after a sync of the path if `synced`; ZNONODE is a successful "absent".
inline int get_op(Zk& zk, const std::string& path, bool synced) {
  size_t id = g_history.invoke(zk.client(), OpKind::kGet, path, "", synced);
  int rc = synced ? sync_path(zk.zh(), path) : ZOK;
  char buf[1024];
  int len = sizeof buf;
  Stat st{};
  if (rc == ZOK) rc = zoo_get(zk.zh(), path.c_str(), 0, buf, &len, &st);
  const bool found = rc == ZOK;
  Outcome out = rc == ZNONODE ? Outcome::kOk : outcome_of(rc);
  if (out == Outcome::kUnknown) out = Outcome::kFailed;  // a read that failed changed nothing
  g_history.complete_read(id, out, rc, found, std::string(buf, found ? std::max(len, 0) : 0),
                          st.mzxid);
  return rc;
}

}  // namespace corral::e2e
