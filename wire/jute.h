// Jute: ZooKeeper's big-endian record encoding (ints, longs, booleans,
// length-prefixed buffers and strings, counted vectors).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corral::wire {

/// Thrown when input does not decode: a length below -1, past the end of the
/// frame, or a vector count that cannot fit in what is left.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Appends jute-encoded values to a byte string.
class JuteWriter {
 public:
  /// Writes into `out`, appending after whatever it already holds.
  explicit JuteWriter(std::string& out) : out_(out) {}

  /// Big-endian 32-bit int. Inline, as int64: a reply's Stat alone is eleven of them, and the
  /// call was 1% of a member's time under multi.
  void int32(int32_t v) {
    const uint32_t u = static_cast<uint32_t>(v);
    const char b[4] = {char(u >> 24), char(u >> 16), char(u >> 8), char(u)};
    out_.append(b, 4);
  }
  /// Big-endian 64-bit long.
  void int64(int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    const char b[8] = {char(u >> 56), char(u >> 48), char(u >> 40), char(u >> 32),
                       char(u >> 24), char(u >> 16), char(u >> 8),  char(u)};
    out_.append(b, 8);
  }
  /// One byte, 0 or 1.
  void boolean(bool v);
  /// Length-prefixed bytes.
  void buffer(std::string_view v);
  /// A null buffer: length -1, no bytes.
  void null_buffer() { int32(-1); }
  /// Length-prefixed UTF-8 string (same layout as a buffer).
  void string(std::string_view v) { buffer(v); }
  /// Bytes already jute-encoded elsewhere, appended as they are.
  void raw(std::string_view v) { out_.append(v.data(), v.size()); }
  /// Patches a 32-bit big-endian int at byte `offset` (used for frame lengths).
  void patch_int32(size_t offset, int32_t v);
  /// Bytes written so far, including any prefix the caller put there.
  size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

/// Reads jute-encoded values from a bounded byte range; every read checks the bound.
class JuteReader {
 public:
  /// Reads from `in`, which must outlive the reader.
  explicit JuteReader(std::string_view in) : in_(in) {}

  int32_t int32();
  int64_t int64();
  bool boolean();
  /// A buffer; a null buffer (-1) reads as empty.
  std::string buffer();
  /// A buffer that also reports whether it was null (-1).
  std::string buffer(bool& was_null);
  std::string string() { return buffer(); }
  /// A vector count; throws unless `count * min_element_bytes` fits in what is left.
  /// A count of -1 (a null vector) reads as 0.
  int32_t vector_count(size_t min_element_bytes);
  /// True when every byte has been consumed.
  bool at_end() const { return pos_ == in_.size(); }
  /// Bytes not yet consumed.
  size_t remaining() const { return in_.size() - pos_; }
  /// The bytes not yet consumed.
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  void need(size_t n) const;
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace corral::wire
