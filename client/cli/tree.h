// Walks over a subtree: ls -R and deleteall.
#pragma once

#include <string>
#include <vector>

#include "corral/client/blocking.h"

namespace corral::cli {

/// What a walk found or did, and where it stopped on an error.
struct TreeWalk {
  client::ErrorCode err = client::ErrorCode::kOk;
  /// The node the error is about.
  std::string failed_path;
  /// ls -R: the paths in zkCli's order; deleteall: the paths deleted.
  std::vector<std::string> paths;
};

/// `root` and its descendants in the order zkCli's ls -R prints them: a node, then its
/// children (sorted), then each child's descendants in turn. Nodes deleted meanwhile are left
/// out; ZNONODE only if `root` does not exist.
TreeWalk list_subtree(client::BlockingClient& client, const std::string& root);

/// Deletes `root` and its descendants, children before parents (like ZKUtil.deleteRecursive:
/// not atomic). Nodes deleted meanwhile by others are skipped.
TreeWalk delete_subtree(client::BlockingClient& client, const std::string& root);

}  // namespace corral::cli
