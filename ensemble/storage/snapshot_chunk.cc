#include "ensemble/storage/snapshot_chunk.h"

#include "ensemble/storage/records.pb.h"

namespace corral::storage {
namespace {

// pb.SnapshotChunk's wire form, written here rather than through the generated class, which
// would copy every path and record into a message before copying them again into the output.
constexpr char kEntryTag = (1 << 3) | 2;   // SnapshotChunk.entries, length-delimited
constexpr char kPathTag = (1 << 3) | 2;    // SnapshotEntry.path
constexpr char kRecordTag = (2 << 3) | 2;  // SnapshotEntry.node

size_t varint_size(size_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

void append_varint(std::string& out, size_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t entry_size(const SnapshotRow& row) {
  return 1 + varint_size(row.path.size()) + row.path.size() + 1 + varint_size(row.record.size()) +
         row.record.size();
}

}  // namespace

size_t rows_in_next_chunk(std::span<const SnapshotRow> rows) {
  size_t n = 0, bytes = 0;
  while (n < rows.size()) {
    const size_t entry = entry_size(rows[n]);
    bytes += 1 + varint_size(entry) + entry;  // as encode_snapshot_chunk writes it
    if (n > 0 && bytes > kSnapshotChunkBytes) break;
    ++n;
  }
  return n;
}

std::string encode_snapshot_chunk(std::span<const SnapshotRow> rows) {
  size_t total = 0;
  for (const auto& row : rows) total += 1 + varint_size(entry_size(row)) + entry_size(row);
  std::string out;
  out.reserve(total);
  for (const auto& row : rows) {
    out.push_back(kEntryTag);
    append_varint(out, entry_size(row));
    out.push_back(kPathTag);
    append_varint(out, row.path.size());
    out += row.path;
    out.push_back(kRecordTag);
    append_varint(out, row.record.size());
    out += row.record;
  }
  return out;
}

bool decode_snapshot_chunk(std::string_view chunk, std::vector<SnapshotRow>& out) {
  pb::SnapshotChunk decoded;
  if (!decoded.ParseFromArray(chunk.data(), static_cast<int>(chunk.size()))) return false;
  out.reserve(out.size() + static_cast<size_t>(decoded.entries_size()));
  for (auto& entry : *decoded.mutable_entries())
    out.push_back({std::move(*entry.mutable_path()), std::move(*entry.mutable_node())});
  return true;
}

}  // namespace corral::storage
