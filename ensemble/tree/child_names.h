// The names of a znode's children, sorted, in as little memory as a tree of a million znodes
// allows: most znodes are leaves, so an empty set is one null pointer, and a name is a view of
// the child's own path (which the DataTree keeps) rather than a second copy of it.
#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string_view>

namespace corral::tree {

/// A znode's child names. Each name must view memory that outlives its entry here: the
/// DataTree gives views into the child's key in its node map, and erases the name before the
/// child. Move-only, since copied views would point into the source's tree.
class ChildNames {
 public:
  using Set = std::set<std::string_view>;
  using const_iterator = Set::const_iterator;
  using const_reverse_iterator = Set::const_reverse_iterator;

  ChildNames() = default;
  ChildNames(ChildNames&&) noexcept = default;
  ChildNames& operator=(ChildNames&&) noexcept = default;

  /// How many children.
  size_t size() const { return set_ ? set_->size() : 0; }
  /// True for a leaf.
  bool empty() const { return !set_; }
  /// Names in ascending order.
  const_iterator begin() const { return names().begin(); }
  const_iterator end() const { return names().end(); }
  const_reverse_iterator rbegin() const { return names().rbegin(); }
  const_reverse_iterator rend() const { return names().rend(); }
  /// The first name after `name`.
  const_iterator upper_bound(std::string_view name) const { return names().upper_bound(name); }
  /// True when `name` is a child.
  bool contains(std::string_view name) const { return set_ && set_->contains(name); }

  /// Adds `name` (a view that outlives the entry); nothing when it is there already.
  void insert(std::string_view name) {
    if (set_) {
      // Hinted at the end: a snapshot loads each parent's children in ascending order, and
      // sequential names come in ascending order too; then the insert is constant time
      // instead of a walk down the tree comparing names (8% of a 1,000,000-znode recovery).
      // Any other name costs one comparison more.
      set_->insert(set_->end(), name);
      return;
    }
    // Built aside: an empty set left behind by a failed insert would make a leaf look like a
    // parent (empty() tests the pointer).
    auto first = std::make_unique<Set>();
    first->insert(name);
    set_ = std::move(first);
  }
  /// Removes `name`; the set's memory goes with the last child.
  void erase(std::string_view name) {
    if (!set_) return;
    set_->erase(name);
    if (set_->empty()) set_.reset();
  }

  /// Equal when the same names are there (their texts, not where they are).
  friend bool operator==(const ChildNames& a, const ChildNames& b) {
    return a.names() == b.names();
  }

 private:
  const Set& names() const {
    static const Set kNone;
    return set_ ? *set_ : kNone;
  }

  std::unique_ptr<Set> set_;
};

}  // namespace corral::tree
