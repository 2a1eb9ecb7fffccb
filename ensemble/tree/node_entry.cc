#include "ensemble/tree/node_entry.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace corral::tree {

// length_ right after the node, and the characters right after length_; operator new's memory
// is aligned enough for the entry.
static_assert(sizeof(Node) % alignof(uint32_t) == 0);
static_assert(alignof(NodeEntry) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

NodeEntry::NodeEntry(std::string_view path) noexcept : length_(static_cast<uint32_t>(path.size())) {
  static_assert(sizeof(NodeEntry) == kCharsOffset + sizeof(uint32_t),
                "length_ sits right after the node");
  char* out = reinterpret_cast<char*>(this) + kCharsOffset;
  std::memcpy(out, path.data(), path.size());
  out[path.size()] = '\0';
}

NodeEntry::Owned NodeEntry::make(std::string_view path) {
  const size_t bytes = std::max(sizeof(NodeEntry), kCharsOffset + path.size() + 1);
  void* memory = ::operator new(bytes);
  // The node's constructor cannot throw (NodeData, SharedAcl and ChildNames start empty).
  return Owned(new (memory) NodeEntry(path));
}

void NodeEntry::Deleter::operator()(NodeEntry* entry) const noexcept {
  entry->~NodeEntry();
  ::operator delete(entry);
}

}  // namespace corral::tree
