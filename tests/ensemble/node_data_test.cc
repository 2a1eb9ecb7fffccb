// NodeData: a znode's data in one allocation, none when empty.
#include "ensemble/tree/node_data.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>

namespace corral::tree {
namespace {

TEST(NodeData, HoldsItsBytesAndNothingWhenEmpty) {
  NodeData d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.view(), "");
  const std::string bytes("a\0b\xff", 4);
  d = bytes;
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(d, bytes) << "bytes after a NUL are kept";
  d = "";
  EXPECT_TRUE(d.empty());
}

TEST(NodeData, CopiesAndMoves) {
  NodeData a("hello");
  NodeData b = a;
  EXPECT_EQ(b, a);
  a = "changed";
  EXPECT_EQ(b, "hello") << "a copy owns its bytes";
  NodeData c = std::move(a);
  EXPECT_EQ(c, "changed");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from value is empty
  b = c;
  EXPECT_EQ(b, "changed");
  b = b.view();  // from a view of itself: copied before the old bytes go
  EXPECT_EQ(b, "changed");
  b = std::string_view(b.view()).substr(2);
  EXPECT_EQ(b, "anged");
  const NodeData& same = b;
  b = same;
  EXPECT_EQ(b, "anged");
  std::ostringstream out;
  out << b;
  EXPECT_EQ(out.str(), "anged");
}

}  // namespace
}  // namespace corral::tree
