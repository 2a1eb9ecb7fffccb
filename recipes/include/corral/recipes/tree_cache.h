// A local copy of a subtree, kept current with watches (Curator's TreeCache / CuratorCache).
//
//   TreeCache tasks(client, "/tasks");
//   tasks.on_event([](const TreeCacheEvent& e) { show(e); });
//   co_await tasks.start(asio::use_awaitable);   // Result<void>: the subtree is loaded
//   for (auto& name : tasks.children("/tasks")) ...
//
// One persistent recursive watch on the root tells of every change below it (servers
// without addWatch, or with force_one_shot_watches: a data and a child watch per node, each
// re-armed by the read that follows its event). Every notification is followed by a read,
// so the cache converges on the server's tree: a node created and deleted before its read
// is no event at all; several changes between two reads are one event for the latest
// version. After a reconnect the whole subtree is read again (persistent watches do not
// replay what happened meanwhile). Keep the Client alive as long as the cache.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/node_cache.h"

namespace corral::recipes {

namespace detail {
class TreeCacheCore;
}

/// How a TreeCache follows its subtree.
struct TreeCacheOptions {
  /// How deep below the root to cache: 0 the root only, 1 its children too...; -1 no limit.
  int max_depth = -1;
  /// Watch each node with one-shot watches even when the server has persistent recursive
  /// watches (what the cache does by itself on servers without addWatch).
  bool force_one_shot_watches = false;
};

/// What happened in a cached subtree.
enum class TreeCacheEventKind {
  kNodeAdded,    ///< a node appeared (also for every node of the first load)
  kNodeUpdated,  ///< a node's data changed (a newer mzxid)
  kNodeRemoved,  ///< a node went (children are reported before their parent)
  kInitialized,  ///< the first load is complete (after its kNodeAdded events)
  kLost,         ///< the session was lost (or the client closed): the cache stopped
};

/// "node_added", "node_updated", "node_removed", "initialized" or "lost".
const char* tree_cache_event_name(TreeCacheEventKind kind);

/// One change of the cached subtree.
struct TreeCacheEvent {
  TreeCacheEventKind kind = TreeCacheEventKind::kNodeUpdated;
  /// The node's path (empty for kInitialized and kLost).
  std::string path;
  /// The node as read after the change (as last cached, for kNodeRemoved).
  NodeData node;
};

/// Called on the client's executor, one event at a time, in the order of the changes.
/// The cache is updated before its listener is called, so get() and snapshot() may show a
/// version whose event is still to come (wait for the event itself to know the listener
/// heard it).
using TreeCacheListener = std::function<void(const TreeCacheEvent&)>;

/// A subtree's nodes (path -> data and Stat), kept current.
class TreeCache {
 public:
  /// A cache of `root` and its descendants (the root may not exist yet). Nothing is read
  /// before start().
  TreeCache(client::Client& client, std::string root, TreeCacheOptions options = {});
  /// close().
  ~TreeCache();
  TreeCache(const TreeCache&) = delete;
  TreeCache& operator=(const TreeCache&) = delete;

  /// Starts following the subtree; completes once it was loaded whole (kInitialized), or
  /// with the error that stopped the cache (ZSESSIONEXPIRED, ZCLOSING, ZNOAUTH...).
  template <typename Token>
  auto start(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { start_impl(std::move(done)); });
  }
  /// Stops following the subtree and removes its persistent watch: once this returns, the
  /// listener is not called again.
  void close();
  /// close(), then completes once the cache has stopped and its persistent watch is removed
  /// from the server (at once if it was never started).
  template <typename Token>
  auto close(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { close_impl(std::move(done)); });
  }
  /// Sets the listener (replacing the previous one); set it before start() to hear every
  /// node of the first load.
  void on_event(TreeCacheListener listener);

  /// The cached node at `path`, or empty.
  std::optional<NodeData> get(const std::string& path) const;
  /// The names of the cached children of `path`, sorted.
  std::vector<std::string> children(const std::string& path) const;
  /// How many nodes are cached.
  size_t size() const;
  /// Every cached node by path.
  std::map<std::string, NodeData> snapshot() const;
  /// False once the session was lost or the cache closed.
  bool running() const;
  /// True when the cache watches with one persistent recursive watch (known once started).
  bool persistent_watch() const;
  /// The subtree's root.
  const std::string& root() const { return root_; }

 private:
  asio::any_io_executor executor() const;
  void start_impl(Done<void> done);
  void close_impl(Done<void> done);

  std::string root_;
  std::shared_ptr<detail::TreeCacheCore> core_;
};

}  // namespace corral::recipes
