#include "ensemble/tree/child_names.h"

#include <algorithm>
#include <utility>

#include "ensemble/tree/node_entry.h"

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

// The first 8 bytes of `name`, big-endian, zeros after a shorter one. It never orders two
// names against their texts: a < b gives prefix_of(a) <= prefix_of(b), so different prefixes
// decide, and equal ones leave it to the whole names.
uint64_t prefix_of(std::string_view name) {
  uint64_t p = 0;
  const size_t n = std::min<size_t>(name.size(), 8);
  for (size_t i = 0; i < n; ++i) p |= uint64_t{static_cast<unsigned char>(name[i])} << (56 - 8 * i);
  return p;
}

}  // namespace

ChildNames::Last ChildNames::last_of(std::string_view name) { return {prefix_of(name), name}; }

template <class Before>
size_t ChildNames::first_block_not(std::string_view name, Before before) const {
  const auto& bs = b_->blocks;
  if (lasts_kept()) {
    const auto& lasts = b_->lasts;
    const uint64_t prefix = prefix_of(name);
    auto at = std::partition_point(lasts.begin(), lasts.end(), [&](const Last& last) {
      if (last.prefix != prefix) return before(last.prefix < prefix ? -1 : 1);
      return before(last.name.compare(name));
    });
    return static_cast<size_t>(at - lasts.begin());
  }
  return static_cast<size_t>(std::partition_point(bs.begin(), bs.end(),
                                                  [&](const Block& b) {
                                                    return before(name_of(*b.back()).compare(name));
                                                  }) -
                             bs.begin());
}

size_t ChildNames::block_for(std::string_view name) const {
  const size_t block = first_block_not(name, [](int last_vs_name) { return last_vs_name < 0; });
  return std::min(block, b_->blocks.size() - 1);
}

ChildNames::const_iterator ChildNames::upper_bound(std::string_view name) const {
  if (!b_) return end();
  const auto& bs = b_->blocks;
  // The first block whose last name is after `name` holds the answer.
  const size_t block = first_block_not(name, [](int last_vs_name) { return last_vs_name <= 0; });
  if (block == bs.size()) return end();
  auto at = std::upper_bound(bs[block].begin(), bs[block].end(), name, name_after);
  return {&bs, block, static_cast<size_t>(at - bs[block].begin())};
}

void ChildNames::rebuild_lasts() noexcept {
  // Into a fresh vector: its room is what the blocks need now (a parent cut down gives back
  // what it had), with as much again to grow into before the next rebuild.
  std::vector<Last> lasts;
  if (b_->blocks.size() >= 2) {
    try {
      lasts.reserve(2 * b_->blocks.size());
    } catch (...) {
      b_->lasts.clear();  // blocks are found through their children
      return;
    }
    for (const Block& b : b_->blocks) lasts.push_back(last_of(name_of(*b.back())));
  }
  b_->lasts.swap(lasts);
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
  const std::string_view path = child.path();
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
  auto& lasts = b_->lasts;
  const bool kept = lasts_kept();
  if (name_before(bs.back().back(), name)) {
    // After every name: appended, into a fresh block when the last is full, so a parent loaded
    // in order fills its blocks completely. The fresh block joins with its name in it: an
    // empty block left by a failed allocation would break the walks.
    if (bs.back().size() < kBlock) {
      bs.back().push_back(&child);
      if (kept) lasts.back() = last_of(name);
    } else {
      Block fresh{&child};
      bs.push_back(std::move(fresh));
      if (kept && lasts.size() < lasts.capacity()) {
        lasts.push_back(last_of(name));  // cannot fail: room is there
      } else {
        rebuild_lasts();
      }
    }
    ++b_->count;
    return;
  }
  size_t index = block_for(name);
  Block& block = bs[index];
  auto [at, found] = locate(block, name);
  if (found) return;
  block.insert(at, &child);  // before the block's last name (which is after `name`)
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
  if (kept && lasts.size() < lasts.capacity()) {
    lasts.insert(lasts.begin() + static_cast<ptrdiff_t>(index) + 1, lasts[index]);  // no throw
    lasts[index] = last_of(name_of(*lower.back()));
  } else {
    rebuild_lasts();
  }
}

void ChildNames::erase(std::string_view name) {
  if (!b_) return;
  auto& bs = b_->blocks;
  size_t index = block_for(name);
  Block& block = bs[index];
  auto [at, found] = locate(block, name);
  if (!found) return;
  const bool kept = lasts_kept();
  block.erase(at);
  if (--b_->count == 0) {
    b_.reset();
    return;
  }
  auto& lasts = b_->lasts;
  if (block.empty()) {
    bs.erase(bs.begin() + static_cast<ptrdiff_t>(index));
    if (kept) lasts.erase(lasts.begin() + static_cast<ptrdiff_t>(index));
    if (bs.size() < 2 || lasts.capacity() > 4 * lasts.size() + 8)
      rebuild_lasts();  // a parent cut down gives the room back, as its blocks do
    return;
  }
  if (kept) lasts[index] = last_of(name_of(*block.back()));
  if (block.size() * 4 <= block.capacity()) {
    // A big parent cut down to a few children keeps about 32 bytes a child at most, not the
    // blocks' whole former size.
    block.shrink_to_fit();
  }
}

bool operator==(const ChildNames& a, const ChildNames& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace corral::tree
