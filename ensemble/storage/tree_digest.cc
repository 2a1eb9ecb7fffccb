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

uint64_t node_hash(const std::string& path, const tree::Node& n) {
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
  // Depth first with one path buffer and an explicit stack: no string per node kept, no
  // second lookup, and no recursion as deep as the tree.
  struct Frame {
    const tree::Node* node;
    tree::ChildNames::const_iterator next_child;
    size_t path_size;
  };
  std::string path = "/";
  const tree::Node* root = tree.find(path);
  out.digest += node_hash(path, *root);
  ++out.node_count;
  std::vector<Frame> stack{{root, root->children.begin(), path.size()}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next_child == top.node->children.end()) {
      stack.pop_back();
      continue;
    }
    std::string_view name = *top.next_child++;
    path.resize(top.path_size);
    if (path.size() > 1) path += '/';
    path += name;
    const tree::Node* child = tree.find(path);
    out.digest += node_hash(path, *child);
    ++out.node_count;
    stack.push_back({child, child->children.begin(), path.size()});
  }
  return out;
}

std::string digest_text(uint64_t digest) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(digest));
  return buf;
}

}  // namespace corral::storage
