// Tests of the jute codec: exact big-endian layout, round trips, and every
// way a frame can fail to decode.
#include "wire/jute.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace corral::wire {
namespace {

// Builds a byte string from a list of byte values (0..255).
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

template <class F>
std::string encode(F&& f) {
  std::string out;
  JuteWriter w(out);
  f(w);
  return out;
}

TEST(JuteWriter, Int32IsBigEndian) {
  EXPECT_EQ(encode([](JuteWriter& w) { w.int32(0x01020304); }), bytes({1, 2, 3, 4}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int32(0); }), bytes({0, 0, 0, 0}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int32(-1); }), bytes({0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int32(-101); }), bytes({0xff, 0xff, 0xff, 0x9b}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int32(std::numeric_limits<int32_t>::min()); }),
            bytes({0x80, 0, 0, 0}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int32(std::numeric_limits<int32_t>::max()); }),
            bytes({0x7f, 0xff, 0xff, 0xff}));
}

TEST(JuteWriter, Int64IsBigEndian) {
  EXPECT_EQ(encode([](JuteWriter& w) { w.int64(0x0102030405060708LL); }),
            bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int64(-2); }),
            bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}));
  // A zxid: epoch 1, counter 2.
  EXPECT_EQ(encode([](JuteWriter& w) { w.int64(int64_t{1} << 32 | 2); }),
            bytes({0, 0, 0, 1, 0, 0, 0, 2}));
  // The low word's top bit must not leak into the high word.
  EXPECT_EQ(encode([](JuteWriter& w) { w.int64(0x80000000LL); }),
            bytes({0, 0, 0, 0, 0x80, 0, 0, 0}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int64(std::numeric_limits<int64_t>::min()); }),
            bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.int64(std::numeric_limits<int64_t>::max()); }),
            bytes({0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(JuteWriter, BooleanIsOneByte) {
  EXPECT_EQ(encode([](JuteWriter& w) { w.boolean(true); }), bytes({1}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.boolean(false); }), bytes({0}));
}

TEST(JuteWriter, BufferIsLengthPrefixed) {
  EXPECT_EQ(encode([](JuteWriter& w) { w.buffer("abc"); }), bytes({0, 0, 0, 3, 'a', 'b', 'c'}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.buffer(""); }), bytes({0, 0, 0, 0}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.null_buffer(); }), bytes({0xff, 0xff, 0xff, 0xff}));
  // Strings share the buffer layout; embedded NULs are plain bytes.
  EXPECT_EQ(encode([](JuteWriter& w) { w.string("/a"); }), bytes({0, 0, 0, 2, '/', 'a'}));
  EXPECT_EQ(encode([](JuteWriter& w) { w.buffer(std::string_view("x\0y", 3)); }),
            bytes({0, 0, 0, 3, 'x', 0, 'y'}));
  std::string big(300, 'z');
  std::string enc = encode([&](JuteWriter& w) { w.buffer(big); });
  EXPECT_EQ(enc.substr(0, 4), bytes({0, 0, 1, 0x2c}));
  EXPECT_EQ(enc.substr(4), big);
}

TEST(JuteWriter, AppendsAfterExistingBytesAndPatches) {
  std::string out = "ab";
  JuteWriter w(out);
  EXPECT_EQ(w.size(), 2u);
  w.int32(0);  // a frame length placeholder
  w.int32(7);
  EXPECT_EQ(w.size(), 10u);
  w.patch_int32(2, 0x0a0b0c0d);
  EXPECT_EQ(out, std::string("ab") + bytes({0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 7}));
  w.patch_int32(6, -1);
  EXPECT_EQ(out, std::string("ab") + bytes({0x0a, 0x0b, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xff}));
}

