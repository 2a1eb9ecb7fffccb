#include "ensemble/storage/snapshot_load.h"

#include "ensemble/storage/snapshot_codec.h"
#include "wire/path.h"

namespace corral::storage {

SnapshotLoader::SnapshotLoader(tree::DataTree& tree, size_t expected_nodes)
    : tree_(tree), decoder_(tree) {
  for (auto& path : tree.paths()) replaceable_.insert(std::move(path));
  tree.reserve(expected_nodes);
}

std::string SnapshotLoader::add(std::string_view path, std::string_view record) {
  // The path stays a view: a string made here cost an allocation a node over 15 characters.
  auto refused = [&](const char* why) { return "snapshot node " + std::string(path) + why; };
  tree::Node node;
  if (!decoder_.decode(record, node)) return refused(" does not decode");
  if (path != "/") {
    // Not quoted: the path may hold a NUL, which would cut the message short.
    if (std::string why = wire::validate_path(path); !why.empty())
      return "a snapshot node's path is invalid (" + why + ")";
  }
  auto replaceable = replaceable_.find(path);
  const bool may_replace = replaceable != replaceable_.end();
  if (may_replace && node.ephemeral_owner != 0) return refused(" cannot have an owner");
  switch (tree_.load_node(path, std::move(node), may_replace)) {
    case tree::DataTree::Loaded::kNoParent:
      return refused(" has no parent");
    case tree::DataTree::Loaded::kAlreadyThere:
      return refused(" appears twice");
    case tree::DataTree::Loaded::kReplaced:
      replaceable_.erase(replaceable);  // once each
      break;
    case tree::DataTree::Loaded::kAdded:
      break;
  }
  ++loaded_;
  return {};
}

std::string ephemeral_problem(const tree::DataTree& tree) {
  for (const auto& [owner, count] : tree.ephemeral_counts())
    for (const auto& path : tree.ephemerals(owner))
      if (!tree.find(path)->children.empty()) return "ephemeral node " + path + " has children";
  return {};
}

}  // namespace corral::storage
