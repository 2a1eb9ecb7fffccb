#include "ensemble/storage/snapshot_walk.h"

#include "ensemble/storage/snapshot_codec.h"
#include "wire/path.h"

namespace corral::storage {

void SnapshotWalk::restart() { stack_.assign(1, Visit{"/", false, false, {}}); }

size_t SnapshotWalk::next(const tree::DataTree& tree, size_t max_nodes,
                          std::vector<SnapshotRow>& rows) {
  size_t added = 0;
  while (!stack_.empty() && added < max_nodes) {
    Visit& v = stack_.back();
    const tree::Node* n = tree.find(v.path);
    if (!n) {  // deleted since we got here: so is its subtree
      stack_.pop_back();
      continue;
    }
    if (!v.written) {
      rows.push_back({v.path, encode_node(*n)});
      v.written = true;
      ++added;
    }
    auto it = v.started_children ? n->children.upper_bound(v.last_child) : n->children.begin();
    if (it == n->children.end()) {
      stack_.pop_back();
      continue;
    }
    v.started_children = true;
    v.last_child = *it;
    std::string child = wire::child_path(v.path, *it);
    stack_.push_back(Visit{std::move(child), false, false, {}});
  }
  return added;
}

}  // namespace corral::storage
