// The hash of the tables keyed by znode path.
#pragma once

#include <cstddef>
#include <string_view>

namespace corral::tree {

/// Hashes a path given as anything that reads as a std::string_view (a std::string, a view),
/// so a table is searched with a view and no key is built per lookup.
struct PathHash {
  using is_transparent = void;
  /// XXH3 (path_hash.cc): half the time of std::hash's on paths of 20-40 bytes, and every
  /// lookup in the tree and in TxnPrep's outstanding changes hashes one.
  size_t operator()(std::string_view path) const noexcept;
};

}  // namespace corral::tree
