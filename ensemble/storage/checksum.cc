#include "ensemble/storage/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

// XXH3's output is frozen from 0.8.0: an earlier one would write sums no other build matches.
static_assert(XXH_VERSION_NUMBER >= 800, "xxHash 0.8.0 or later is needed");

namespace corral::storage {

uint64_t snapshot_row_checksum(RowChecksum kind, std::string_view path, std::string_view record) {
  if (kind == RowChecksum::kFnv1a) {
    Fnv64 f;
    f.bytes(path);
    f.bytes(record);
    return f.value();
  }
  return XXH3_64bits_withSeed(record.data(), record.size(), XXH3_64bits(path.data(), path.size()));
}

}  // namespace corral::storage
