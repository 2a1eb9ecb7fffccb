// The hash of the tables keyed by znode path.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace corral::tree {

/// Hashes a path given as anything that reads as a std::string_view (a std::string, a view),
/// so a table is searched with a view and no key is built per lookup.
struct PathHash {
  using is_transparent = void;
  size_t operator()(std::string_view path) const noexcept {
    return std::hash<std::string_view>{}(path);
  }
};

}  // namespace corral::tree
