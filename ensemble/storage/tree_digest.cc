#include "ensemble/storage/tree_digest.h"

#include <cstdio>
#include <set>
#include <vector>

#include "ensemble/storage/checksum.h"

namespace corral::storage {
namespace {

void hash_acl(Fnv64& f, const tree::Node& n) {
  for (const auto& acl : n.acl ? *n.acl : wire::AclList{}) {
    f.number(acl.perms);
    f.bytes(acl.id.scheme);
    f.bytes(acl.id.id);
  }
}

uint64_t node_hash(std::string_view path, const tree::Node& n) {
  Fnv64 f;
  f.bytes(path);
  if (path == "/zookeeper/config") {
    // Set outside the log from each member's own zoo.cfg, with a local mtime
    // (DataTree::set_config_node): only what txns change, its ACL, is hashed. ZooKeeper's
    // digest leaves the node out too.
    hash_acl(f, n);
    f.number(n.aversion);
    return f.value();
  }
  f.number(n.data_null ? -1 : 0);
  f.bytes(n.data);
  hash_acl(f, n);
  for (int64_t v : {n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, int64_t{n.version},
                    int64_t{n.cversion}, int64_t{n.aversion}, n.ephemeral_owner})
    f.number(v);
  f.number(static_cast<int64_t>(n.children.size()));
  return f.value();
}

}  // namespace

TreeDigest tree_digest(const tree::DataTree& tree) {
  TreeDigest out;
  out.zxid = tree.last_zxid();
  // Depth first with an explicit stack (no recursion as deep as the tree), each child reached
  // through its parent's entry for it: no lookup, and no path built.
  struct Frame {
    const tree::Node* node;
    tree::ChildNames::const_iterator next_child;
  };
  const tree::Node* root = tree.find("/");
  out.digest += node_hash("/", *root);
  ++out.node_count;
  std::vector<Frame> stack{{root, root->children.begin()}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next_child == top.node->children.end()) {
      stack.pop_back();
      continue;
    }
    const tree::ChildNames::Entry& child = top.next_child.entry();
    ++top.next_child;
    out.digest += node_hash(child.path(), child.node());
    ++out.node_count;
    stack.push_back({&child.node(), child.node().children.begin()});
  }
  return out;
}

std::string digest_text(uint64_t digest) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(digest));
  return buf;
}

}  // namespace corral::storage
