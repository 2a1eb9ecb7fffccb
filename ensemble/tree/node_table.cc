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
  // Made first, so the table is probed once (a look first and an insert would probe twice):
  // paths are mostly new here, so an entry is rarely made for nothing. If the insert throws,
  // `made` frees the entry.
  NodeEntry::Owned made = NodeEntry::make(path);
  auto [at, inserted] = entries_.insert(made.get());
  if (!inserted) return {*at, false};
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
