// One session of a master (internal to master.cc): its Client and LeaderLatch, and what it
// knows while it leads. A lost session is never reused: the master makes a new one.
#pragma once

#include <corral/client/client.h>
#include <corral/recipes/leader_latch.h>

#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "apps/master-worker/layout.h"

namespace corral::mw {

/// A master's session; used on the io_context's one thread only.
struct MasterSession : std::enable_shared_from_this<MasterSession> {
  MasterSession(asio::io_context& io, std::unique_ptr<client::Client> c)
      : client(std::move(c)), wake(io) {}
  ~MasterSession() {
    subscription.reset();
    latch.reset();  // recipe objects go before their Client
  }

  std::unique_ptr<client::Client> client;
  std::unique_ptr<recipes::LeaderLatch> latch;
  client::StateSubscription subscription;

  /// Lost or stopping: nothing more is done with this session.
  bool ended = false;
  /// What the latch said last.
  bool leading = false;
  /// Something changed: the loop reads the ensemble again.
  bool dirty = true;
  /// This session's latch node ("/master/_c_...-latch-<seq>"), found on taking office;
  /// every multi checks it. Empty until then.
  std::string latch_node;
  /// The live workers seen last, by id.
  std::map<std::string, WorkerInfo> workers;
  /// Nodes found malformed (logged once, then skipped).
  std::set<std::string> malformed;
  /// Paths with a child watch pending (set once, until it fires).
  std::set<std::string> armed;
  /// Wakes the loop.
  asio::steady_timer wake;

  /// True while it may write as master.
  bool acting() const { return leading && !ended && !latch_node.empty(); }

  /// Marks the view dirty and wakes the loop.
  void notify() {
    dirty = true;
    wake.cancel();
  }
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
  /// Waits `d` or until woken; true when the time ran out.
  asio::awaitable<bool> sleep(std::chrono::milliseconds d) {
    std::error_code ec;
    wake.expires_after(d);
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }
};

}  // namespace corral::mw
