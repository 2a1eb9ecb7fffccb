#include "ensemble/storage/txn_fit.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "wire/path.h"

namespace corral::storage {
namespace {

using wire::OpCode;

/// The tree as the txn's earlier ops left it: which paths exist, owned by whom, with
/// how many children. Only what the ops touched is held; the rest is the tree's.
class Overlay {
 public:
  explicit Overlay(const tree::DataTree& tree) : tree_(tree) {}

  bool exists(std::string_view path) const {
    auto it = owner_.find(path);
    return it != owner_.end() ? it->second.has_value() : tree_.find(path) != nullptr;
  }
  /// The node's ephemeral owner, or nullopt when it does not exist (one lookup).
  std::optional<int64_t> owner(std::string_view path) const {
    auto it = owner_.find(path);
    if (it != owner_.end()) return it->second;
    const tree::Node* n = tree_.find(path);
    return n ? std::optional<int64_t>(n->ephemeral_owner) : std::nullopt;
  }
  int64_t children(const std::string& path) const {
    const tree::Node* n = tree_.find(path);
    auto it = owner_.find(path);
    // A node deleted and created again by this txn starts with no children of the tree's.
    bool recreated = it != owner_.end();
    int64_t base = n && !recreated ? static_cast<int64_t>(n->children.size()) : 0;
    auto d = delta_.find(path);
    return base + (d == delta_.end() ? 0 : d->second);
  }
  void create(const std::string& path, int64_t owner) {
    owner_[path] = owner;
    ++delta_[std::string(wire::parent_path(path))];
  }
  void remove(const std::string& path) {
    owner_[path] = std::nullopt;
    delta_.erase(path);
    --delta_[std::string(wire::parent_path(path))];
  }

 private:
  const tree::DataTree& tree_;
  // Transparent: looked up by the string_views of paths without copying them.
  std::map<std::string, std::optional<int64_t>, std::less<>> owner_;
  std::map<std::string, int64_t, std::less<>> delta_;
};

/// True for the ops that name a node of the tree (a failed op of a multi names none).
bool names_a_node(OpCode type) {
  return wire::is_create(type) || type == OpCode::kDelete || type == OpCode::kDeleteContainer ||
         type == OpCode::kSetData || type == OpCode::kSetAcl;
}

/// Why `path` is not a node's path; empty when it is one. The path itself is not quoted:
/// it may hold a NUL, which would cut the message short.
std::string path_problem(const std::string& path) {
  if (path == "/") return {};
  std::string why = wire::validate_path(path);
  return why.empty() ? why : "invalid path (" + why + ")";
}

/// Why `op` does not fit; empty when it does. With `more`, later ops of the txn follow and
/// see its effect in the overlay (not recorded for the last op: followers check every
/// committed txn, and most have one op).
std::string op_misfit(Overlay& t, const tree::TxnOp& op, bool more) {
  const std::string& p = op.path;
  // A node the tree (or an earlier op) holds has a valid path: creates and snapshot loads
  // check it. So a path is checked at a create, or where the node it names is missing, which
  // is where the answer names it; not at every set and delete of every member (validate_path
  // was 1.9% of a member's time under multi).
  auto missing = [&](const char* what) {
    std::string why = path_problem(p);
    return why.empty() ? what + p : why;
  };
  if (wire::is_create(op.type)) {
    if (std::string why = path_problem(p); !why.empty()) return why;
    if (p == "/" || t.exists(p)) return "create of existing node " + p;
    std::optional<int64_t> parent = t.owner(wire::parent_path(p));
    if (!parent) return "create of " + p + " under a missing parent";
    if (tree::node_kind(*parent) == tree::NodeKind::kEphemeral)
      return "create of " + p + " under an ephemeral node";
    if (more) t.create(p, op.ephemeral_owner);
    return {};
  }
  switch (op.type) {
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      if (p == "/") return "delete of /";
      if (!t.exists(p)) return missing("delete of missing node ");
      if (t.children(p) != 0) return "delete of " + p + ", which has children";
      if (more) t.remove(p);
      return {};
    case OpCode::kSetData:
    case OpCode::kSetAcl:
      return t.exists(p) ? std::string() : missing("change of missing node ");
    case OpCode::kCheck:
    case OpCode::kError:
      return {};
    default:
      return "unknown op " + std::to_string(static_cast<int32_t>(op.type));
  }
}

}  // namespace

std::string apply_misfit(const tree::DataTree& tree, const tree::Txn& txn) {
  // DataTree::apply looks at no op of these (closeSession removes the session's
  // ephemerals as its index lists them).
  if (txn.type == OpCode::kCreateSession || txn.type == OpCode::kCloseSession ||
      txn.type == OpCode::kError)
    return {};
  Overlay overlay(tree);
  for (size_t i = 0; i < txn.ops.size(); ++i)
    if (std::string why = op_misfit(overlay, txn.ops[i], i + 1 < txn.ops.size()); !why.empty())
      return why;
  return {};
}

std::string replay_misfit(const tree::Txn& txn) {
  for (const auto& op : txn.ops) {
    if (!names_a_node(op.type)) continue;
    if (std::string why = path_problem(op.path); !why.empty()) return why;
    // Replay takes a delete with the node's subtree: of "/", that is the tree itself.
    if (op.path == "/" && (wire::is_create(op.type) || op.type == OpCode::kDelete ||
                           op.type == OpCode::kDeleteContainer))
      return "create or delete of /";
  }
  return {};
}

}  // namespace corral::storage
