// The heap a DataTree spends per znode. Issue 13 asks for RSS at most a quarter of
// ZooKeeper's with 1,000,000 znodes, and the tree is most of a server's memory: this binary
// replaces operator new and delete to count the bytes the tree holds, so a change that makes
// every node bigger fails here rather than in a benchmark run.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "ensemble/tree/data_tree.h"

namespace {

/// Bytes held through operator new, as the allocator counts them (usable sizes).
std::atomic<int64_t> g_heap_bytes{0};

}  // namespace

void* operator new(size_t size) {
  void* p = std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  g_heap_bytes += static_cast<int64_t>(malloc_usable_size(p));
  return p;
}

void operator delete(void* p) noexcept {
  if (!p) return;
  g_heap_bytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}

void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace corral::tree {
namespace {

const wire::AclList kOpenAcl{{wire::perms::kAll, {"world", "anyone"}}};

/// A txn of one op of `type` on `path`.
Txn one_op(int64_t zxid, wire::OpCode type, const std::string& path, const std::string& data = "") {
  TxnOp op;
  op.type = type;
  op.path = path;
  op.data = data;
  op.acl = kOpenAcl;
  Txn t;
  t.zxid = zxid;
  t.type = type;
  t.ops.push_back(std::move(op));
  return t;
}

Txn create_txn(int64_t zxid, const std::string& path, const std::string& data) {
  return one_op(zxid, wire::OpCode::kCreate, path, data);
}

/// Heap bytes per node of `count` leaves of 100 bytes under one parent, named as
/// corral-bench names its keys.
double bytes_per_leaf(DataTree& tree, int count) {
  const std::string data(100, 'x');
  int64_t zxid = 1;
  tree.apply(create_txn(zxid++, "/keys", ""));
  int64_t before = g_heap_bytes;
  for (int i = 0; i < count; ++i)
    tree.apply(create_txn(zxid++, "/keys/k" + std::to_string(i), data));
  return static_cast<double>(g_heap_bytes - before) / count;
}

TEST(TreeMemory, ALeafOf100BytesCostsUnder250BytesOfHeap) {
  DataTree tree;
  double per_leaf = bytes_per_leaf(tree, 100000);
  // glibc's usable sizes: 120 for the node and its path in one allocation (NodeEntry: the
  // 88-byte znode, the path's length, its 12 characters and a NUL; no link, no cached hash, no
  // child set), 104 for the data, about 12 for the parent's entry (a pointer to the child in
  // blocks of up to 128, half full or more: these names do not come in order), and the
  // open-addressing table's slots (9 bytes each, 131,071 of them for 100,000 nodes): about 244.
  // With the path in an allocation of its own (until ce243af) it was 104 and 24: about 253.
  // With std::unordered_map (until c0a5009) it was a 120-byte node and the buckets: about 271.
  // Before, the map keyed a std::string and the data was one (a 160-byte node, 295 a leaf);
  // before that the parent's entry was a std::set node (342), and before that each leaf took
  // about 420: a 48-byte empty child set, a cached hash, and the name copied.
  EXPECT_LT(per_leaf, 250.0);
  EXPECT_GT(per_leaf, 200.0) << "the counting operator new is not in use";
  std::cout << "heap bytes per 100-byte leaf: " << per_leaf << "\n";
}

/// Deletes `path`, a leaf.
void remove(DataTree& tree, int64_t zxid, const std::string& path) {
  tree.apply(one_op(zxid, wire::OpCode::kDelete, path));
}

TEST(TreeMemory, DeletingEveryChildGivesBackTheParentsChildSet) {
  DataTree tree;
  int64_t zxid = 1;
  tree.apply(create_txn(zxid++, "/p", ""));
  // Once first: the table's slots grow with the first child and do not shrink.
  tree.apply(create_txn(zxid++, "/p/c", "x"));
  remove(tree, zxid++, "/p/c");
  int64_t leaf_only = g_heap_bytes;
  tree.apply(create_txn(zxid++, "/p/c", "x"));
  EXPECT_GT(g_heap_bytes, leaf_only);
  remove(tree, zxid++, "/p/c");
  EXPECT_EQ(g_heap_bytes, leaf_only);
  EXPECT_TRUE(tree.find("/p")->children.empty());
  EXPECT_EQ(tree.find("/p")->stat().num_children, 0);
}

}  // namespace
}  // namespace corral::tree
