// Protocol Buffers' wire form written and read by hand, where the generated classes would copy
// every field into a message before copying it again (snapshots write and load a million
// records at a time). Each writer takes an Out: a SizeCounter to learn a message's length,
// then a StringAppender to write it, so the two cannot disagree. The Reader views its input
// and checks every length against it (it reads what a damaged file holds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::storage::pb_wire {

/// Counts the bytes written to it.
struct SizeCounter {
  /// The bytes written so far.
  size_t size = 0;
  /// Counts one byte.
  void put(char) { ++size; }
  /// Counts `s`'s bytes.
  void put(std::string_view s) { size += s.size(); }
};

/// Appends the bytes written to it to a string.
struct StringAppender {
  /// Where the bytes go.
  std::string& out;
  /// Appends one byte.
  void put(char c) { out.push_back(c); }
  /// Appends `s`.
  void put(std::string_view s) { out.append(s); }
};

/// Wire types.
inline constexpr int kVarint = 0;
inline constexpr int kLengthDelimited = 2;

/// A base-128 varint.
template <class Out>
void varint(Out& out, uint64_t v) {
  while (v >= 0x80) {
    out.put(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.put(static_cast<char>(v));
}

/// A field's key: its number and wire type.
template <class Out>
void key(Out& out, int field, int wire_type) {
  varint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
}

/// A bytes, string or embedded message field whose payload is `s`, written even when empty.
template <class Out>
void bytes_field(Out& out, int field, std::string_view s) {
  key(out, field, kLengthDelimited);
  varint(out, s.size());
  out.put(s);
}

/// An int32, int64 or bool field as proto3 writes it: omitted when 0, a negative value as ten
/// bytes (an int32 is sign-extended first, as protobuf does).
template <class Out>
void int_field(Out& out, int field, int64_t v) {
  if (v == 0) return;
  key(out, field, kVarint);
  varint(out, static_cast<uint64_t>(v));
}

/// Reads fields from a message's bytes, which it views; each read is false when the bytes are
/// malformed (a varint over ten bytes, a length past the end, an unknown wire type).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  /// True when every byte was read.
  bool done() const { return in_.empty(); }

  /// Reads a varint.
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }

  /// Reads a field's key: its number and wire type.
  bool key(int& field, int& wire_type) {
    uint64_t k;
    if (!varint(k) || (k >> 3) == 0 || (k >> 3) > 0x1fffffff) return false;
    field = static_cast<int>(k >> 3);
    wire_type = static_cast<int>(k & 7);
    return true;
  }

  /// Reads a length-delimited payload.
  bool bytes(std::string_view& v) {
    uint64_t n;
    if (!varint(n) || n > in_.size()) return false;
    v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }

  /// Skips a field's payload of `wire_type` (one this reader does not want).
  bool skip(int wire_type) {
    uint64_t ignored;
    std::string_view payload;
    switch (wire_type) {
      case kVarint:
        return varint(ignored);
      case 1:  // 64-bit
        return take(8);
      case kLengthDelimited:
        return bytes(payload);
      case 5:  // 32-bit
        return take(4);
      default:  // groups (3, 4) are not in proto3 messages
        return false;
    }
  }

 private:
  bool take(size_t n) {
    if (n > in_.size()) return false;
    in_.remove_prefix(n);
    return true;
  }

  std::string_view in_;
};

}  // namespace corral::storage::pb_wire
