#include "ensemble/tree/txn_prep.h"

#include <algorithm>
#include <cstdio>

#include "wire/path.h"

namespace corral::tree {

using wire::CreateMode;
using wire::ErrorCode;
using wire::OpCode;

namespace {

/// A request that cannot become a Txn; carries ZooKeeper's error code.
struct PrepError {
  ErrorCode code;
};

[[noreturn]] void fail(ErrorCode code) { throw PrepError{code}; }

bool is_special_path(const std::string& path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" ||
         path == "/zookeeper/config";
}

// ZooKeeper's getParentPathAndValidate / validatePathForCreate: only the
// cheap checks; the full path rules come later where ZooKeeper applies them.
std::string parent_or_fail(const std::string& path) {
  if (path.find('/') == std::string::npos || path.find('\0') != std::string::npos)
    fail(ErrorCode::kBadArguments);
  return std::string(wire::parent_path(path));
}

void validate_or_fail(const std::string& path) {
  if (!wire::validate_path(path).empty()) fail(ErrorCode::kBadArguments);
}

// checkAndIncVersion: -1 matches anything; the next version skips -1.
int32_t next_version(int32_t current, int32_t expected) {
  if (expected != -1 && expected != current) fail(ErrorCode::kBadVersion);
  int32_t next = static_cast<int32_t>(static_cast<uint32_t>(current) + 1);
  return next == -1 ? 0 : next;
}

bool is_sequential(int32_t flags) {
  return flags == int32_t(CreateMode::kPersistentSequential) ||
         flags == int32_t(CreateMode::kEphemeralSequential) ||
         flags == int32_t(CreateMode::kPersistentSequentialWithTtl);
}

bool is_ttl(int32_t flags) {
  return flags == int32_t(CreateMode::kPersistentWithTtl) ||
         flags == int32_t(CreateMode::kPersistentSequentialWithTtl);
}

std::string sequence_suffix(int32_t cversion) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010d", cversion);
  return buf;
}

Txn header(const PrepContext& ctx, OpCode type) {
  Txn txn;
  txn.session_id = ctx.session_id;
  txn.cxid = ctx.cxid;
  txn.zxid = ctx.zxid;
  txn.time_ms = ctx.time_ms;
  txn.type = type;
  return txn;
}

}  // namespace

Txn TxnPrep::prepare(const PrepContext& ctx, const WriteOp& op) {
  Txn txn = header(ctx, op.type);
  // Each prep step records its changes only after every check passed, so a
  // failed single op leaves the outstanding changes untouched.
  try {
    txn.ops.push_back(prep_op(ctx, op));
  } catch (const PrepError& e) {
    txn.type = OpCode::kError;
    txn.err = e.code;
    txn.ops.clear();
  }
  return txn;
}

Txn TxnPrep::prepare_multi(const PrepContext& ctx, const std::vector<WriteOp>& ops) {
  Txn txn = header(ctx, OpCode::kMulti);
  txn.ops.reserve(ops.size());
  std::vector<std::optional<ChangeRecord>> undo_room;
  undo_room.reserve(2 * ops.size());  // a create or delete records two paths
  multi_undo_.emplace(std::move(undo_room));
  // However this call ends, the undo ends with it: later writes, not part of a multi, keep none.
  struct EndUndo {
    decltype(multi_undo_)& undo;
    ~EndUndo() { undo.reset(); }
  } end_undo{multi_undo_};
  const size_t multi_first = by_zxid_.size();
  size_t failed_at = ops.size();
  ErrorCode failed_code = ErrorCode::kOk;
  for (size_t i = 0; i < ops.size() && failed_at == ops.size(); ++i) {
    try {
      txn.ops.push_back(prep_op(ctx, ops[i]));
    } catch (const PrepError& e) {
      failed_at = i;
      failed_code = e.code;
    }
  }
  if (failed_at == ops.size()) return txn;
  auto& undo = *multi_undo_;  // rolling back records nothing: the list stays as it was
  // Newest first: a path the multi changed twice ends with its record from before the first.
  for (size_t k = undo.size(); k-- > 0;) {
    const std::string& path = by_zxid_[multi_first + k].second;
    if (undo[k]) {
      outstanding_[path] = std::move(*undo[k]);
    } else {
      outstanding_.erase(path);
    }
  }
  txn.ops.clear();
  for (size_t i = 0; i < ops.size(); ++i) {
    TxnOp err;
    err.type = OpCode::kError;
    err.err = i < failed_at    ? ErrorCode::kOk
              : i == failed_at ? failed_code
                               : ErrorCode::kRuntimeInconsistency;
    txn.ops.push_back(std::move(err));
  }
  return txn;
}

