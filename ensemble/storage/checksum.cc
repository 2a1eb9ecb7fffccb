#include "ensemble/storage/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

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
