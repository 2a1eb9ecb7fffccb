// The tree's key for a znode: its path in one allocation of its own.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace corral::tree {

/// A znode's path as the DataTree's map keys it: 8 bytes in the map's node, pointing to the
/// path's length and its NUL-terminated characters (a std::string took 32 bytes there and,
/// past 15 characters, an allocation as well). The characters never move while the key lives
/// (a child's name in its parent's ChildNames is read from them). A moved-from key may only be
/// destroyed or assigned.
class PathKey {
 public:
  /// A copy of `path`.
  explicit PathKey(std::string_view path);
  PathKey(PathKey&& other) noexcept : p_(other.p_) { other.p_ = nullptr; }
  PathKey& operator=(PathKey&& other) noexcept;
  PathKey(const PathKey&) = delete;
  PathKey& operator=(const PathKey&) = delete;
  ~PathKey();

  /// The path.
  std::string_view view() const noexcept { return {p_ + sizeof(uint32_t), length()}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: reads as its path

  friend bool operator==(const PathKey& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const PathKey& a, const PathKey& b) { return a.view() == b.view(); }

 private:
  uint32_t length() const noexcept {
    uint32_t n;
    std::memcpy(&n, p_, sizeof n);
    return n;
  }

  char* p_;  // uint32_t length, then the characters and a NUL
};

static_assert(sizeof(PathKey) == sizeof(char*), "a key is one pointer in the map's node");

}  // namespace corral::tree
