#include "ensemble/storage/snapshot_chunk.h"

#include <algorithm>

#include "ensemble/storage/snapshot_codec.h"

namespace corral::storage {
namespace {

// pb.SnapshotChunk's fields: entries (1), each a SnapshotEntry of path (1) and node (2).
constexpr int kEntriesField = 1;
constexpr int kPathField = 1;
constexpr int kRecordField = 2;

size_t varint_size(size_t v) {
  pb_wire::SizeCounter n;
  pb_wire::varint(n, v);
  return n.size;
}

/// A SnapshotEntry's size, without the chunk's key and length in front of it.
size_t entry_size(size_t path_size, size_t record_size) {
  return 1 + varint_size(path_size) + path_size + 1 + varint_size(record_size) + record_size;
}

}  // namespace

std::string& SnapshotChunks::start_entry(std::string_view path, size_t record_size) {
  const size_t entry = entry_size(path.size(), record_size);
  const size_t framed = 1 + varint_size(entry) + entry;
  if (chunks_.empty() || chunks_.back().size() + framed > kSnapshotChunkBytes) {
    chunks_.emplace_back().reserve(std::max(framed, kSnapshotChunkBytes));
    first_paths_.emplace_back(path);
  }
  std::string& chunk = chunks_.back();
  bytes_ += framed;
  pb_wire::StringAppender to{chunk};
  pb_wire::key(to, kEntriesField, pb_wire::kLengthDelimited);
  pb_wire::varint(to, entry);
  pb_wire::bytes_field(to, kPathField, path);
  pb_wire::key(to, kRecordField, pb_wire::kLengthDelimited);
  pb_wire::varint(to, record_size);
  return chunk;
}

void SnapshotChunks::finish_entry(std::string_view path, size_t record_size) {
  const std::string& chunk = chunks_.back();
  const std::string_view record(chunk.data() + chunk.size() - record_size, record_size);
  // One hash of the path serves both: the row's checksum starts from it (as
  // snapshot_row_checksum defines kXxh3), and it says whether the run ends here.
  static_assert(kRowChecksum == RowChecksum::kXxh3);
  const uint64_t path_hash = xxh3(path);
  checksum_ += xxh3(record, path_hash);
  last_ends_run_ = path_hash % kNodesPerRun == 0;
  ++node_count_;
}

void SnapshotChunks::add(std::string_view path, const tree::Node& node) {
  if (node.acl != last_acl_) {
    last_acl_ = node.acl;
    last_acl_field_ = encode_acl_field(*node.acl);
  }
  pb_wire::SizeCounter size;
  write_node(size, node, last_acl_field_);
  pb_wire::append_counted(start_entry(path, size.size), size.size,
                          [&](auto& to) { write_node(to, node, last_acl_field_); });
  finish_entry(path, size.size);
}

void SnapshotChunks::add(std::string_view path, std::string_view record) {
  start_entry(path, record.size()).append(record);
  finish_entry(path, record.size());
}

bool for_each_snapshot_entry(
    std::string_view chunk,
    const std::function<void(std::string_view path, std::string_view record)>& each) {
  pb_wire::Reader in(chunk);
  while (!in.done()) {
    int field, type;
    std::string_view entry;
    if (!in.key(field, type)) return false;
    if (field != kEntriesField || type != pb_wire::kLengthDelimited) {
      if (!in.skip(field, type)) return false;
      continue;
    }
    if (!in.bytes(entry)) return false;
    std::string_view path, record;
    pb_wire::Reader fields(entry);
    while (!fields.done()) {
      if (!fields.key(field, type)) return false;
      if (type == pb_wire::kLengthDelimited && (field == kPathField || field == kRecordField)) {
        if (!fields.bytes(field == kPathField ? path : record)) return false;
      } else if (!fields.skip(field, type)) {
        return false;
      }
    }
    each(path, record);
  }
  return true;
}

}  // namespace corral::storage
