// What the memory allocator holds. corral-server allocates through jemalloc: under glibc's
// malloc a 3-server ensemble spent a quarter of the leader's CPU in malloc and free and held
// 2.7x the resident memory (bench/RESULTS.md, 2026-12-04).
#pragma once

#include <cstdint>
#include <optional>

namespace corral::ops {

/// jemalloc's own accounting, refreshed when read.
struct AllocatorStats {
  uint64_t allocated = 0;  ///< Bytes the program holds (live allocations).
  uint64_t resident = 0;   ///< Bytes of physical memory the allocator's pages take.
};

/// The allocator's figures, or nothing when jemalloc does not answer.
std::optional<AllocatorStats> allocator_stats();

}  // namespace corral::ops
