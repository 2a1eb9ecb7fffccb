#include "ensemble/tree/path_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace corral::tree {

size_t PathHash::operator()(std::string_view path) const noexcept {
  return static_cast<size_t>(XXH3_64bits(path.data(), path.size()));
}

}  // namespace corral::tree
