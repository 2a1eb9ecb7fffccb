#include "ensemble/ops/allocator_stats.h"

#include <jemalloc/jemalloc.h>

#include <cstddef>

namespace corral::ops {
namespace {

std::optional<uint64_t> read_size(const char* name) {
  size_t value = 0;
  size_t length = sizeof value;
  if (mallctl(name, &value, &length, nullptr, 0) != 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<AllocatorStats> allocator_stats() {
  // jemalloc's statistics are a snapshot taken at the last "epoch" write: bump it first.
  uint64_t epoch = 1;
  size_t length = sizeof epoch;
  if (mallctl("epoch", &epoch, &length, &epoch, length) != 0) return std::nullopt;
  auto allocated = read_size("stats.allocated");
  auto resident = read_size("stats.resident");
  if (!allocated || !resident) return std::nullopt;
  return AllocatorStats{*allocated, *resident};
}

}  // namespace corral::ops
