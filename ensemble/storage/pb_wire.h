// Protocol Buffers' wire form written by hand, where the generated classes would copy every
// field into a message before copying it again into the output (snapshots write a million
// records at a time). Each writer takes an Out: a SizeCounter to learn a message's length,
// then a StringAppender to write it, so the two cannot disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::storage::pb_wire {

/// Counts the bytes written to it.
struct SizeCounter {
  size_t size = 0;
  void put(char) { ++size; }
  void put(std::string_view s) { size += s.size(); }
};

/// Appends the bytes written to it to a string.
struct StringAppender {
  std::string& out;
  void put(char c) { out.push_back(c); }
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

}  // namespace corral::storage::pb_wire