Txn TxnPrep::prepare_create_session(const PrepContext& ctx, int32_t timeout_ms) {
  Txn txn = header(ctx, OpCode::kCreateSession);
  txn.session_timeout_ms = timeout_ms;
  return txn;
}

Txn TxnPrep::prepare_close_session(const PrepContext& ctx) {
  Txn txn = header(ctx, OpCode::kCloseSession);
  // The tree removes the session's ephemerals when it applies this Txn; prep
  // records their removal so later requests in the pipeline see it.
  std::vector<std::string> doomed = tree_.ephemerals(ctx.session_id);
  for (const auto& [path, rec] : outstanding_)
    if (rec.exists && rec.ephemeral_owner == ctx.session_id) doomed.push_back(path);
  // In path order, whatever order the records are kept in, so the Txn is the same on a rerun.
  std::sort(doomed.begin(), doomed.end());
  doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
  for (const auto& path : doomed) {
    auto rec = lookup(path);
    if (!rec || rec->ephemeral_owner != ctx.session_id) continue;
    std::string parent = std::string(wire::parent_path(path));
    if (auto p = lookup(parent)) {
      p->child_count--;
      p->zxid = ctx.zxid;
      record(parent, *p);
    }
    ChangeRecord gone;
    gone.zxid = ctx.zxid;
    record(path, gone);
    // The Txn names what it removes (ZooKeeper's CloseSessionTxn paths2Delete), so
    // replay over a fuzzy snapshot that missed a node still moves its parent's pzxid.
    TxnOp op;
    op.type = OpCode::kDelete;
    op.path = path;
    txn.ops.push_back(std::move(op));
  }
  return txn;
}

Txn TxnPrep::prepare_reconfig(const PrepContext& ctx, const std::string& config_text) {
  static const std::string kConfigNode = "/zookeeper/config";
  Txn txn = header(ctx, OpCode::kReconfig);
  try {
    ChangeRecord node = must_exist(kConfigNode);
    check_acl(node, wire::perms::kWrite, ctx);
    TxnOp op;
    op.type = OpCode::kSetData;
    op.path = kConfigNode;
    op.data = config_text;
    // ZooKeeper stores -1 as the node's version (SetDataTxn with version -1).
    op.version = -1;
    node.zxid = ctx.zxid;
    node.version = op.version;
    record(kConfigNode, node);
    txn.ops.push_back(std::move(op));
  } catch (const PrepError& e) {
    txn.type = OpCode::kError;
    txn.err = e.code;
  }
  return txn;
}

void TxnPrep::applied(int64_t zxid) {
  // Entries come in zxid order; were one ever out of order, it would only wait for those
  // ahead of it: a record goes only once its own zxid is applied (checked below).
  while (!by_zxid_.empty() && by_zxid_.front().first <= zxid) {
    auto rec = outstanding_.find(by_zxid_.front().second);
    // A later change of the path (or none left) keeps its record.
    if (rec != outstanding_.end() && rec->second.zxid <= zxid) outstanding_.erase(rec);
    by_zxid_.pop_front();
  }
}

