// NodeEntry (a znode and its path in one allocation) and NodeTable (the tree's entries by path).
#include "ensemble/tree/node_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace corral::tree {
namespace {

TEST(NodeEntry, HoldsItsPathEndingInANulBesideTheNode) {
  // Lengths on both sides of each allocation size the node and its path may take.
  for (size_t length = 0; length < 200; ++length) {
    const std::string path = "/" + std::string(length, static_cast<char>('a' + length % 26));
    NodeEntry::Owned entry = NodeEntry::make(path);
    Node& n = entry->node();
    n.czxid = n.mzxid = n.pzxid = n.ctime = n.mtime = n.ephemeral_owner = -1;
    n.version = n.cversion = n.aversion = -1;
    n.data_null = true;
    n.data = std::string(300, 'x');
    ASSERT_EQ(entry->path(), path) << "setting the node leaves its path alone";
    // A child's name (ChildNames::name_of) is the tail of its path, ending at the NUL.
    ASSERT_EQ(std::strlen(entry->path().data()), path.size());
    ASSERT_EQ(entry->node().czxid, -1);
    ASSERT_TRUE(entry->node().data_null);
  }
}

TEST(NodeTable, FindsMakesAndErasesEntriesByPath) {
  NodeTable table;
  EXPECT_EQ(table.find("/a"), nullptr);
  auto [a, made] = table.try_emplace("/a");
  ASSERT_TRUE(made);
  EXPECT_EQ(a->path(), "/a");
  a->node().version = 7;
  auto [again, made_again] = table.try_emplace(std::string("/a"));
  EXPECT_FALSE(made_again);
  EXPECT_EQ(again, a);
  EXPECT_EQ(again->node().version, 7);
  EXPECT_EQ(table.find(std::string_view("/a")), a);
  EXPECT_EQ(table.size(), 1u);
  table.erase(a);
  EXPECT_EQ(table.find("/a"), nullptr);
  EXPECT_EQ(table.size(), 0u);
}

TEST(NodeTable, PathsThatShareAPrefixAreTold) {
  NodeTable table;
  std::vector<std::string> paths;
  for (int i = 0; i < 1000; ++i)
    paths.push_back("/p" + std::string(i % 50, 'a') + "/" + std::to_string(i));
  paths.push_back("/a");
  paths.push_back("/ab");
  paths.push_back("/a/b");
  for (const auto& p : paths) ASSERT_TRUE(table.try_emplace(p).second) << p;
  // Every other one erased: the rest are still found, each as itself.
  for (size_t i = 0; i < paths.size(); i += 2) table.erase(table.find(paths[i]));
  EXPECT_EQ(table.size(), paths.size() / 2);
  for (size_t i = 0; i < paths.size(); ++i) {
    const NodeEntry* e = table.find(paths[i]);
    if (i % 2 == 0) {
      EXPECT_EQ(e, nullptr) << paths[i];
    } else {
      ASSERT_NE(e, nullptr) << paths[i];
      EXPECT_EQ(e->path(), paths[i]);
    }
  }
  EXPECT_EQ(table.find("/p"), nullptr);
  EXPECT_EQ(table.find("/a/"), nullptr);
}

TEST(NodeTable, EntriesStayWhereTheyAreAsTheTableGrowsAndMoves) {
  NodeTable table;
  std::vector<std::pair<std::string, const NodeEntry*>> made;
  for (int i = 0; i < 5000; ++i) {
    std::string path = "/n" + std::to_string(i);
    made.emplace_back(path, table.try_emplace(path).first);
  }
  NodeTable moved = std::move(table);
  NodeTable assigned;
  assigned.try_emplace("/replaced");
  assigned = std::move(moved);
  EXPECT_EQ(assigned.size(), made.size());
  EXPECT_EQ(assigned.find("/replaced"), nullptr);
  for (const auto& [path, entry] : made) {
    ASSERT_EQ(assigned.find(path), entry) << path << ": a parent's ChildNames points there";
  }
}

}  // namespace
}  // namespace corral::tree
