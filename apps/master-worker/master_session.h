// One session of a master (internal to master.cc): its Client and LeaderLatch, and what it
// knows while it leads. A lost session is never reused: the master makes a new one.
#pragma once

#include <corral/recipes/leader_latch.h>

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
    std::weak_ptr<MasterSession> weak = shared_from_this();
    return [weak, path](const client::WatchEvent&) {
      auto s = weak.lock();
      if (!s) return;
      s->armed.erase(path);
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