TEST(JuteReader, ReadsHandWrittenBytes) {
  std::string in = bytes({0xff, 0xff, 0xff, 0x9b, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 2, 'h', 'i'});
  JuteReader r(in);
  EXPECT_EQ(r.remaining(), in.size());
  EXPECT_EQ(r.int32(), -101);
  EXPECT_EQ(r.int64(), int64_t{1} << 32 | 2);
  EXPECT_TRUE(r.boolean());
  EXPECT_EQ(r.remaining(), 6u);
  EXPECT_FALSE(r.at_end());
  EXPECT_EQ(r.string(), "hi");
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(JuteReader, AnyNonZeroByteIsTrue) {
  std::string in = bytes({0, 1, 2, 0xff});
  JuteReader r(in);
  EXPECT_FALSE(r.boolean());
  EXPECT_TRUE(r.boolean());
  EXPECT_TRUE(r.boolean());
  EXPECT_TRUE(r.boolean());
  EXPECT_TRUE(r.at_end());
}

TEST(JuteRoundTrip, Int32Extremes) {
  const std::vector<int32_t> values = {
      0,    1,    -1,         2,           0x7f,      0x80,      0xff,          0x100,
      -128, -129, 0x12345678, -0x12345678, INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1};
  std::string out;
  JuteWriter w(out);
  for (int32_t v : values) w.int32(v);
  EXPECT_EQ(out.size(), values.size() * 4);
  JuteReader r(out);
  for (int32_t v : values) EXPECT_EQ(r.int32(), v);
  EXPECT_TRUE(r.at_end());
}

TEST(JuteRoundTrip, Int64Extremes) {
  const std::vector<int64_t> values = {0,
                                       1,
                                       -1,
                                       0xffffffffLL,
                                       0x100000000LL,
                                       0x80000000LL,
                                       -0x80000000LL,
                                       0x7fffffffffffffffLL,
                                       INT64_MIN,
                                       INT64_MIN + 1,
                                       0x0123456789abcdefLL,
                                       -0x0123456789abcdefLL};
  std::string out;
  JuteWriter w(out);
  for (int64_t v : values) w.int64(v);
  EXPECT_EQ(out.size(), values.size() * 8);
  JuteReader r(out);
  for (int64_t v : values) EXPECT_EQ(r.int64(), v);
  EXPECT_TRUE(r.at_end());
}

TEST(JuteRoundTrip, Buffers) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string large(1 << 20, '\x5a');
  std::string out;
  JuteWriter w(out);
  w.buffer(all_bytes);
  w.buffer("");
  w.null_buffer();
  w.string("/日本");
  w.buffer(large);
  JuteReader r(out);
  bool was_null = true;
  EXPECT_EQ(r.buffer(was_null), all_bytes);
  EXPECT_FALSE(was_null);
  EXPECT_EQ(r.buffer(was_null), "");
  EXPECT_FALSE(was_null) << "an empty buffer is not a null buffer";
  EXPECT_EQ(r.buffer(was_null), "");
  EXPECT_TRUE(was_null);
  EXPECT_EQ(r.string(), "/日本");
  EXPECT_EQ(r.buffer(), large);
  EXPECT_TRUE(r.at_end());
}

TEST(JuteReader, NullBufferReadsAsEmpty) {
  std::string in = bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  JuteReader r(in);
  EXPECT_EQ(r.buffer(), "");
  EXPECT_EQ(r.string(), "");
  EXPECT_TRUE(r.at_end());
}

TEST(JuteDecodeError, TruncatedInt32) {
  for (size_t n = 0; n < 4; ++n) {
    std::string in(n, '\x01');
    JuteReader r(in);
    EXPECT_THROW(r.int32(), DecodeError) << n << " bytes";
  }
}

TEST(JuteDecodeError, TruncatedInt64) {
  for (size_t n = 0; n < 8; ++n) {
    std::string in(n, '\x01');
    JuteReader r(in);
    EXPECT_THROW(r.int64(), DecodeError) << n << " bytes";
  }
}

TEST(JuteDecodeError, TruncatedBoolean) {
  JuteReader r("");
  EXPECT_THROW(r.boolean(), DecodeError);
}

TEST(JuteDecodeError, EmptyInputFailsEveryRead) {
  JuteReader r("");
  EXPECT_TRUE(r.at_end());
  EXPECT_THROW(r.buffer(), DecodeError);
  EXPECT_THROW(r.string(), DecodeError);
  EXPECT_THROW(r.vector_count(4), DecodeError);
}

