// A local copy of one node, kept current with watches (Curator's NodeCache).
//
//   NodeCache cache(client, "/config/db");
//   cache.on_change([](const NodeCacheEvent& e) { reload(e.node); });
//   co_await cache.start(asio::use_awaitable);        // Result<void>: the first read is done
//   if (auto n = cache.current()) use(n->data);
//
// The cache reads the node again after every notification and re-arms its watch with that
// read, so no change goes unseen; a listener hears once per new version (several changes
// between two reads come as one event for the latest). Keep the Client alive as long as
// the cache.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "corral/client/client.h"
#include "corral/recipes/async.h"

namespace corral::recipes {

namespace detail {
class NodeCacheCore;
}

/// A node's data and Stat as last read.
struct NodeData {
  std::string data;
  client::Stat stat;
  bool operator==(const NodeData&) const = default;
};

/// What happened to a cached node.
enum class NodeCacheEventKind {
  kCreated,  ///< the node appeared (it was absent)
  kUpdated,  ///< the node's data changed (a newer mzxid)
  kDeleted,  ///< the node went (a delete and re-create reports kDeleted, then kCreated)
};

/// "created", "updated" or "deleted".
const char* node_cache_event_name(NodeCacheEventKind kind);

/// One change of the cached node.
struct NodeCacheEvent {
  NodeCacheEventKind kind = NodeCacheEventKind::kUpdated;
  /// The node as read after the change; empty for kDeleted.
  std::optional<NodeData> node;
};

/// Called on the client's executor, one event at a time, in the order of the changes.
/// The cache is updated before its listener is called, so current() may show a version
/// whose event is still to come (wait for the event itself to know the listener heard it).
using NodeCacheListener = std::function<void(const NodeCacheEvent&)>;

/// A node's data and Stat (or its absence), kept current.
class NodeCache {
 public:
  /// A cache of `path` (which may not exist yet). Nothing is read before start().
  NodeCache(client::Client& client, std::string path);
  /// close().
  ~NodeCache();
  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  /// Starts following the node; completes once the first read is done (current() then
  /// holds it), or with the error that stopped the cache (ZSESSIONEXPIRED, ZCLOSING...).
  template <typename Token>
  auto start(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { start_impl(std::move(done)); });
  }
  /// Stops following the node: once this returns, the listener is not called again.
  void close();
  /// Sets the listener (replacing the previous one); set it before start() to hear every
  /// change after the first read.
  void on_change(NodeCacheListener listener);

  /// The node as last read, or empty when it does not exist (or before the first read).
  std::optional<NodeData> current() const;
  /// False once the session was lost or the cache closed: current() no longer follows.
  bool running() const;
  /// The node's path.
  const std::string& path() const { return path_; }

 private:
  asio::any_io_executor executor() const;
  void start_impl(Done<void> done);

  std::string path_;
  std::shared_ptr<detail::NodeCacheCore> core_;
};

}  // namespace corral::recipes
