// A znode's data in one allocation of its own.
#pragma once

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string_view>

namespace corral::tree {

/// A znode's data: 8 bytes in the node, pointing to the data's length and bytes (a std::string
/// took 32), and nothing allocated for empty data. Null data (length -1 to clients) is the
/// node's data_null flag, apart from this.
class NodeData {
 public:
  /// Empty data.
  NodeData() = default;
  /// A copy of `bytes`.
  explicit NodeData(std::string_view bytes) { assign(bytes); }
  NodeData(const NodeData& other) { assign(other.view()); }
  NodeData(NodeData&& other) noexcept : p_(other.p_) { other.p_ = nullptr; }
  NodeData& operator=(const NodeData& other);
  NodeData& operator=(NodeData&& other) noexcept;
  /// Replaces the data with a copy of `bytes` (which may view this data itself).
  NodeData& operator=(std::string_view bytes) {
    assign(bytes);
    return *this;
  }
  ~NodeData();

  /// Bytes of data.
  size_t size() const {
    if (!p_) return 0;
    uint32_t n;
    std::memcpy(&n, p_, sizeof n);
    return n;
  }
  /// True for no bytes.
  bool empty() const { return p_ == nullptr; }
  /// The bytes (valid while the data is not changed).
  std::string_view view() const {
    return p_ ? std::string_view(p_ + sizeof(uint32_t), size()) : std::string_view();
  }
  operator std::string_view() const { return view(); }  // NOLINT: data reads as its bytes

  friend bool operator==(const NodeData& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const NodeData& a, const NodeData& b) { return a.view() == b.view(); }
  friend std::ostream& operator<<(std::ostream& out, const NodeData& d) { return out << d.view(); }

 private:
  void assign(std::string_view bytes);

  char* p_ = nullptr;  // uint32_t length, then the bytes; null when empty
};

static_assert(sizeof(NodeData) == sizeof(char*), "data is one pointer in a znode");

}  // namespace corral::tree
