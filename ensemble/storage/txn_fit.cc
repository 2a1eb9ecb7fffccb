#include "ensemble/storage/txn_fit.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "wire/path.h"

namespace corral::storage {
namespace {

using wire::OpCode;

/// The tree as the txn's earlier ops left it: which paths exist, owned by whom, with
/// how many children. Only what the ops touched is held; the rest is the tree's.
class Overlay {
 public:
  explicit Overlay(const tree::DataTree& tree) : tree_(tree) {}

  bool exists(const std::string& path) const {
    auto it = owner_.find(path);
    return it != owner_.end() ? it->second.has_value() : tree_.find(path) != nullptr;
  }
  int64_t owner(const std::string& path) const {
    auto it = owner_.find(path);
    if (it != owner_.end()) return it->second.value_or(0);
    const tree::Node* n = tree_.find(path);
    return n ? n->ephemeral_owner : 0;
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
  std::map<std::string, std::optional<int64_t>> owner_;
  std::map<std::string, int64_t> delta_;
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

std::string op_misfit(Overlay& t, const tree::TxnOp& op) {
  const std::string& p = op.path;
  if (names_a_node(op.type))
    if (std::string why = path_problem(p); !why.empty()) return why;
  if (wire::is_create(op.type)) {
    if (p == "/" || t.exists(p)) return "create of existing node " + p;
    std::string parent(wire::parent_path(p));
    if (!t.exists(parent)) return "create of " + p + " under a missing parent";
    if (tree::node_kind(t.owner(parent)) == tree::NodeKind::kEphemeral)
      return "create of " + p + " under an ephemeral node";
    t.create(p, op.ephemeral_owner);
    return {};
  }
  switch (op.type) {
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      if (p == "/") return "delete of /";
      if (!t.exists(p)) return "delete of missing node " + p;
      if (t.children(p) != 0) return "delete of " + p + ", which has children";
      t.remove(p);
      return {};
    case OpCode::kSetData:
    case OpCode::kSetAcl:
      return t.exists(p) ? std::string() : "change of missing node " + p;
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
  for (const auto& op : txn.ops)
    if (std::string why = op_misfit(overlay, op); !why.empty()) return why;
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
