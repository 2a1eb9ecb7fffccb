// One session of a master (internal to master.cc): its Client and LeaderLatch, and what it
// knows while it leads. A lost session is never reused: the master makes a new one.
#pragma once

#include <corral/recipes/leader_latch.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "apps/master-worker/layout.h"
#include "apps/master-worker/session.h"

namespace corral::mw {

/// A master's session; used on the io_context's one thread only.
struct MasterSession : Session, std::enable_shared_from_this<MasterSession> {
  using Session::Session;
  ~MasterSession() {
    subscription.reset();
    latch.reset();  // recipe objects go before their Client
  }

  std::unique_ptr<recipes::LeaderLatch> latch;

  /// What the latch said last.
  bool leading = false;
  /// This session's latch node ("/master/_c_...-latch-<seq>"), found on taking office;
  /// every multi checks it. Empty until then.
  std::string latch_node;
  /// The live workers seen last, by id.
  std::map<std::string, WorkerInfo> workers;
  /// Workers whose znode was deleted since they joined (a watch on it said so): lost, even when
  /// one of the same id is live again by the next read of /workers (a restarted worker waits
  /// only for its old znode to go).
  std::set<std::string> departed;
  /// Workers found lost whose /assign node has not been emptied yet: kept until it is, even
  /// when one of the same id joined meanwhile (a pass that stops early must not forget them).
  std::set<std::string> retiring;
  /// Nodes found malformed (logged once, then skipped).
  std::set<std::string> malformed;
  /// Paths with a child watch pending (set once, until it fires).
  std::set<std::string> armed;
  /// True while it may write as master.
  bool acting() const { return leading && !ended && !latch_node.empty(); }

  /// Ends the session's loop.
  void end() {
    ended = true;
    leading = false;
    wake.cancel();
  }
  /// A child watcher for `path`, or none if one is pending already (one-shot watches stay
  /// registered until they fire; more would pile up).
  client::Watcher watch_once(const std::string& path) {
    if (!armed.insert(path).second) return nullptr;
    return watcher([path](MasterSession& s) { s.armed.erase(path); });
  }
  /// A watch on worker `id`'s znode, set as it joins: any change but its deletion is not
  /// expected (a worker writes its znode once), and is taken as a departure too.
  client::Watcher watch_worker(const std::string& id) {
    return watcher([id](MasterSession& s) { s.departed.insert(id); });
  }
  /// A watcher that does `on_event` to this session (while it exists), then wakes its loop.
  client::Watcher watcher(std::function<void(MasterSession&)> on_event) {
    std::weak_ptr<MasterSession> weak = shared_from_this();
    return [weak, on_event = std::move(on_event)](const client::WatchEvent&) {
      auto s = weak.lock();
      if (!s) return;
      on_event(*s);
      s->notify();
    };
  }
  /// Forgets the watch of a read that failed (it was not set); returns false.
  bool unarm(const std::string& path) {
    armed.erase(path);
    return false;
  }
};

}  // namespace corral::mw
