// Tests of ZooKeeper's path rules (org.apache.zookeeper.common.PathUtils.validatePath,
// applied to the string the server decodes from the request's UTF-8 bytes) and of
// the path helpers. Every verdict below was checked against ZooKeeper 3.8.0's
// PathUtils.validatePath(new String(bytes, UTF_8), sequential).
#include "wire/path.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace corral::wire {
namespace {

::testing::AssertionResult Valid(std::string_view path, bool sequential = false) {
  std::string reason = validate_path(path, sequential);
  if (reason.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "rejected: " << reason;
}

::testing::AssertionResult Invalid(std::string_view path, bool sequential = false) {
  std::string reason = validate_path(path, sequential);
  if (!reason.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "accepted";
}

TEST(ValidatePath, Root) {
  EXPECT_TRUE(Valid("/"));
  EXPECT_TRUE(Valid("/", true));
}

TEST(ValidatePath, OrdinaryPaths) {
  EXPECT_TRUE(Valid("/a"));
  EXPECT_TRUE(Valid("/a/b/c"));
  EXPECT_TRUE(Valid("/zookeeper"));
  EXPECT_TRUE(Valid("/zookeeper/quota"));
  EXPECT_TRUE(Valid("/ "));
  EXPECT_TRUE(Valid("/a b"));
  EXPECT_TRUE(Valid("/~!@#$%^&*()_+-=[]{}|;':\",<>?"));
  EXPECT_TRUE(Valid("/lock-0000000001"));
}

TEST(ValidatePath, MustBeAbsoluteAndNonEmpty) {
  EXPECT_EQ(validate_path(""), "Path length must be > 0");
  EXPECT_EQ(validate_path("a"), "Path must start with / character");
  EXPECT_TRUE(Invalid("a/b"));
  EXPECT_TRUE(Invalid(" /a"));
  EXPECT_TRUE(Invalid(""));
  EXPECT_TRUE(Invalid("", true));
  EXPECT_TRUE(Invalid("a", true));
}

TEST(ValidatePath, TrailingSlash) {
  EXPECT_EQ(validate_path("/a/"), "Path must not end with / character");
  EXPECT_TRUE(Invalid("/a/b/"));
  EXPECT_TRUE(Invalid("//"));
  // A sequential create appends a counter, so "/a/" names "/a/0000000001".
  EXPECT_TRUE(Valid("/a/", true));
  EXPECT_TRUE(Valid("/a/b/", true));
  EXPECT_TRUE(Valid("/a/lock-", true));
  // ...but the rest of the path must still be valid.
  EXPECT_TRUE(Invalid("/a//", true));
  EXPECT_TRUE(Invalid("//", true));
}

TEST(ValidatePath, EmptyComponents) {
  EXPECT_TRUE(Invalid("/a//b"));
  EXPECT_TRUE(Invalid("//a"));
  EXPECT_TRUE(Invalid("/a///b"));
  EXPECT_TRUE(Invalid("/a//b", true));
}

TEST(ValidatePath, RelativeComponents) {
  EXPECT_TRUE(Invalid("/a/./b"));
  EXPECT_TRUE(Invalid("/a/../b"));
  EXPECT_TRUE(Invalid("/."));
  EXPECT_TRUE(Invalid("/.."));
  EXPECT_TRUE(Invalid("/a/."));
  EXPECT_TRUE(Invalid("/a/.."));
  EXPECT_TRUE(Invalid("/./a"));
  EXPECT_TRUE(Invalid("/../a"));
}

TEST(ValidatePath, DotsInsideNames) {
  EXPECT_TRUE(Valid("/a.b"));
  EXPECT_TRUE(Valid("/..a"));
  EXPECT_TRUE(Valid("/a.."));
  EXPECT_TRUE(Valid("/.a"));
  EXPECT_TRUE(Valid("/..."));
  EXPECT_TRUE(Valid("/a/.b/c"));
  EXPECT_TRUE(Valid("/a/b./c"));
  EXPECT_TRUE(Valid("/a/.../c"));
}

TEST(ValidatePath, SequentialDotNamesAreNotRelative) {
  // "/a/." + counter is "/a/.0000000001", an ordinary name; ZooKeeper accepts it.
  EXPECT_TRUE(Valid("/a/.", true));
  EXPECT_TRUE(Valid("/a/..", true));
  EXPECT_TRUE(Valid("/.", true));
  EXPECT_TRUE(Valid("/..", true));
  // A relative component before the sequential name is still rejected.
  EXPECT_TRUE(Invalid("/./a", true));
  EXPECT_TRUE(Invalid("/a/../b-", true));
}

TEST(ValidatePath, EmbeddedNul) {
  EXPECT_TRUE(Invalid(std::string_view("/a\0b", 4)));
  EXPECT_TRUE(Invalid(std::string_view("/\0", 2)));
  EXPECT_TRUE(Invalid(std::string_view("/a\0", 3), true));
}

TEST(ValidatePath, ControlCharacters) {
  for (int c = 1; c <= 0x1f; ++c) {
    std::string p = "/a";
    p.push_back(static_cast<char>(c));
    EXPECT_TRUE(Invalid(p)) << "char " << c;
  }
  EXPECT_TRUE(Invalid("/\x01"));
  EXPECT_TRUE(Invalid("/\t"));
  EXPECT_TRUE(Invalid("/a\nb"));
  EXPECT_TRUE(Invalid("/\x7f"));
  EXPECT_TRUE(Valid("/~"));  // 0x7e is the last allowed ASCII character
}

TEST(ValidatePath, C1ControlCharacters) {
  EXPECT_TRUE(Invalid("/\u0080"));
  EXPECT_TRUE(Invalid("/\u0085"));
  EXPECT_TRUE(Invalid("/\u009f"));
  EXPECT_TRUE(Valid("/\u00a0"));  // first character after the C1 block
}

TEST(ValidatePath, ReservedBmpRanges) {
  // U+D800..U+F8FF: surrogates (not encodable in valid UTF-8) and private use.
  EXPECT_TRUE(Invalid("/\ue000"));
  EXPECT_TRUE(Invalid("/\uf8ff"));
  EXPECT_TRUE(Valid("/\uf900"));
  EXPECT_TRUE(Valid("/\ud7ff"));
  // U+FFF0..U+FFFF: specials.
  EXPECT_TRUE(Invalid("/\ufff0"));
  EXPECT_TRUE(Invalid("/\ufffd"));
  EXPECT_TRUE(Invalid("/\uffff"));
  EXPECT_TRUE(Valid("/\uffef"));
}

TEST(ValidatePath, SupplementaryCharacters) {
  // Java sees a surrogate pair, which is in the forbidden range.
  EXPECT_TRUE(Invalid("/\U0001F600"));      // emoji
  EXPECT_TRUE(Invalid("/a/\U00010000/b"));  // first supplementary code point
  EXPECT_TRUE(Invalid("/\U0010FFFF"));      // last code point
}

TEST(ValidatePath, OrdinaryNonAscii) {
  EXPECT_TRUE(Valid("/é"));
  EXPECT_TRUE(Valid("/日本"));
  EXPECT_TRUE(Valid("/日本/東京/é.txt"));
  EXPECT_TRUE(Valid("/Ω"));
  EXPECT_TRUE(Valid("/\u07ff"));  // last 2-byte code point
  EXPECT_TRUE(Valid("/\u0800"));  // first 3-byte code point
}

TEST(ValidatePath, MalformedUtf8) {
  // Java's decoder turns each of these into U+FFFD, which is forbidden.
  EXPECT_TRUE(Invalid("/\xff"));
  EXPECT_TRUE(Invalid("/\xfe"));
  EXPECT_TRUE(Invalid("/\x80"));      // lone continuation byte
  EXPECT_TRUE(Invalid("/\xc3"));      // truncated 2-byte sequence at the end
  EXPECT_TRUE(Invalid("/\xe6\x97"));  // truncated 3-byte sequence
  EXPECT_TRUE(
      Invalid("/\xe2\x82"
              "a"));                              // truncated sequence followed by ASCII
  EXPECT_TRUE(Invalid("/\xc3/a"));                // truncated sequence followed by '/'
  EXPECT_TRUE(Invalid("/\xc3\xa9\xc3"));          // valid é then a truncated sequence
  EXPECT_TRUE(Invalid("/\xed\xa0\x80"));          // an encoded surrogate
  EXPECT_TRUE(Invalid("/\xf4\x90\x80\x80"));      // beyond U+10FFFF
  EXPECT_TRUE(Invalid("/\xf8\x88\x80\x80\x80"));  // 5-byte form
}

TEST(ValidatePath, OverlongUtf8) {
  // Overlong forms are malformed; decoding them as the short character would let
  // a client smuggle '/', '.' or NUL past the checks and alias other names.
  EXPECT_TRUE(
      Invalid("/a\xc0\xaf"
              "b"));                          // overlong '/'
  EXPECT_TRUE(Invalid("/\xc0\xae"));          // overlong '.'
  EXPECT_TRUE(Invalid("/\xc1\xa1"));          // overlong 'a'
  EXPECT_TRUE(Invalid("/\xe0\x81\xa1"));      // 3-byte overlong 'a'
  EXPECT_TRUE(Invalid("/\xe0\x9f\xbf"));      // 3-byte overlong U+07FF
  EXPECT_TRUE(Invalid("/\xf0\x8f\xbf\xbf"));  // 4-byte overlong U+FFFF
  EXPECT_TRUE(Invalid("/\xc0\x80"));          // overlong NUL
}

TEST(ValidatePath, ReasonNamesTheProblem) {
  EXPECT_NE(validate_path("/a//b").find("empty node name"), std::string::npos);
  EXPECT_NE(validate_path("/a/./b").find("relative paths not allowed"), std::string::npos);
  EXPECT_NE(validate_path(std::string_view("/a\0b", 4)).find("null character"), std::string::npos);
  EXPECT_NE(validate_path("/a\x01").find("invalid character"), std::string::npos);
}

TEST(PathHelpers, ParentPath) {
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(parent_path("/a/b/c"), "/a/b");
  EXPECT_EQ(parent_path("/日本/東京"), "/日本");
  EXPECT_EQ(parent_path("/a.b/c.d"), "/a.b");
}

TEST(PathHelpers, BaseName) {
  EXPECT_EQ(base_name("/a"), "a");
  EXPECT_EQ(base_name("/a/b"), "b");
  EXPECT_EQ(base_name("/a/b/lock-0000000007"), "lock-0000000007");
  EXPECT_EQ(base_name("/"), "");
  EXPECT_EQ(base_name("/日本/東京"), "東京");
}

TEST(PathHelpers, ChildPath) {
  EXPECT_EQ(child_path("/", "a"), "/a");
  EXPECT_EQ(child_path("/a", "b"), "/a/b");
  EXPECT_EQ(child_path("/a/b", "c"), "/a/b/c");
  EXPECT_EQ(child_path("/a", "lock-0000000001"), "/a/lock-0000000001");
}

TEST(PathHelpers, HelpersInvertEachOther) {
  for (std::string_view p : {"/a", "/a/b", "/x/y/z", "/日本/é"}) {
    EXPECT_EQ(child_path(parent_path(p), base_name(p)), p);
  }
}

}  // namespace
}  // namespace corral::wire
