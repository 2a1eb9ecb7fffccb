// Snapshot records: a znode <-> its Protocol Buffers record.
#pragma once

#include <string>

#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// Encodes a node (without its children: paths imply them).
std::string encode_node(const tree::Node& node);
/// Decodes a node record, sharing ACL lists through `tree`; false if malformed.
bool decode_node(const std::string& bytes, tree::DataTree& tree, tree::Node& out);

}  // namespace corral::storage
