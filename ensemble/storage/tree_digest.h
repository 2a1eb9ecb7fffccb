// A digest of a DataTree's content, the same on every server that applied the same txns:
// what `corral-admin digest` compares across members and `corral-admin verify` prints.
#pragma once

#include <cstdint>
#include <string>

#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// The digest of a tree and the zxid it was taken at.
struct TreeDigest {
  int64_t zxid = 0;
  uint64_t digest = 0;
  int64_t node_count = 0;
};

/// Hashes every node (path, data, ACL, the stored Stat fields and its number of children) with
/// 64-bit FNV-1a and adds the hashes up, so the result does not depend on the order nodes
/// are visited in. Walks the whole tree: O(nodes + bytes of data).
TreeDigest tree_digest(const tree::DataTree& tree);

/// "0x" and 16 hex digits.
std::string digest_text(uint64_t digest);

}  // namespace corral::storage
