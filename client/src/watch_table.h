// The client's side of watches: who is waiting for which path, as ZooKeeper's
// ZKWatchManager keeps it, so one notification from the server reaches every
// watcher it concerns, and the watches can be registered again on a new connection.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corral/client/result.h"
#include "corral/client/types.h"
#include "wire/records.h"

namespace corral::client {

/// The watch a request asks for.
enum class WatchKind {
  kNone,
  kData,                 ///< getData: registered when the node exists
  kExists,               ///< exists: a data watch if the node exists, an exist watch if not
  kChild,                ///< getChildren: registered when the node exists
  kPersistent,           ///< addWatch persistent
  kPersistentRecursive,  ///< addWatch persistent recursive
};

/// A watch waiting for its request's reply (paths as the server knows them).
struct PendingWatch {
  WatchKind kind = WatchKind::kNone;
  std::string path;
  Watcher watcher;
};

/// Watchers by path and kind.
class WatchTable {
 public:
  /// Registers `w` if the reply `err` says the server set it.
  void register_for_reply(const PendingWatch& w, ErrorCode err);
  /// The watchers an event of `type` on `path` triggers; one-shot watchers are removed.
  std::vector<Watcher> trigger(EventType type, const std::string& path);
  /// Removes the watchers of `type` on `path`, each with the event it is told of.
  std::vector<std::pair<Watcher, EventType>> remove(const std::string& path, WatcherType type);
  /// What to send in SetWatches2 to restore every watch after a reconnect, in requests of
  /// at most about `max_bytes` of paths each.
  std::vector<wire::SetWatchesRequest> to_set_watches(int64_t relative_zxid,
                                                      size_t max_bytes) const;
  /// True when no watch is registered.
  bool empty() const;
  /// Forgets every watch (the session is gone).
  void clear();

 private:
  // Transparent: a recursive watch's lookup walks the parents as views of the event's path.
  using Table = std::map<std::string, std::vector<Watcher>, std::less<>>;
  static void take(Table& t, const std::string& path, std::vector<Watcher>& out);
  static void copy(const Table& t, std::string_view path, std::vector<Watcher>& out);

  Table data_, exist_, child_, persistent_, recursive_;
};

}  // namespace corral::client
