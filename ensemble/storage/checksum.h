// 64-bit FNV-1a, the hash behind tree digests (tree_digest.h) and snapshot checksums: simple,
// defined byte for byte (the same on every build and machine), and fast enough to run over
// every byte a snapshot writes.
#pragma once

#include <cstdint>
#include <string_view>

namespace corral::storage {

/// 64-bit FNV-1a, fed field by field.
class Fnv64 {
 public:
  /// Adds a length-prefixed byte string, so ("ab", "c") and ("a", "bc") differ.
  void bytes(std::string_view s) {
    number(static_cast<int64_t>(s.size()));
    for (unsigned char c : s) mix(c);
  }
  /// Adds the 8 bytes of `v`, least significant first.
  void number(int64_t v) {
    for (int i = 0; i < 8; ++i)
      mix(static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i)));
  }
  uint64_t value() const { return h_; }

 private:
  void mix(unsigned char c) {
    h_ ^= c;
    h_ *= 0x100000001b3ull;
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
};

/// One snapshot row's share of its snapshot's checksum (the sum, modulo 2^64, over its rows,
/// so that rows can be added in any number of batches).
inline uint64_t snapshot_row_checksum(std::string_view path, std::string_view record) {
  Fnv64 f;
  f.bytes(path);
  f.bytes(record);
  return f.value();
}

}  // namespace corral::storage
