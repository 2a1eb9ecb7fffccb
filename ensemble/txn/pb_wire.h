// Protocol Buffers' wire form written and read by hand, where the generated classes would copy
// every field into a message before copying it again (snapshots write and load a million
// records at a time; every txn is encoded for the log and the quorum, and decoded by each
// follower). Each writer takes an Out: a SizeCounter to learn a message's length, then a
// StringAppender or a PointerWriter (append_counted) to write it, with the same code, so the
// two passes agree; a PointerWriter's room is the count, and it checks it was filled exactly. The
// Reader views its input and checks every length against it (it reads what a damaged file holds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace corral::pb_wire {

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

/// Writes into room made beforehand for exactly the bytes a SizeCounter counted: a byte is one
/// store, where a std::string's push_back also checks its room and writes a terminator
/// (`varint` into a std::string was 8.4% of the members' samples under set with 1,000,000
/// znodes, mostly the snapshot's encoding: ~60 bytes of varints a znode).
struct PointerWriter {
  /// Where the next byte goes.
  char* at;
  /// Writes one byte.
  void put(char c) { *at++ = c; }
  /// Writes `s`.
  void put(std::string_view s) {
    if (s.empty()) return;  // its data() may be null
    std::memcpy(at, s.data(), s.size());
    at += s.size();
  }
  /// Stops the process unless the bytes written end at `end`, the end of the room counted: when
  /// the two passes disagreed, memory past the room may have been written. One comparison a
  /// record, kept in release builds.
  void check_end(const char* end) const {
    if (at == end) return;
    std::fprintf(stderr, "corral: a record's bytes differ from the count its room was made for\n");
    std::abort();
  }
};

/// Appends to `out` the `size` bytes that `write(Out&)` writes, `size` being what it wrote to a
/// SizeCounter: the room is made once and filled through a PointerWriter, which stops the
/// process if the two passes disagreed.
template <class Write>
void append_counted(std::string& out, size_t size, Write write) {
  const size_t at = out.size();
  out.resize(at + size);
  PointerWriter to{out.data() + at};
  write(to);
  to.check_end(out.data() + out.size());
}

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

/// A bytes or string field as proto3 writes it: omitted when empty.
template <class Out>
void string_field(Out& out, int field, std::string_view s) {
  if (!s.empty()) bytes_field(out, field, s);
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

  /// Reads a varint of at most `max_bytes` bytes (ten hold 64 bits).
  bool varint(uint64_t& v, int max_bytes = 10) {
    v = 0;
    for (int shift = 0; shift < 7 * max_bytes; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }

  /// Reads a field's key: its number and wire type. As protobuf reads a tag: at most five
  /// bytes, kept to 32 bits; field 0 is malformed.
  bool key(int& field, int& wire_type) {
    uint64_t k;
    if (!varint(k, 5)) return false;
    const auto tag = static_cast<uint32_t>(k);
    if ((tag >> 3) == 0) return false;
    field = static_cast<int>(tag >> 3);
    wire_type = static_cast<int>(tag & 7);
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

  /// Skips the payload of a field (`field`, `wire_type`) this reader does not want, a group
  /// too (a proto2 form protobuf still skips in any message); an end-group key outside its
  /// group is malformed.
  bool skip(int field, int wire_type, int depth = 0) {
    uint64_t ignored;
    std::string_view payload;
    switch (wire_type) {
      case kVarint:
        return varint(ignored);
      case 1:  // 64-bit
        return take(8);
      case kLengthDelimited:
        return bytes(payload);
      case 3:  // start group: its fields, up to the end-group key of the same field
        if (depth >= kMaxGroupDepth) return false;
        for (;;) {
          int inner, inner_type;
          if (!key(inner, inner_type)) return false;
          if (inner_type == 4) return inner == field;
          if (!skip(inner, inner_type, depth + 1)) return false;
        }
      case 5:  // 32-bit
        return take(4);
      default:  // an end group (4) here, or 6 and 7, which no protobuf writes
        return false;
    }
  }

 private:
  /// Groups nested deeper are refused. Protobuf counts groups and embedded messages together
  /// against its limit of 100; this bound is per field, so it accepts some nestings protobuf
  /// refuses (as it accepts lengths written in more than five bytes): Corral writes neither.
  static constexpr int kMaxGroupDepth = 100;

  bool take(size_t n) {
    if (n > in_.size()) return false;
    in_.remove_prefix(n);
    return true;
  }

  std::string_view in_;
};

}  // namespace corral::pb_wire
