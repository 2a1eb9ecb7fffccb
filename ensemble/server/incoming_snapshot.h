// A learner's side of a streamed SNAP (see snapshot_stream.h): the leader's image arrives in
// kSnapshotChunk relays before the SYNC that names it, and is put back into that SYNC before
// the ZAB core sees it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace corral::server {

/// The parts of the snapshot being received.
class IncomingSnapshot {
 public:
  /// Adds the part at `offset` of the snapshot at `zxid` from `from`. A part at offset 0
  /// starts a new snapshot; a part that does not follow on the bytes held, or that would take
  /// them past `limit`, drops them (a SYNC naming that snapshot then finds none, and the
  /// learner syncs again). True when the part was kept.
  bool add(int64_t from, int64_t zxid, int64_t offset, const std::string& bytes, size_t limit) {
    if (offset == 0) {
      from_ = from;
      zxid_ = zxid;
      bytes_.clear();
      whole_ = true;
    }
    if (!whole_ || from != from_ || zxid != zxid_ ||
        offset != static_cast<int64_t>(bytes_.size()) || bytes.size() > limit - bytes_.size()) {
      clear();
      return false;
    }
    bytes_ += bytes;
    return true;
  }

  /// Drops what arrived (the leader changed).
  void clear() {
    bytes_.clear();
    bytes_.shrink_to_fit();
    whole_ = false;
  }

  /// The bytes of the snapshot at `zxid` from `from`, taken out; nullopt when no such
  /// snapshot arrived whole.
  std::optional<std::string> take(int64_t from, int64_t zxid) {
    std::optional<std::string> out;
    if (whole_ && from == from_ && zxid == zxid_) out = std::move(bytes_);
    clear();
    return out;
  }

 private:
  int64_t from_ = 0;
  int64_t zxid_ = 0;
  std::string bytes_;
  bool whole_ = false;
};

}  // namespace corral::server
