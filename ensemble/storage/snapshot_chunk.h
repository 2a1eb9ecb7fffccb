// A snapshot's nodes as stored: runs of them ("chunks"), each one row of the snapshot_chunks
// table, encoded as a pb.SnapshotChunk. One row per node made SQLite's per-row work (the
// statement, the B-tree cell) most of the cost of a snapshot.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/storage/database.h"

namespace corral::storage {

/// About this many bytes of rows go into one chunk (a node larger than that goes alone).
inline constexpr size_t kSnapshotChunkBytes = 256 * 1024;

/// How many of `rows`, from the first, make the next chunk: at least one, and no more than
/// fit in kSnapshotChunkBytes when more than one.
size_t rows_in_next_chunk(std::span<const SnapshotRow> rows);

/// Encodes `rows` as a pb.SnapshotChunk.
std::string encode_snapshot_chunk(std::span<const SnapshotRow> rows);

/// Appends the rows of an encoded chunk to `out`; false when it does not decode.
bool decode_snapshot_chunk(std::string_view chunk, std::vector<SnapshotRow>& out);

}  // namespace corral::storage