TEST(JuteDecodeError, TruncatedBufferLength) {
  std::string in = bytes({0, 0, 0});
  JuteReader r(in);
  EXPECT_THROW(r.buffer(), DecodeError);
}

TEST(JuteDecodeError, BufferLengthBelowMinusOne) {
  for (int32_t len : {-2, -100, INT32_MIN}) {
    std::string in = encode([&](JuteWriter& w) {
      w.int32(len);
      w.buffer("padding bytes that must not be read");
    });
    JuteReader r(in);
    bool was_null = false;
    EXPECT_THROW(r.buffer(was_null), DecodeError) << len;
    JuteReader r2(in);
    EXPECT_THROW(r2.string(), DecodeError) << len;
  }
}

TEST(JuteDecodeError, BufferLengthPastTheEnd) {
  // Says 5 bytes, has 4.
  std::string in = bytes({0, 0, 0, 5, 'a', 'b', 'c', 'd'});
  JuteReader r(in);
  EXPECT_THROW(r.buffer(), DecodeError);
  // A huge length in a tiny frame must not allocate.
  std::string huge = bytes({0x7f, 0xff, 0xff, 0xff, 'x'});
  JuteReader r2(huge);
  EXPECT_THROW(r2.buffer(), DecodeError);
  // Exactly enough is fine.
  std::string exact = bytes({0, 0, 0, 4, 'a', 'b', 'c', 'd'});
  JuteReader r3(exact);
  EXPECT_EQ(r3.buffer(), "abcd");
  EXPECT_TRUE(r3.at_end());
}

TEST(JuteReader, VectorCounts) {
  std::string in = encode([](JuteWriter& w) {
    w.int32(3);
    w.int32(0);
    w.int32(-1);
    for (int i = 0; i < 3; ++i) w.int32(i);
  });
  JuteReader r(in);
  EXPECT_EQ(r.vector_count(4), 3);  // 3 * 4 = 20 bytes remaining after the count: fits
  EXPECT_EQ(r.vector_count(4), 0);  // empty
  EXPECT_EQ(r.vector_count(4), 0);  // null vector reads as empty
  EXPECT_EQ(r.remaining(), 12u);
}

TEST(JuteDecodeError, VectorCountBelowMinusOne) {
  for (int32_t n : {-2, -1000, INT32_MIN}) {
    std::string in = encode([&](JuteWriter& w) {
      w.int32(n);
      for (int i = 0; i < 8; ++i) w.int32(0);
    });
    JuteReader r(in);
    EXPECT_THROW(r.vector_count(4), DecodeError) << n;
    JuteReader r2(in);
    EXPECT_THROW(r2.vector_count(0), DecodeError) << n;
  }
}

TEST(JuteDecodeError, VectorCountThatCannotFit) {
  // A 20-byte frame claiming a billion elements: must throw before anyone allocates.
  std::string in = encode([](JuteWriter& w) {
    w.int32(1000000000);
    for (int i = 0; i < 4; ++i) w.int32(0);
  });
  ASSERT_EQ(in.size(), 20u);
  JuteReader r(in);
  EXPECT_THROW(r.vector_count(4), DecodeError);
  // INT32_MAX elements of 12 bytes: the product must not overflow into a small number.
  std::string in2 = encode([](JuteWriter& w) { w.int32(INT32_MAX); });
  JuteReader r2(in2);
  EXPECT_THROW(r2.vector_count(12), DecodeError);
}

TEST(JuteDecodeError, VectorCountBoundIsExact) {
  // 16 bytes follow the count: 4 elements of 4 bytes fit, 5 do not.
  for (int32_t n : {4, 5}) {
    std::string in = encode([&](JuteWriter& w) {
      w.int32(n);
      for (int i = 0; i < 4; ++i) w.int32(0);
    });
    JuteReader r(in);
    if (n == 4) {
      EXPECT_EQ(r.vector_count(4), 4);
    } else {
      EXPECT_THROW(r.vector_count(4), DecodeError);
    }
  }
}

TEST(JuteDecodeError, TruncatedVectorCount) {
  std::string in = bytes({0, 0});
  JuteReader r(in);
  EXPECT_THROW(r.vector_count(4), DecodeError);
}

}  // namespace
}  // namespace corral::wire
