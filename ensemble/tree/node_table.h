// The DataTree's znodes by path.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "ensemble/tree/node_entry.h"
#include "ensemble/tree/path_hash.h"

namespace corral::tree {

/// Owns the tree's entries (node_entry.h), found by path through open addressing over
/// pointers to them: a lookup compares 7 bits of each candidate's hash before reading its
/// path, which lies in the entry itself. Entries never move while they are here (ChildNames
/// keeps their addresses). Against std::unordered_map, which walked a bucket's chain reading
/// each key: create in BM_TreeApplyCreate 1,520-1,590 -> 951 ns, find 25 -> 13 ns; but the
/// table's 9 bytes a slot cost more than the buckets where its capacity has just doubled
/// (1,000,000 znodes: 2^21 slots, ~19 MB).
class NodeTable {
 public:
  NodeTable() = default;
  NodeTable(NodeTable&& other) noexcept : entries_(std::exchange(other.entries_, {})) {}
  NodeTable& operator=(NodeTable&& other) noexcept;
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;
  ~NodeTable() { clear(); }

  /// The entry of `path`, or null.
  NodeEntry* find(std::string_view path) {
    auto it = entries_.find(path);
    return it == entries_.end() ? nullptr : *it;
  }
  const NodeEntry* find(std::string_view path) const {
    return const_cast<NodeTable*>(this)->find(path);
  }
  /// The entry of `path`, and true when it was made now (with a default node). Meant for paths
  /// not there yet: for one that is, an entry is made and dropped.
  std::pair<NodeEntry*, bool> try_emplace(std::string_view path);
  /// Removes and frees `entry`, which is here.
  void erase(NodeEntry* entry);
  /// How many entries.
  size_t size() const { return entries_.size(); }
  /// Makes room for `n` entries.
  void reserve(size_t n) { entries_.reserve(n); }

 private:
  /// Hashes an entry by its path, and a path as itself, so a lookup needs no entry.
  struct Hash : PathHash {
    using PathHash::operator();
    size_t operator()(const NodeEntry* entry) const noexcept { return (*this)(entry->path()); }
  };
  struct Equal {
    using is_transparent = void;
    static std::string_view path_of(const NodeEntry* entry) { return entry->path(); }
    static std::string_view path_of(std::string_view path) { return path; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return path_of(a) == path_of(b);
    }
  };

  /// Frees every entry.
  void clear() noexcept;

  absl::flat_hash_set<NodeEntry*, Hash, Equal> entries_;
};

}  // namespace corral::tree
