#include "ensemble/storage/checksum.h"

#include <cstring>

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
  return xxh3(record, xxh3(path));
}

uint64_t xxh3(std::string_view bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

ChunkDigest chunk_digest(std::string_view bytes) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
  ChunkDigest out;
  static_assert(sizeof canonical.digest == sizeof out);
  std::memcpy(out.data(), canonical.digest, out.size());
  return out;
}

}  // namespace corral::storage
