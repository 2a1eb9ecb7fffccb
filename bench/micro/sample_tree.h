// The tree the snapshot microbenchmarks load and write: like corral-load's, 100-byte znodes
// under parents of 500 children each.
#pragma once

#include <cstdint>
#include <string>

#include "bench/micro/create_txn.h"
#include "ensemble/tree/data_tree.h"

namespace corral::bench {

/// Adds `n` znodes of 100 bytes to `t` (empty), 500 under each of n/500 parents "/p<i>".
inline void fill_sample_tree(tree::DataTree& t, int64_t n) {
  int64_t zxid = 0;
  auto create = [&](const std::string& path, size_t size) {
    t.apply(create_txn(++zxid, path, size));
  };
  for (int64_t p = 0; p < n / 500; ++p) {
    std::string parent = "/p" + std::to_string(p);
    create(parent, 0);
    for (int64_t c = 0; c < 500; ++c) create(parent + "/c" + std::to_string(c), 100);
  }
}

}  // namespace corral::bench
