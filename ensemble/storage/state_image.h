// The whole state of a server at one zxid, as a leader sends it to a learner
// that needs SNAP: sessions and every node (in snapshot-record form, parents
// before children). The learner stores it as a snapshot and loads its tree from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/tree/data_tree.h"

namespace corral::storage {

/// A consistent (not fuzzy) image of the tree and sessions.
struct StateImage {
  int64_t zxid = 0;
  std::vector<SessionRow> sessions;
  std::vector<SnapshotRow> nodes;
};

/// Captures `tree` (whose last zxid is the image's) with `sessions`.
StateImage capture_image(const tree::DataTree& tree, std::vector<SessionRow> sessions);
/// Bytes for the wire.
std::string encode_image(const StateImage& image);
/// Reads bytes made by encode_image; throws StorageError when they are malformed (a session
/// appearing twice among them).
StateImage decode_image(const std::string& bytes);
/// Loads the image's nodes into the empty `tree`; throws StorageError on a bad node.
void load_image(const StateImage& image, tree::DataTree& tree);

}  // namespace corral::storage
