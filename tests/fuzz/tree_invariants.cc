#include "tests/fuzz/tree_invariants.h"

#include <cstdint>
#include <map>
#include <vector>

#include "wire/path.h"

namespace corral::fuzz {

std::string tree_problem(const tree::DataTree& t) {
  size_t reached = 0, containers = 0, ttls = 0;
  int64_t bytes = 0;
  std::map<int64_t, size_t> ephemerals;
  std::vector<std::string> stack{"/"};
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    const tree::Node* n = t.find(path);
    if (!n) return "a node lists a child that does not exist: " + path;
    if (path != "/" && !wire::validate_path(path).empty()) return "an invalid path: " + path;
    if (!n->acl) return "a node has no ACL: " + path;
    // A path reached twice means a cycle or a repeated child: the count check below
    // would miss it if another node were unreachable.
    if (++reached > t.node_count()) return "more nodes reachable than exist";
    bytes += static_cast<int64_t>(n->data.size());
    switch (tree::node_kind(n->ephemeral_owner)) {
      case tree::NodeKind::kEphemeral:
        ++ephemerals[n->ephemeral_owner];
        if (!n->children.empty()) return "an ephemeral node has children: " + path;
        break;
      case tree::NodeKind::kContainer:
        ++containers;
        if (!t.containers().count(path)) return "a container is not indexed: " + path;
        break;
      case tree::NodeKind::kTtl:
        ++ttls;
        if (!t.ttl_nodes().count(path)) return "a TTL node is not indexed: " + path;
        break;
      case tree::NodeKind::kPersistent:
        break;
    }
    for (const auto& name : n->children) stack.push_back(wire::child_path(path, name));
  }
  if (reached != t.node_count()) return "a node is not reachable from /";
  if (bytes != t.data_bytes()) return "data_bytes() disagrees with the nodes' data";
  if (containers != t.containers().size()) return "the container index lists a missing node";
  if (ttls != t.ttl_nodes().size()) return "the TTL index lists a missing node";
  if (ephemerals != t.ephemeral_counts()) return "the ephemeral index disagrees with the nodes";
  return {};
}

}  // namespace corral::fuzz
