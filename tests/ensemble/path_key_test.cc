// PathKey: the tree's key, its path in one allocation that never moves.
#include "ensemble/tree/path_key.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

namespace corral::tree {
namespace {

TEST(PathKey, ReadsAsItsPathAndEndsInANul) {
  PathKey key("/a/bc");
  EXPECT_EQ(key.view(), "/a/bc");
  EXPECT_EQ(key, std::string_view("/a/bc"));
  EXPECT_FALSE(key == std::string_view("/a/b"));
  // A child's name (ChildNames::name_of) is the tail of its key, ending at the NUL.
  const char* name = key.view().data() + 3;
  EXPECT_EQ(std::strlen(name), 2u);
  EXPECT_STREQ(name, "bc");
}

TEST(PathKey, AMoveKeepsTheCharactersWhereTheyAre) {
  PathKey a("/x/y");
  const char* chars = a.view().data();
  PathKey b = std::move(a);
  EXPECT_EQ(b.view().data(), chars) << "a child's name in its parent points there";
  EXPECT_EQ(b, PathKey("/x/y"));
  PathKey c("/other");
  c = std::move(b);
  EXPECT_EQ(c.view(), "/x/y");
}

}  // namespace
}  // namespace corral::tree
