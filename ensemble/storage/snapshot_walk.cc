#include "ensemble/storage/snapshot_walk.h"

#include <algorithm>

#include "ensemble/storage/snapshot_chunk.h"
#include "ensemble/storage/snapshot_codec.h"

namespace corral::storage {

void SnapshotWalk::restart() {
  stack_.clear();
  stack_.emplace_back().path = "/";
  last_path_.clear();
}

void SnapshotWalk::seek_after(std::string_view path) {
  // Each ancestor has been written and its children walked up to the next name on the way.
  stack_.clear();
  size_t end = 0;
  while (true) {
    Visit& v = stack_.emplace_back();
    v.path = end == 0 ? std::string("/") : std::string(path.substr(0, end));
    v.written = true;
    if (end == path.size() || path == "/") break;
    const size_t name_start = end + 1;
    end = std::min(path.find('/', name_start), path.size());
    v.started_children = true;
    v.last_child = std::string(path.substr(name_start, end - name_start));
  }
  last_path_ = path;
}

size_t SnapshotWalk::next(
    const tree::DataTree& tree, size_t max_nodes,
    const std::function<bool(std::string_view path, const tree::Node& node)>& visit) {
  // The nodes on the stack are found again at each call (the tree may have changed since the
  // last), then a child is reached through its parent's entry for it: no hash lookup a node,
  // which cost a member ~1 µs of cache misses each while it snapshotted 300,000 znodes. Nor a
  // copy of its path or name: the tree's own are viewed until the call ends.
  for (Visit& v : stack_) v.node = nullptr;
  // Even when `visit` throws: a visit left without its path would lose its subtree.
  struct KeepPositions {
    SnapshotWalk& walk;
    ~KeepPositions() { walk.keep_positions(); }
  } keep{*this};
  size_t visited = 0;
  bool go_on = true;
  // A view of the tree's own path while the call lasts; a path kept in a Visit (which may be
  // popped) is copied at once.
  std::string_view last;
  while (!stack_.empty() && visited < max_nodes && go_on) {
    Visit& v = stack_.back();
    if (!v.node) {
      v.node = tree.find(v.path);
      if (!v.node) {  // deleted since we got here: so is its subtree
        stack_.pop_back();
        continue;
      }
      v.next_child = v.started_children ? v.node->children.upper_bound(v.last_child)
                                        : v.node->children.begin();
    }
    if (!v.written) {
      go_on = visit(v.key.empty() ? std::string_view(v.path) : v.key, *v.node);
      v.written = true;
      ++visited;
      if (v.key.empty()) {
        last_path_ = v.path;
        last = last_path_;
      } else {
        last = v.key;
      }
      // The call ends standing at this node, before its first child is taken: the next call
      // starts its children at the first there is then. Taken now, a child created meanwhile
      // with a smaller name would be missed (its creation is replayed from the log, but the
      // next snapshot may reuse this one's run that lacks it: IncrementalSnapshot).
      if (!go_on || visited >= max_nodes) break;
    }
    if (v.next_child == v.node->children.end()) {
      stack_.pop_back();
      continue;
    }
    const tree::ChildNames::Entry& child = v.next_child.entry();
    ++v.next_child;
    v.started_children = true;
    v.last_visited = &child;
    Visit& next = stack_.emplace_back();  // `v` may dangle from here
    next.key = child.path();
    next.node = &child.node();
    next.next_child = child.node().children.begin();
  }
  if (!last.empty() && last.data() != last_path_.data()) last_path_.assign(last);
  return visited;
}

void SnapshotWalk::keep_positions() {
  for (Visit& v : stack_) {
    if (!v.key.empty()) v.path = v.key;
    if (v.last_visited) v.last_child = tree::ChildNames::name_of(*v.last_visited);
    v.key = {};
    v.last_visited = nullptr;
  }
}

size_t SnapshotWalk::next(const tree::DataTree& tree, size_t max_nodes,
                          std::vector<SnapshotRow>& rows) {
  return next(tree, max_nodes, [&](std::string_view path, const tree::Node& node) {
    rows.push_back({std::string(path), encode_node(node)});
    return true;
  });
}

size_t SnapshotWalk::next_run(const tree::DataTree& tree, SnapshotChunks& chunks) {
  return next(tree, SIZE_MAX, [&](std::string_view path, const tree::Node& node) {
    chunks.add(path, node);
    return !chunks.run_complete();
  });
}

}  // namespace corral::storage
