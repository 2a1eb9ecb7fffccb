// The in-memory znode tree. Pure: no sockets, sessions' connections, clocks or
// storage. Changes only through apply(Txn), so every server that applies the
// same Txns in zxid order holds the same tree.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ensemble/tree/node.h"
#include "ensemble/tree/node_table.h"
#include "ensemble/tree/shared_acl.h"
#include "ensemble/tree/txn.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::tree {

/// A change the tree made that watches may care about.
struct WatchTrigger {
  std::string path;
  wire::EventType type;
  /// The ACL a watcher needs READ in to be told (CVE-2024-23944), as it was when the change
  /// happened: the node's own for created, changed and deleted, the parent's for children
  /// changed. Kept here because a deleted node's ACL is gone once apply() returns.
  SharedAcl acl;
};

/// The outcome of one TxnOp.
struct OpResult {
  wire::OpCode type = wire::OpCode::kError;
  wire::ErrorCode err = wire::ErrorCode::kOk;
  /// A create's path (a sequential node's with its counter), which its reply names; empty for
  /// every other op, whose reply does not (a copy per op of every multi on every member).
  std::string path;
  wire::Stat stat;
};

/// The outcome of applying a Txn.
struct ApplyResult {
  /// For a single op or the first failing op of a multi.
  wire::ErrorCode err = wire::ErrorCode::kOk;
  std::vector<OpResult> ops;
  std::vector<WatchTrigger> triggers;
};

/// The znode tree with its indexes of ephemerals, containers and TTL nodes.
class DataTree {
 public:
  /// A tree holding "/", "/zookeeper", "/zookeeper/quota" and "/zookeeper/config".
  DataTree();
  /// Not copyable: a node's children point at the entries of this tree's own table.
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;
  DataTree(DataTree&&) = default;
  DataTree& operator=(DataTree&&) = default;

  /// The node at `path`, or nullptr.
  const Node* find(std::string_view path) const;

  /// Applies a committed Txn. Txns must be well-formed (prepared against this
  /// tree's state); a Txn that does not fit the tree is a broken invariant.
  ApplyResult apply(const Txn& txn);

  /// Applies a logged Txn while recovering over a fuzzy snapshot, which may
  /// already hold some of its effects: creates of existing nodes, and changes
  /// to missing nodes, are skipped; a delete takes the node's subtree with it.
  /// Replaying every Txn from the snapshot's start converges to the true tree.
  void replay(const Txn& txn);

  /// Makes room for `nodes` nodes in all, so loading them rehashes nothing (no hash is stored
  /// per node: a rehash would hash every path again).
  void reserve(size_t nodes) { nodes_.reserve(nodes); }

  /// What load_node did.
  enum class Loaded { kAdded, kReplaced, kNoParent, kAlreadyThere };
  /// Adds a node read from a snapshot (parents come first). A node already at `path` (the
  /// root and the system nodes a new tree starts with) is replaced in place, keeping its
  /// children, when `may_replace`; otherwise it stays and the answer is kAlreadyThere. A
  /// missing parent (kNoParent) or a node already there means a broken snapshot.
  Loaded load_node(std::string_view path, Node node, bool may_replace);

  /// Paths of ephemeral nodes owned by `session_id`, sorted.
  std::vector<std::string> ephemerals(int64_t session_id) const;

  /// Container nodes and TTL nodes, for the container manager.
  const std::set<std::string>& containers() const { return containers_; }
  const std::set<std::string>& ttl_nodes() const { return ttls_; }

  /// Number of nodes, including the root and /zookeeper nodes.
  size_t node_count() const { return nodes_.size(); }
  /// Number of descendants of `path` (getAllChildrenNumber).
  int32_t descendant_count(std::string_view path) const;
  /// Total bytes of data held in nodes (for mntr's zk_approximate_data_size).
  int64_t data_bytes() const { return data_bytes_; }
  /// Sessions that own ephemerals, with their counts (for 4lw).
  std::map<int64_t, size_t> ephemeral_counts() const;
  /// The zxid of the last Txn applied.
  int64_t last_zxid() const { return last_zxid_; }
  /// Sets it for a tree loaded from a snapshot (every Txn up to `zxid` is in it).
  void set_last_zxid(int64_t zxid) { last_zxid_ = zxid; }

  /// The tree's shared copy of an ACL list (nodes with equal ACLs share one).
  SharedAcl shared_acl(const wire::AclList& acl);
  /// How many ACL lists the tree keeps for sharing: those of its nodes, and any that no node
  /// has had since the last sweep (made when the count doubles: deleted nodes' lists go).
  size_t shared_acl_count() const { return acl_cache_.size(); }

  /// Sets /zookeeper/config to the ensemble's membership `text`, outside the txn log, as
  /// ZooKeeper's initConfigInZKDatabase does: the stored version becomes -1 (setData with -1),
  /// mzxid the config's `version` and mtime the local clock. Called only while no client is
  /// connected (start-up, a replaced state), so no watch fires.
  void set_config_node(const std::string& text, int64_t version, int64_t mtime_ms);

  /// Paths in depth-first preorder (for dumps and digests).
  std::vector<std::string> paths() const;

  /// Told the path of every node whose stored form changes: created, deleted, its data, ACL or
  /// counters set, and the parent of a node created or deleted.
  using ChangeListener = std::function<void(std::string_view path)>;
  /// Installs `listener` (replacing any): the snapshotter learns which runs of its last
  /// snapshot still hold (incremental_snapshot.h).
  void set_change_listener(ChangeListener listener) { listener_ = std::move(listener); }

 private:
  void changed(std::string_view path) {
    if (listener_) listener_(path);
  }
  OpResult apply_op(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers);
  OpResult create(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers);
  OpResult remove(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers);
  OpResult set_data(const Txn& txn, const TxnOp& op, std::vector<WatchTrigger>& triggers);
  OpResult set_acl(const TxnOp& op);
  void close_session(const Txn& txn, std::vector<WatchTrigger>& triggers);
  void replay_op(const Txn& txn, const TxnOp& op);
  void remove_subtree(const Txn& txn, const std::string& path);
  void index(std::string_view path, int64_t owner);
  void unindex(const std::string& path, int64_t owner);
  void add_system_node(const std::string& path, wire::AclList acl);
  Node& must_find(std::string_view path);
  SharedAcl intern(const wire::AclList& acl);
  /// Drops the lists nothing but acl_cache_ holds.
  void sweep_unused_acls();

  NodeTable nodes_;
  std::unordered_map<int64_t, std::set<std::string>> ephemerals_;
  std::set<std::string> containers_;
  std::set<std::string> ttls_;
  std::map<wire::AclList, SharedAcl> acl_cache_;
  /// acl_cache_'s size at which the next new list sweeps it first.
  size_t acl_sweep_at_ = kFirstAclSweep;
  static constexpr size_t kFirstAclSweep = 64;
  int64_t data_bytes_ = 0;
  int64_t last_zxid_ = 0;
  ChangeListener listener_;
};

}  // namespace corral::tree
