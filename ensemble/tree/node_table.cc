#include "ensemble/tree/node_table.h"

namespace corral::tree {

NodeTable& NodeTable::operator=(NodeTable&& other) noexcept {
  if (this != &other) {
    clear();
    entries_ = std::exchange(other.entries_, {});
  }
  return *this;
}

std::pair<NodeEntry*, bool> NodeTable::try_emplace(std::string_view path) {
  if (NodeEntry* there = find(path)) return {there, false};
  NodeEntry::Owned made = NodeEntry::make(path);
  entries_.insert(made.get());  // on a failed rehash, `made` frees the entry
  return {made.release(), true};
}

void NodeTable::erase(NodeEntry* entry) {
  entries_.erase(entry);
  NodeEntry::Deleter()(entry);
}

void NodeTable::clear() noexcept {
  for (NodeEntry* entry : entries_) NodeEntry::Deleter()(entry);
  entries_.clear();
}

}  // namespace corral::tree
