// The names of a znode's children, sorted, in as little memory as a tree of a million znodes
// allows: most znodes are leaves, so an empty list is one null pointer, and a child is a pointer
// to its own entry in the DataTree's table (its node and its path, whose last part is its name)
// rather than a second copy of its name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::tree {

class NodeEntry;

/// A znode's children, by name. Each is the child's entry in the DataTree's table, which must
/// outlive its place here (the DataTree erases the child here before it erases the entry; the
/// table's entries never move). Only the pointer is kept, 8 bytes a child in sorted blocks of at
/// most kBlock (a std::set spent a 48-byte node on each, 56 with glibc's malloc: 48 MB of a
/// 1,000,000-znode tree's 425 MiB). Move-only, since copied pointers would point into the
/// source's tree.
class ChildNames {
 public:
  /// A child's entry in the DataTree's table: its node and its path.
  using Entry = NodeEntry;

 private:
  using Block = std::vector<const Entry*>;
  /// A block's last name, and its first 8 bytes as a number that orders as the names do: most
  /// probes of a search over the blocks are decided by the numbers, without reading the
  /// name's characters (a cache miss each in a big parent).
  struct Last {
    uint64_t prefix;
    std::string_view name;
  };
  struct Blocks {
    std::vector<Block> blocks;  // none empty; each one's names sort before the next one's
    /// Each block's last name (a view of its child's path), kept while there are two blocks or
    /// more: finding a name's block reads these, where reaching a block's last child costs
    /// three dependent loads, cache misses in a big parent. Empty with one block, or when
    /// growing it failed (blocks are then found through their children, as without it).
    std::vector<Last> lasts;
    size_t count = 0;
  };

 public:
  /// Names per block: an insert moves at most this many pointers, except when it splits a
  /// block, which moves the blocks after it (about one insert in kBlock / 2 into the middle
  /// of a big parent).
  static constexpr size_t kBlock = 128;

  /// Walks the names in ascending order; a name is a view of its child's path. entry() reaches
  /// the child itself without a lookup.
  class const_iterator {
   public:
    // A name is handed out by value (a view made from the stored pointer), so the C++17 rules
    // allow no more than an input iterator; C++20's concepts (std::reverse_iterator) see the
    // bidirectional one it is.
    using iterator_concept = std::bidirectional_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;

    const_iterator() = default;
    std::string_view operator*() const { return name_of(entry()); }
    /// The child's entry in the DataTree's table.
    const Entry& entry() const { return *(*blocks_)[block_][index_]; }
    const_iterator& operator++() {
      if (++index_ == (*blocks_)[block_].size()) ++block_, index_ = 0;
      return *this;
    }
    const_iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    const_iterator& operator--() {
      if (index_ == 0) index_ = (*blocks_)[--block_].size();
      --index_;
      return *this;
    }
    const_iterator operator--(int) {
      auto old = *this;
      --*this;
      return old;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.block_ == b.block_ && a.index_ == b.index_;
    }

   private:
    friend class ChildNames;
    const_iterator(const std::vector<Block>* blocks, size_t block, size_t index)
        : blocks_(blocks), block_(block), index_(index) {}
    const std::vector<Block>* blocks_ = nullptr;
    size_t block_ = 0;  // blocks_->size() at the end
    size_t index_ = 0;
  };
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  ChildNames() = default;
  ChildNames(ChildNames&&) noexcept = default;
  ChildNames& operator=(ChildNames&&) noexcept = default;

  /// How many children.
  size_t size() const { return b_ ? b_->count : 0; }
  /// True for a leaf.
  bool empty() const { return !b_; }
  /// Names in ascending order.
  // std::addressof: a plain & would look for operator& in Entry's classes, which needs Entry
  // complete, and its Node holds a ChildNames.
  const_iterator begin() const { return {std::addressof(blocks()), 0, 0}; }
  const_iterator end() const { return {std::addressof(blocks()), blocks().size(), 0}; }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
  /// The first name after `name`.
  const_iterator upper_bound(std::string_view name) const;
  /// True when `name` is a child.
  bool contains(std::string_view name) const;

  /// Adds the child whose table entry `child` is (outliving its place here); nothing when one of
  /// its name is there already. A name after all the others (a snapshot loads each parent's
  /// children in ascending order, and sequential names come so too) is appended in constant
  /// time.
  void insert(const Entry& child);
  /// Not a temporary: its address is kept.
  void insert(const Entry&&) = delete;
  /// Removes `name`; the memory goes with the last child.
  void erase(std::string_view name);

  /// Equal when the same names are there (their texts, not where they are).
  friend bool operator==(const ChildNames& a, const ChildNames& b);

  /// A child's name: the last part of its path (NUL-terminated, as the path is).
  static std::string_view name_of(const Entry& child);

 private:
  const std::vector<Block>& blocks() const { return b_ ? b_->blocks : no_blocks(); }
  /// An empty list, defined where Entry is complete: an empty vector here would have clang
  /// instantiate its destructor, and so Entry, before it is defined.
  static const std::vector<Block>& no_blocks();
  /// The block that holds `name` or would: the first whose last name is not before it (the
  /// last block when `name` is after every name).
  size_t block_for(std::string_view name) const;
  /// The first block whose last name `before(comparison of the last with name)` is false for.
  template <class Before>
  size_t first_block_not(std::string_view name, Before before) const;
  /// `name` as a block's last.
  static Last last_of(std::string_view name);
  /// Whether b_->lasts holds every block's last name.
  bool lasts_kept() const { return b_->lasts.size() == b_->blocks.size(); }
  /// Sets b_->lasts from the blocks (after they became two, or a failed update); on a failed
  /// allocation leaves it empty.
  void rebuild_lasts() noexcept;

  std::unique_ptr<Blocks> b_;
};

}  // namespace corral::tree
