#include "wire/jute.h"

namespace corral::wire {

void JuteWriter::boolean(bool v) { out_.push_back(v ? 1 : 0); }

void JuteWriter::buffer(std::string_view v) {
  int32(static_cast<int32_t>(v.size()));
  out_.append(v.data(), v.size());
}

void JuteWriter::patch_int32(size_t offset, int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  out_[offset] = char(u >> 24);
  out_[offset + 1] = char(u >> 16);
  out_[offset + 2] = char(u >> 8);
  out_[offset + 3] = char(u);
}

void JuteReader::need(size_t n) const {
  if (in_.size() - pos_ < n) throw DecodeError("record runs past the end of the frame");
}

int32_t JuteReader::int32() {
  need(4);
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
  pos_ += 4;
  return static_cast<int32_t>(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
                              uint32_t(p[3]));
}

int64_t JuteReader::int64() {
  uint64_t hi = static_cast<uint32_t>(int32());
  uint64_t lo = static_cast<uint32_t>(int32());
  return static_cast<int64_t>(hi << 32 | lo);
}

bool JuteReader::boolean() {
  need(1);
  return in_[pos_++] != 0;
}

std::string JuteReader::buffer() {
  bool ignored;
  return buffer(ignored);
}

std::string JuteReader::buffer(bool& was_null) {
  int32_t len = int32();
  was_null = len == -1;
  if (len == -1) return {};
  if (len < -1) throw DecodeError("negative buffer length");
  need(static_cast<size_t>(len));
  std::string s(in_.substr(pos_, static_cast<size_t>(len)));
  pos_ += static_cast<size_t>(len);
  return s;
}

int32_t JuteReader::vector_count(size_t min_element_bytes) {
  int32_t n = int32();
  if (n == -1) return 0;
  if (n < -1) throw DecodeError("negative vector count");
  if (min_element_bytes > 0 && static_cast<uint64_t>(n) * min_element_bytes > remaining())
    throw DecodeError("vector count does not fit in the frame");
  return n;
}

}  // namespace corral::wire
