// A znode and its path in one allocation: the tree's table points at these, and a parent's
// ChildNames at its children's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ensemble/tree/node.h"

namespace corral::tree {

/// A znode with its path (NUL-terminated) right after it in the same allocation, so reading a
/// child's name costs one cache miss, where a path of its own cost a second: a parent's
/// ChildNames compares names to find a place (ChildNames::name_of was 7-10% of a member's
/// samples under create). Never moves or copies: ChildNames keeps its address.
class NodeEntry final {
 public:
  /// Frees an entry made by make().
  struct Deleter {
    void operator()(NodeEntry* entry) const noexcept;
  };
  using Owned = std::unique_ptr<NodeEntry, Deleter>;

  /// A default node at `path`.
  static Owned make(std::string_view path);

  NodeEntry(const NodeEntry&) = delete;
  NodeEntry& operator=(const NodeEntry&) = delete;

  /// The node's path.
  std::string_view path() const noexcept { return {chars(), length_}; }
  /// The node.
  Node& node() noexcept { return node_; }
  const Node& node() const noexcept { return node_; }

 private:
  explicit NodeEntry(std::string_view path) noexcept;
  ~NodeEntry() = default;

  /// Where the path's characters start: right after length_, in what would be this class's
  /// tail padding and beyond (make() allocates room for them).
  static constexpr size_t kCharsOffset = sizeof(Node) + sizeof(uint32_t);
  const char* chars() const noexcept { return reinterpret_cast<const char*>(this) + kCharsOffset; }

  Node node_;
  uint32_t length_;
};

}  // namespace corral::tree
