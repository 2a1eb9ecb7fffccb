// /zookeeper/config set outside the log (DataTree::set_config_node): ZooKeeper's stat, and a
// tree digest that members setting it at different times still agree on.
#include <gtest/gtest.h>

#include "ensemble/storage/tree_digest.h"
#include "ensemble/tree/data_tree.h"

namespace corral {
namespace {

TEST(ConfigNode, SetOutsideTheLogAsZooKeeperDoes) {
  tree::DataTree t;
  t.set_config_node("server.1=h:1:2:participant\nversion=0", 0, 1234);
  const tree::Node* n = t.find("/zookeeper/config");
  ASSERT_NE(n, nullptr);
  wire::Stat s = n->stat();
  EXPECT_EQ(n->data, "server.1=h:1:2:participant\nversion=0");
  EXPECT_EQ(s.version, -1);
  EXPECT_EQ(s.aversion, -1);
  EXPECT_EQ(s.mzxid, 0);
  EXPECT_EQ(s.czxid, 0);
  EXPECT_EQ(s.mtime, 1234);
  EXPECT_EQ(t.last_zxid(), 0);  // not a txn
  EXPECT_EQ(t.data_bytes(), static_cast<int64_t>(n->data.size()));
}

TEST(ConfigNode, DigestIgnoresWhatEachMemberSetsItself) {
  tree::DataTree a, b;
  a.set_config_node("server.1=h:1:2:participant\nversion=0", 0, 1000);
  b.set_config_node("server.1=h:1:2:participant\nversion=0", 0, 2000);
  EXPECT_EQ(storage::tree_digest(a).digest, storage::tree_digest(b).digest);
  EXPECT_EQ(storage::tree_digest(a).digest, storage::tree_digest(tree::DataTree{}).digest);
}

}  // namespace
}  // namespace corral
