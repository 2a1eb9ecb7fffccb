#include "ensemble/tree/child_names.h"

#include <algorithm>
#include <utility>

#include "ensemble/tree/data_tree.h"

namespace corral::tree {
namespace {

using Entry = ChildNames::Entry;

bool name_before(const Entry* stored, std::string_view name) {
  return ChildNames::name_of(*stored) < name;
}
bool name_after(std::string_view name, const Entry* stored) {
  return name < ChildNames::name_of(*stored);
}

// Where `name` is or would go in `block`, and whether it is there.
std::pair<std::vector<const Entry*>::const_iterator, bool> locate(
    const std::vector<const Entry*>& block, std::string_view name) {
  auto at = std::lower_bound(block.begin(), block.end(), name, name_before);
  return {at, at != block.end() && ChildNames::name_of(**at) == name};
}

}  // namespace

size_t ChildNames::block_for(std::string_view name) const {
  const auto& bs = b_->blocks;
  auto it = std::partition_point(bs.begin(), bs.end(),
                                 [&](const Block& b) { return name_before(b.back(), name); });
  return it == bs.end() ? bs.size() - 1 : static_cast<size_t>(it - bs.begin());
}

ChildNames::const_iterator ChildNames::upper_bound(std::string_view name) const {
  if (!b_) return end();
  const auto& bs = b_->blocks;
  // The first block whose last name is after `name` holds the answer.
  auto block = std::partition_point(bs.begin(), bs.end(),
                                    [&](const Block& b) { return !name_after(name, b.back()); });
  if (block == bs.end()) return end();
  auto at = std::upper_bound(block->begin(), block->end(), name, name_after);
  return {&bs, static_cast<size_t>(block - bs.begin()), static_cast<size_t>(at - block->begin())};
}

bool ChildNames::contains(std::string_view name) const {
  if (!b_) return false;
  return locate(b_->blocks[block_for(name)], name).second;
}

const std::vector<ChildNames::Block>& ChildNames::no_blocks() {
  static const std::vector<Block> none;
  return none;
}

std::string_view ChildNames::name_of(const Entry& child) {
  const std::string_view path = child.first.view();
  return path.substr(path.rfind('/') + 1);
}

void ChildNames::insert(const Entry& child) {
  const std::string_view name = name_of(child);
  if (!b_) {
    // Built aside: a list left empty by a failed allocation would make a leaf look like a
    // parent (empty() tests the pointer).
    auto first = std::make_unique<Blocks>();
    first->blocks.emplace_back().push_back(&child);
    first->count = 1;
    b_ = std::move(first);
    return;
  }
  auto& bs = b_->blocks;
  if (name_before(bs.back().back(), name)) {
    // After every name: appended, into a fresh block when the last is full, so a parent loaded
    // in order fills its blocks completely. The fresh block joins with its name in it: an
    // empty block left by a failed allocation would break the walks.
    if (bs.back().size() < kBlock) {
      bs.back().push_back(&child);
    } else {
      Block fresh{&child};
      bs.push_back(std::move(fresh));
    }
    ++b_->count;
    return;
  }
  size_t index = block_for(name);
  Block& block = bs[index];
  auto [at, found] = locate(block, name);
  if (found) return;
  block.insert(at, &child);
  ++b_->count;
  if (block.size() <= kBlock) return;
  // Split in two halves (while nothing is erased, inserts keep blocks half full or more). The
  // upper half is placed before the lower one is cut: a failed allocation loses no name.
  size_t half = block.size() / 2;
  Block upper(block.begin() + half, block.end());
  bs.insert(bs.begin() + index + 1, std::move(upper));
  Block& lower = bs[index];  // the insert may have moved the blocks
  lower.resize(half);
  lower.shrink_to_fit();
}

void ChildNames::erase(std::string_view name) {
  if (!b_) return;
  auto& bs = b_->blocks;
  size_t index = block_for(name);
  Block& block = bs[index];
  auto [at, found] = locate(block, name);
  if (!found) return;
  block.erase(at);
  if (--b_->count == 0) {
    b_.reset();
    return;
  }
  if (block.empty()) {
    bs.erase(bs.begin() + index);
  } else if (block.size() * 4 <= block.capacity()) {
    // A big parent cut down to a few children keeps about 32 bytes a child at most, not the
    // blocks' whole former size.
    block.shrink_to_fit();
  }
}

bool operator==(const ChildNames& a, const ChildNames& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace corral::tree
