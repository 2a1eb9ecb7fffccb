#include "client/cli/tree.h"

#include <algorithm>

#include "wire/path.h"

namespace corral::cli {
namespace {

using client::ErrorCode;

// Appends the descendants of `path` to `walk` in zkCli's order; false on an error.
bool list_below(client::BlockingClient& client, const std::string& path, TreeWalk& walk) {
  auto r = client.children(path);
  if (r.error() == ErrorCode::kNoNode) return true;  // deleted since its parent was listed
  if (!r) {
    walk.err = r.error();
    walk.failed_path = path;
    return false;
  }
  std::vector<std::string> children = r->children;
  std::sort(children.begin(), children.end());
  for (const std::string& child : children) walk.paths.push_back(wire::child_path(path, child));
  for (const std::string& child : children) {
    if (!list_below(client, wire::child_path(path, child), walk)) return false;
  }
  return true;
}

}  // namespace

TreeWalk list_subtree(client::BlockingClient& client, const std::string& root) {
  TreeWalk walk;
  auto exists = client.exists(root);
  if (!exists) {
    walk.err = exists.error();
    walk.failed_path = root;
    return walk;
  }
  walk.paths.push_back(root);
  list_below(client, root, walk);
  return walk;
}

TreeWalk delete_subtree(client::BlockingClient& client, const std::string& root) {
  TreeWalk listed = list_subtree(client, root);
  TreeWalk walk;
  if (listed.err != ErrorCode::kOk) {
    walk.err = listed.err;
    walk.failed_path = listed.failed_path;
    return walk;
  }
  // Every parent comes before its children in the listing, so deleting it backwards
  // deletes children first.
  for (auto it = listed.paths.rbegin(); it != listed.paths.rend(); ++it) {
    auto r = client.remove(*it);
    if (r.error() == ErrorCode::kNoNode) continue;
    if (!r) {
      walk.err = r.error();
      walk.failed_path = *it;
      return walk;
    }
    walk.paths.push_back(*it);
  }
  return walk;
}

}  // namespace corral::cli
