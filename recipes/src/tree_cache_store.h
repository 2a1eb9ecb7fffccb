// The nodes a TreeCache holds (internal): path -> data and Stat, written on the cache's
// strand, read from any thread. Paths sort so that a node's descendants follow it
// contiguously ("/a" < "/a/..." < "/a0"), which makes subtrees ranges of the map.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "corral/recipes/tree_cache.h"

namespace corral::recipes::detail {

/// The cached nodes of one subtree, thread-safe.
class TreeStore {
 public:
  /// The node at `path`, or empty.
  std::optional<NodeData> get(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(path);
    if (it == nodes_.end()) return std::nullopt;
    return it->second;
  }
  /// True when `path` is cached.
  bool contains(const std::string& path) const {
    std::lock_guard lock(mu_);
    return nodes_.count(path) > 0;
  }
  /// The names of the cached children of `path`, sorted.
  std::vector<std::string> children(const std::string& path) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    const std::string prefix = prefix_of(path);
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end(); ++it) {
      const std::string& p = it->first;
      if (p.compare(0, prefix.size(), prefix) != 0) break;
      if (p.size() == prefix.size()) continue;  // the root "/" itself
      if (p.find('/', prefix.size()) == std::string::npos) out.push_back(p.substr(prefix.size()));
    }
    return out;
  }
  /// How many nodes are cached.
  size_t size() const {
    std::lock_guard lock(mu_);
    return nodes_.size();
  }
  /// A copy of every cached node.
  std::map<std::string, NodeData> snapshot() const {
    std::lock_guard lock(mu_);
    return nodes_;
  }
  /// Stores `node` at `path` (the same incarnation, or a new node); what to report: added
  /// for a new path, updated for a newer mzxid, nothing for the version already held.
  std::optional<TreeCacheEventKind> put(const std::string& path, NodeData node) {
    std::lock_guard lock(mu_);
    auto [it, added] = nodes_.try_emplace(path, node);
    if (added) return TreeCacheEventKind::kNodeAdded;
    // A session's reads never go back in time, so an mzxid not newer is the same version.
    if (node.stat.mzxid <= it->second.stat.mzxid) {
      it->second.stat = node.stat;  // children counts and pzxid still move on
      return std::nullopt;
    }
    it->second = std::move(node);
    return TreeCacheEventKind::kNodeUpdated;
  }
  /// Removes `path` and its descendants; what was removed, every child before its parent.
  std::vector<std::pair<std::string, NodeData>> remove_subtree(const std::string& path) {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, NodeData>> out;
    const std::string prefix = prefix_of(path);
    auto first = nodes_.lower_bound(prefix), last = first;
    while (last != nodes_.end() && last->first.compare(0, prefix.size(), prefix) == 0) ++last;
    // Reversed, descendants come before their ancestors (an ancestor is a prefix: smaller).
    std::vector<std::pair<std::string, NodeData>> self;  // the root "/" is in its own range
    for (auto it = std::make_reverse_iterator(last); it != std::make_reverse_iterator(first); ++it)
      (it->first == path ? self : out).emplace_back(it->first, std::move(it->second));
    nodes_.erase(first, last);
    if (auto it = nodes_.find(path); it != nodes_.end()) {
      self.emplace_back(path, std::move(it->second));
      nodes_.erase(it);
    }
    out.insert(out.end(), self.begin(), self.end());
    return out;
  }

 private:
  static std::string prefix_of(const std::string& path) { return path == "/" ? path : path + "/"; }

  mutable std::mutex mu_;
  std::map<std::string, NodeData> nodes_;
};

}  // namespace corral::recipes::detail
