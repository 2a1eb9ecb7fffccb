// Hashes defined byte for byte (the same on every build and machine): 64-bit FNV-1a behind
// tree digests (tree_digest.h) and older snapshots' checksums, XXH3 behind newer ones.
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

/// How a snapshot's rows are checksummed (its snapshots.checksum_kind). Its checksum is the sum,
/// modulo 2^64, of snapshot_row_checksum over its rows, so rows can be added in any number of
/// batches.
enum class RowChecksum : int64_t {
  /// Fnv64 over the path and the record: snapshots of Corral before XXH3 (about 1 ns a byte,
  /// 0.2 µs a znode of 100 bytes, a sixth of what writing a snapshot cost).
  kFnv1a = 1,
  /// XXH3-64 of the record seeded with XXH3-64 of the path (xxHash's frozen, portable
  /// definition): what snapshots are written with.
  kXxh3 = 2,
};

/// The kind new snapshots are checksummed with.
inline constexpr RowChecksum kRowChecksum = RowChecksum::kXxh3;

/// Whether `kind` is one this build can compute (a newer Corral may have written another).
constexpr bool known_row_checksum(RowChecksum kind) {
  return kind == RowChecksum::kFnv1a || kind == RowChecksum::kXxh3;
}

/// One snapshot row's share of its snapshot's checksum of kind `kind` (a known one).
uint64_t snapshot_row_checksum(RowChecksum kind, std::string_view path, std::string_view record);

}  // namespace corral::storage
