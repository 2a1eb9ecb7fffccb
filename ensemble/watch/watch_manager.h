// Watches: one-shot data/exist/child watches and persistent(-recursive)
// watches, kept as ZooKeeper does in two tables (data and child).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "wire/protocol.h"

namespace corral::watch {

/// Identifies who gets events: a client connection.
using WatcherId = uint64_t;

/// How a watch behaves once it fires.
enum class WatchMode : uint8_t { kStandard, kPersistent, kPersistentRecursive };

/// An event to deliver to one watcher.
struct Delivery {
  WatcherId watcher;
  wire::EventType type;
  std::string path;
};

/// Holds every watch and resolves tree changes into deliveries.
class WatchManager {
 public:
  /// getData, or exists on any path (ZooKeeper keeps exist watches with data watches).
  void add_data_watch(const std::string& path, WatcherId w);
  /// getChildren.
  void add_child_watch(const std::string& path, WatcherId w);
  /// addWatch: a persistent or persistent-recursive watch (in both tables).
  void add_persistent(const std::string& path, WatcherId w, bool recursive);

  /// The deliveries for a change at `path`; one-shot watches that fire are removed.
  /// A watcher gets at most one event per call. Nothing here knows identities: the caller
  /// drops deliveries whose watcher may not READ the change (CVE-2024-23944), after the
  /// one-shot watches are spent, as ZooKeeper does.
  std::vector<Delivery> trigger(const std::string& path, wire::EventType type);

  /// checkWatches: whether `w` watches `path` with `type` (children, data, any).
  bool contains(const std::string& path, WatcherId w, wire::WatcherType type) const;
  /// removeWatches: removes `w`'s watches of `type` on `path`; false if none.
  bool remove(const std::string& path, WatcherId w, wire::WatcherType type);
  /// Drops every watch of `w` (its connection closed).
  void remove_watcher(WatcherId w);

  /// Number of watches (path, watcher pairs) across both tables.
  size_t watch_count() const;
  /// Paths watched by each watcher, for wchc; watchers of each path, for wchp.
  std::unordered_map<WatcherId, std::vector<std::string>> by_watcher() const;
  /// Number of distinct watched paths.
  size_t path_count() const;

 private:
  using Watchers = std::unordered_map<WatcherId, WatchMode>;
  using Table = std::unordered_map<std::string, Watchers>;

  static void collect(Table& table, const std::string& path, wire::EventType type,
                      std::unordered_set<WatcherId>& seen, std::vector<Delivery>& out);
  static bool remove_from(Table& table, const std::string& path, WatcherId w);
  bool has_recursive() const { return recursive_count_ > 0; }

  Table data_;
  Table child_;
  size_t recursive_count_ = 0;
};

}  // namespace corral::watch
