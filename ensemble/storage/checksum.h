// Hashes defined byte for byte (the same on every build and machine): 64-bit FNV-1a behind
// tree digests (tree_digest.h) and older snapshots' checksums, XXH3 behind newer ones.
#pragma once

#include <array>
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
  /// The hash of what was added.
  uint64_t value() const { return h_; }

 private:
  void mix(unsigned char c) {
    h_ ^= c;
    h_ *= 0x100000001b3ull;
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
};

/// How a snapshot's rows are checksummed: each kind has a column of the snapshots table.
/// A snapshot's checksum is the sum, modulo 2^64, of snapshot_row_checksum over its rows, so
/// rows can be added in any number of batches.
enum class RowChecksum {
  /// Fnv64 over the path and the record (`checksum`): snapshots of Corral before XXH3. About
  /// 1 ns a byte, a sixth of what writing a snapshot cost.
  kFnv1a,
  /// XXH3-64 of the record seeded with XXH3-64 of the path (`xxh3_checksum`): xxHash's
  /// frozen, portable definition (0.8.0 on), what snapshots are written with.
  kXxh3,
};

/// The kind new snapshots are checksummed with.
inline constexpr RowChecksum kRowChecksum = RowChecksum::kXxh3;

/// One snapshot row's share of its snapshot's checksum of kind `kind`.
uint64_t snapshot_row_checksum(RowChecksum kind, std::string_view path, std::string_view record);

/// XXH3-64 of `bytes`, with `seed`.
uint64_t xxh3(std::string_view bytes, uint64_t seed = 0);

/// A stored chunk's identity: equal digests are taken for equal chunks, which are then stored
/// once (chunk_store).
using ChunkDigest = std::array<unsigned char, 16>;

/// XXH3-128 of `bytes`, in xxHash's canonical (big-endian) form.
ChunkDigest chunk_digest(std::string_view bytes);

}  // namespace corral::storage