TxnOp TxnPrep::prep_op(const PrepContext& ctx, const WriteOp& op) {
  switch (op.type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      return prep_create(ctx, op.type, std::get<wire::CreateRequest>(op.body));
    case OpCode::kDelete:
      return prep_delete(ctx, std::get<wire::PathVersionRequest>(op.body));
    case OpCode::kDeleteContainer:
      return prep_delete_container(ctx, std::get<wire::PathVersionRequest>(op.body));
    case OpCode::kSetData:
      return prep_set_data(ctx, std::get<wire::SetDataRequest>(op.body));
    case OpCode::kSetAcl:
      return prep_set_acl(ctx, std::get<wire::SetAclRequest>(op.body));
    case OpCode::kCheck:
      return prep_check(ctx, std::get<wire::PathVersionRequest>(op.body));
    default:
      fail(ErrorCode::kUnimplemented);
  }
}

TxnOp TxnPrep::prep_create(const PrepContext& ctx, OpCode type, const wire::CreateRequest& req) {
  int32_t flags = req.flags;
  if (flags < 0 || flags > int32_t(CreateMode::kPersistentSequentialWithTtl))
    fail(ErrorCode::kBadArguments);
  if (is_ttl(flags) && !extended_types_) fail(ErrorCode::kUnimplemented);
  int64_t ttl = type == OpCode::kCreateTtl ? req.ttl : -1;
  if (is_ttl(flags) ? (ttl <= 0 || ttl > kMaxTtlMs) : ttl >= 0) fail(ErrorCode::kBadArguments);

  std::string parent = parent_or_fail(req.path);
  wire::AclList acl;
  if (ErrorCode rc = fixup_acl(req.acl, *ctx.ids, acl); rc != ErrorCode::kOk) fail(rc);
  ChangeRecord parent_rec = must_exist(parent);
  check_acl(parent_rec, wire::perms::kCreate, ctx);
  std::string path = req.path;
  if (is_sequential(flags)) path += sequence_suffix(parent_rec.cversion);
  validate_or_fail(path);
  if (lookup(path)) fail(ErrorCode::kNodeExists);
  if (node_kind(parent_rec.ephemeral_owner) == NodeKind::kEphemeral)
    fail(ErrorCode::kNoChildrenForEphemerals);

  TxnOp op;
  op.type = type;
  op.path = path;
  op.data = req.data;
  op.data_null = req.data_null;
  op.acl = acl;
  // Wraps like Java's int rather than overflowing.
  op.parent_cversion = static_cast<int32_t>(static_cast<uint32_t>(parent_rec.cversion) + 1);
  if (flags == int32_t(CreateMode::kContainer))
    op.ephemeral_owner = kContainerOwner;
  else if (is_ttl(flags))
    op.ephemeral_owner = ttl_owner(ttl);
  else if (flags == int32_t(CreateMode::kEphemeral) ||
           flags == int32_t(CreateMode::kEphemeralSequential))
    op.ephemeral_owner = ctx.session_id;

  parent_rec.zxid = ctx.zxid;
  parent_rec.child_count++;
  parent_rec.cversion = op.parent_cversion;
  record(parent, parent_rec);
  ChangeRecord node;
  node.zxid = ctx.zxid;
  node.exists = true;
  node.ephemeral_owner = op.ephemeral_owner;
  node.acl = SharedAcl(acl);
  record(path, node);
  return op;
}

TxnOp TxnPrep::prep_delete(const PrepContext& ctx, const wire::PathVersionRequest& req) {
  std::string parent = parent_or_fail(req.path);
  if (is_special_path(req.path)) fail(ErrorCode::kBadArguments);
  ChangeRecord parent_rec = must_exist(parent);
  check_acl(parent_rec, wire::perms::kDelete, ctx);
  ChangeRecord node = must_exist(req.path);
  next_version(node.version, req.version);
  if (node.child_count > 0) fail(ErrorCode::kNotEmpty);
  return record_removal(ctx, parent, parent_rec, req.path, OpCode::kDelete);
}

TxnOp TxnPrep::prep_delete_container(const PrepContext& ctx, const wire::PathVersionRequest& req) {
  std::string parent = parent_or_fail(req.path);
  if (is_special_path(req.path)) fail(ErrorCode::kBadArguments);
  ChangeRecord node = must_exist(req.path);
  if (node.child_count > 0) fail(ErrorCode::kNotEmpty);
  if (node_kind(node.ephemeral_owner) == NodeKind::kEphemeral) fail(ErrorCode::kBadVersion);
  return record_removal(ctx, parent, must_exist(parent), req.path, OpCode::kDeleteContainer);
}

