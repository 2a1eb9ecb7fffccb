// Reads a fuzzer's input front to back: integers and byte strings, with zeros
// (and empty strings) once the input is used up, so every input is a valid
// program for the harness. Python scripts write seeds in the same format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace corral::fuzz {

/// Sequential reader over a libFuzzer input.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  /// True while unread bytes remain.
  bool more() const { return pos_ < size_; }
  /// One byte, or 0 at the end.
  uint8_t u8() { return more() ? data_[pos_++] : 0; }
  /// A big-endian 16-bit value.
  uint16_t u16() {
    const uint8_t high = u8();  // named: the operands of | are not sequenced
    return static_cast<uint16_t>(high << 8 | u8());
  }
  /// A big-endian 32-bit value.
  uint32_t u32() {
    const uint32_t high = u16();
    return high << 16 | u16();
  }
  /// A big-endian 64-bit value.
  uint64_t u64() {
    const uint64_t high = u32();
    return high << 32 | u32();
  }
  /// A small signed delta from one byte: -128..127.
  int64_t delta() { return static_cast<int8_t>(u8()); }
  /// A byte string of up to `max` bytes: a 16-bit length, then that many bytes (fewer at the end).
  std::string bytes(size_t max) {
    size_t n = u16();
    if (n > max) n = max;
    if (n > size_ - pos_) n = size_ - pos_;
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace corral::fuzz
