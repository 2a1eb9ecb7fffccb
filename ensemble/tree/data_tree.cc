#include "ensemble/tree/data_tree.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "wire/path.h"

namespace corral::tree {

using wire::ErrorCode;
using wire::EventType;
using wire::OpCode;

namespace {

[[noreturn]] void invariant_broken(const char* what, std::string_view path) {
  std::fprintf(stderr, "corral: broken tree invariant: %s (%.*s)\n", what,
               static_cast<int>(path.size()), path.data());
  std::abort();
}

}  // namespace

DataTree::DataTree() {
  wire::AclList open_acl{{wire::perms::kAll, {"world", "anyone"}}};
  nodes_.try_emplace("/").first->node().acl = intern(open_acl);
  add_system_node("/zookeeper", open_acl);
  add_system_node("/zookeeper/quota", open_acl);
  add_system_node("/zookeeper/config", {{wire::perms::kRead, {"world", "anyone"}}});
  // ZooKeeper's addConfigNode sets this ACL with setACL(..., version -1), which
  // stores -1 as the node's aversion.
  must_find("/zookeeper/config").aversion = -1;
}

void DataTree::set_config_node(const std::string& text, int64_t version, int64_t mtime_ms) {
  Node& n = must_find("/zookeeper/config");
  data_bytes_ += static_cast<int64_t>(text.size()) - static_cast<int64_t>(n.data.size());
  n.data = text;
  n.data_null = false;
  n.version = -1;
  n.mzxid = version;
  n.mtime = mtime_ms;
  changed("/zookeeper/config");
}

void DataTree::add_system_node(const std::string& path, wire::AclList acl) {
  NodeEntry* entry = nodes_.try_emplace(path).first;
  entry->node().acl = intern(acl);
  must_find(wire::parent_path(path)).children.insert(*entry);
}

SharedAcl DataTree::intern(const wire::AclList& acl) {
  if (auto it = acl_cache_.find(acl); it != acl_cache_.end()) return it->second;
  // Swept before the new list goes in, which only acl_cache_ holds until it is returned.
  if (acl_cache_.size() >= acl_sweep_at_) sweep_unused_acls();
  return acl_cache_.emplace(acl, SharedAcl(acl)).first->second;
}

void DataTree::sweep_unused_acls() {
  // A count of 1 is acl_cache_'s own handle: only this thread makes new handles from it or
  // from the nodes (other threads only drop handles they were given, such as a snapshot job's).
  std::erase_if(acl_cache_, [](const auto& entry) { return entry.second.use_count() == 1; });
  acl_sweep_at_ = std::max(kFirstAclSweep, 2 * acl_cache_.size());
}

const Node* DataTree::find(std::string_view path) const {
  const NodeEntry* entry = nodes_.find(path);
  return entry ? &entry->node() : nullptr;
}

Node& DataTree::must_find(std::string_view path) {
  NodeEntry* entry = nodes_.find(path);
  if (!entry) invariant_broken("txn names a missing node", path);
  return entry->node();
}

ApplyResult DataTree::apply(const Txn& txn) {
  ApplyResult result;
  if (txn.zxid > last_zxid_) last_zxid_ = txn.zxid;
  switch (txn.type) {
    case OpCode::kCreateSession:
      return result;
    case OpCode::kCloseSession:
      close_session(txn, result.triggers);
      return result;
    case OpCode::kError:
      result.err = txn.err;
      return result;
    default:
      break;
  }
  result.ops.reserve(txn.ops.size());
  // A create or a delete fires two (the node's and its parent's), a set one.
  result.triggers.reserve(2 * txn.ops.size());
  for (const TxnOp& op : txn.ops) {
    OpResult r = apply_op(txn, op, result.triggers);
    if (r.err != ErrorCode::kOk && result.err == ErrorCode::kOk &&
        r.err != ErrorCode::kRuntimeInconsistency)
      result.err = r.err;
    result.ops.push_back(std::move(r));
  }
  return result;
}

OpResult DataTree::apply_op(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers) {
  if (wire::is_create(op.type)) return create(txn, op, triggers);
  switch (op.type) {
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      return remove(txn, op, triggers);
    case OpCode::kSetData:
      return set_data(txn, op, triggers);
    case OpCode::kSetAcl:
      return set_acl(op);
    case OpCode::kCheck:
      return OpResult{OpCode::kCheck, ErrorCode::kOk, {}, {}};
    case OpCode::kError:
      return OpResult{OpCode::kError, op.err, {}, {}};
    default:
      invariant_broken("unknown txn op", op.path);
  }
}

OpResult DataTree::create(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers) {
  std::string_view parent_path = wire::parent_path(op.path);
  Node& parent = must_find(parent_path);
  auto [entry, inserted] = nodes_.try_emplace(op.path);
  if (!inserted) invariant_broken("create of an existing node", op.path);
  Node& n = entry->node();
  n.data = op.data;
  n.data_null = op.data_null;
  n.acl = intern(op.acl);
  n.czxid = n.mzxid = n.pzxid = txn.zxid;
  n.ctime = n.mtime = txn.time_ms;
  n.ephemeral_owner = op.ephemeral_owner;
  parent.children.insert(*entry);
  if (op.parent_cversion > parent.cversion) parent.cversion = op.parent_cversion;
  parent.pzxid = txn.zxid;
  data_bytes_ += static_cast<int64_t>(op.data.size());
  index(op.path, op.ephemeral_owner);
  changed(op.path);
  changed(parent_path);
  triggers.push_back({op.path, EventType::kNodeCreated, n.acl});
  triggers.push_back({std::string(parent_path), EventType::kNodeChildrenChanged, parent.acl});
  return OpResult{op.type, ErrorCode::kOk, op.path, n.stat()};
}

OpResult DataTree::remove(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers) {
  NodeEntry* entry = nodes_.find(op.path);
  if (!entry) invariant_broken("delete of a missing node", op.path);
  Node& n = entry->node();
  if (!n.children.empty()) invariant_broken("delete of a node with children", op.path);
  int64_t owner = n.ephemeral_owner;
  SharedAcl acl = std::move(n.acl);
  data_bytes_ -= static_cast<int64_t>(n.data.size());
  std::string_view parent_path = wire::parent_path(op.path);
  Node& parent = must_find(parent_path);
  // The parent points at the node's entry, so it lets go first.
  parent.children.erase(wire::base_name(op.path));
  nodes_.erase(entry);
  if (txn.zxid > parent.pzxid) parent.pzxid = txn.zxid;
  unindex(op.path, owner);
  changed(op.path);
  changed(parent_path);
  triggers.push_back({op.path, EventType::kNodeDeleted, std::move(acl)});
  triggers.push_back({std::string(parent_path), EventType::kNodeChildrenChanged, parent.acl});
  return OpResult{op.type, ErrorCode::kOk, {}, {}};
}

OpResult DataTree::set_data(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers) {
  Node& n = must_find(op.path);
  data_bytes_ += static_cast<int64_t>(op.data.size()) - static_cast<int64_t>(n.data.size());
  n.data = op.data;
  n.data_null = op.data_null;
  n.version = op.version;
  n.mzxid = txn.zxid;
  n.mtime = txn.time_ms;
  changed(op.path);
  triggers.push_back({op.path, EventType::kNodeDataChanged, n.acl});
  return OpResult{op.type, ErrorCode::kOk, {}, n.stat()};
}

OpResult DataTree::set_acl(const TxnOp& op) {
  Node& n = must_find(op.path);
  n.acl = intern(op.acl);
  n.aversion = op.version;
  changed(op.path);
  return OpResult{op.type, ErrorCode::kOk, {}, n.stat()};
}

void DataTree::close_session(const Txn& txn, std::vector<WatchTrigger>& triggers) {
  auto it = ephemerals_.find(txn.session_id);
  if (it == ephemerals_.end()) return;
  // Deepest first is not needed (ephemerals have no children), but a copy is:
  // remove() edits the set we would be iterating.
  std::vector<std::string> paths(it->second.begin(), it->second.end());
  for (const auto& p : paths) {
    TxnOp op;
    op.type = OpCode::kDelete;
    op.path = p;
    remove(txn, op, triggers);
  }
}

void DataTree::index(std::string_view path, int64_t owner) {
  // A string is made only for the nodes indexed: most are persistent.
  switch (node_kind(owner)) {
    case NodeKind::kEphemeral:
      ephemerals_[owner].emplace(path);
      break;
    case NodeKind::kContainer:
      containers_.emplace(path);
      break;
    case NodeKind::kTtl:
      ttls_.emplace(path);
      break;
    case NodeKind::kPersistent:
      break;
  }
}

void DataTree::unindex(const std::string& path, int64_t owner) {
  switch (node_kind(owner)) {
    case NodeKind::kEphemeral: {
      auto e = ephemerals_.find(owner);
      if (e != ephemerals_.end()) {
        e->second.erase(path);
        if (e->second.empty()) ephemerals_.erase(e);
      }
      break;
    }
    case NodeKind::kContainer:
      containers_.erase(path);
      break;
    case NodeKind::kTtl:
      ttls_.erase(path);
      break;
    case NodeKind::kPersistent:
      break;
  }
}

void DataTree::replay(const Txn& txn) {
  if (txn.zxid > last_zxid_) last_zxid_ = txn.zxid;
  if (txn.type == OpCode::kCloseSession) {
    // Its ops name the ephemerals it removed, including those the snapshot missed.
    for (const TxnOp& op : txn.ops) replay_op(txn, op);
    for (const auto& path : ephemerals(txn.session_id)) remove_subtree(txn, path);
    return;
  }
  for (const TxnOp& op : txn.ops) replay_op(txn, op);
}

void DataTree::replay_op(const Txn& txn, const TxnOp& op) {
  std::vector<WatchTrigger> ignored;
  bool exists = nodes_.find(op.path) != nullptr;
  if (wire::is_create(op.type)) {
    if (!exists && nodes_.find(wire::parent_path(op.path))) {
      create(txn, op, ignored);
    } else if (exists) {
      // The snapshot already has the node: only the parent's counters may lag.
      Node& parent = must_find(wire::parent_path(op.path));
      if (op.parent_cversion > parent.cversion) parent.cversion = op.parent_cversion;
      if (txn.zxid > parent.pzxid) parent.pzxid = txn.zxid;
      changed(wire::parent_path(op.path));
    }
    return;
  }
  if (!exists) {
    // Deleted before the snapshot reached it: the parent's pzxid may still lag
    // (ZooKeeper's deleteNode updates it before looking for the child).
    if (op.type == OpCode::kDelete || op.type == OpCode::kDeleteContainer) {
      NodeEntry* parent = nodes_.find(wire::parent_path(op.path));
      if (parent && txn.zxid > parent->node().pzxid) {
        parent->node().pzxid = txn.zxid;
        changed(wire::parent_path(op.path));
      }
    }
    return;
  }
  switch (op.type) {
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      remove_subtree(txn, op.path);
      return;
    case OpCode::kSetData:
      set_data(txn, op, ignored);
      return;
    case OpCode::kSetAcl:
      set_acl(op);
      return;
    default:
      return;
  }
}

void DataTree::remove_subtree(const Txn& txn, const std::string& path) {
  const Node* n = find(path);
  if (!n) return;
  std::vector<std::string> children(n->children.begin(), n->children.end());
  for (const auto& c : children) remove_subtree(txn, wire::child_path(path, c));
  TxnOp op;
  op.type = OpCode::kDelete;
  op.path = path;
  std::vector<WatchTrigger> ignored;
  remove(txn, op, ignored);
}

DataTree::Loaded DataTree::load_node(std::string_view path, Node node, bool may_replace) {
  Node* parent = nullptr;
  if (path != "/") {
    NodeEntry* parent_entry = nodes_.find(wire::parent_path(path));
    if (!parent_entry) return Loaded::kNoParent;
    parent = &parent_entry->node();
  }
  // One lookup for both cases: a million of them load a large snapshot.
  auto [entry, added] = nodes_.try_emplace(path);
  Node& slot = entry->node();
  if (!added) {
    if (!may_replace) return Loaded::kAlreadyThere;
    node.children = std::move(slot.children);
    data_bytes_ += static_cast<int64_t>(node.data.size()) - static_cast<int64_t>(slot.data.size());
    slot = std::move(node);
    changed(path);
    return Loaded::kReplaced;
  }
  data_bytes_ += static_cast<int64_t>(node.data.size());
  index(path, node.ephemeral_owner);
  slot = std::move(node);
  parent->children.insert(*entry);
  changed(path);
  return Loaded::kAdded;
}

SharedAcl DataTree::shared_acl(const wire::AclList& acl) { return intern(acl); }

std::vector<std::string> DataTree::ephemerals(int64_t session_id) const {
  auto it = ephemerals_.find(session_id);
  if (it == ephemerals_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::map<int64_t, size_t> DataTree::ephemeral_counts() const {
  std::map<int64_t, size_t> out;
  for (const auto& [session, paths] : ephemerals_) out[session] = paths.size();
  return out;
}

int32_t DataTree::descendant_count(std::string_view path) const {
  const Node* n = find(path);
  if (!n) return 0;
  int32_t count = 0;
  for (const auto& name : n->children) {
    ++count;
    count += descendant_count(wire::child_path(path, name));
  }
  return count;
}

std::vector<std::string> DataTree::paths() const {
  std::vector<std::string> out;
  std::vector<std::string> stack{"/"};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const Node* n = find(p);
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it)
      stack.push_back(wire::child_path(p, *it));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace corral::tree