TxnOp TxnPrep::record_removal(const PrepContext& ctx, const std::string& parent,
                              ChangeRecord parent_rec, const std::string& path, OpCode type) {
  parent_rec.zxid = ctx.zxid;
  parent_rec.child_count--;
  record(parent, parent_rec);
  ChangeRecord gone;
  gone.zxid = ctx.zxid;
  record(path, gone);
  TxnOp op;
  op.type = type;
  op.path = path;
  return op;
}

TxnOp TxnPrep::prep_set_data(const PrepContext& ctx, const wire::SetDataRequest& req) {
  validate_or_fail(req.path);
  ChangeRecord node = must_exist(req.path);
  check_acl(node, wire::perms::kWrite, ctx);
  TxnOp op;
  op.type = OpCode::kSetData;
  op.path = req.path;
  op.data = req.data;
  op.data_null = req.data_null;
  op.version = next_version(node.version, req.version);
  node.zxid = ctx.zxid;
  node.version = op.version;
  record(req.path, node);
  return op;
}

TxnOp TxnPrep::prep_set_acl(const PrepContext& ctx, const wire::SetAclRequest& req) {
  validate_or_fail(req.path);
  wire::AclList acl;
  if (ErrorCode rc = fixup_acl(req.acl, *ctx.ids, acl); rc != ErrorCode::kOk) fail(rc);
  ChangeRecord node = must_exist(req.path);
  check_acl(node, wire::perms::kAdmin, ctx);
  TxnOp op;
  op.type = OpCode::kSetAcl;
  op.path = req.path;
  op.version = next_version(node.aversion, req.version);
  op.acl = acl;
  node.zxid = ctx.zxid;
  node.aversion = op.version;
  node.acl = SharedAcl(std::move(acl));
  record(req.path, node);
  return op;
}

TxnOp TxnPrep::prep_check(const PrepContext& ctx, const wire::PathVersionRequest& req) {
  validate_or_fail(req.path);
  ChangeRecord node = must_exist(req.path);
  check_acl(node, wire::perms::kRead, ctx);
  next_version(node.version, req.version);
  TxnOp op;
  op.type = OpCode::kCheck;
  op.path = req.path;
  op.version = req.version;
  return op;
}

std::optional<TxnPrep::ChangeRecord> TxnPrep::lookup(const std::string& path) const {
  if (auto it = outstanding_.find(path); it != outstanding_.end()) {
    if (!it->second.exists) return std::nullopt;
    return it->second;
  }
  const Node* n = tree_.find(path);
  if (!n) return std::nullopt;
  ChangeRecord rec;
  rec.exists = true;
  rec.ephemeral_owner = n->ephemeral_owner;
  rec.version = n->version;
  rec.cversion = n->cversion;
  rec.aversion = n->aversion;
  rec.child_count = static_cast<int32_t>(n->children.size());
  rec.acl = n->acl;
  return rec;
}

TxnPrep::ChangeRecord TxnPrep::must_exist(const std::string& path) const {
  auto rec = lookup(path);
  if (!rec) fail(ErrorCode::kNoNode);
  return *rec;
}

void TxnPrep::record(const std::string& path, ChangeRecord rec) {
  // What can throw (allocation) comes first: a queue entry with no record of its own is skipped
  // by applied(), where a record made empty before a throw would stand for a missing node.
  by_zxid_.emplace_back(rec.zxid, path);
  if (multi_undo_) multi_undo_->emplace_back();
  auto [it, added] = outstanding_.try_emplace(path);
  if (multi_undo_ && !added) multi_undo_->back() = it->second;
  it->second = std::move(rec);
}

void TxnPrep::check_acl(const ChangeRecord& rec, int32_t perm, const PrepContext& ctx) const {
  if (!skip_acl_ && rec.acl && !acl_allows(*rec.acl, perm, *ctx.ids)) fail(ErrorCode::kNoAuth);
}

}  // namespace corral::tree
