// Prep: turns a write request into a Txn, or into an error Txn, by checking
// it against the tree plus the changes of Txns prepared but not yet applied
// (ZooKeeper's outstanding ChangeRecords). Pure: no I/O, time passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ensemble/tree/acl.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/path_hash.h"
#include "ensemble/tree/txn.h"
#include "wire/records.h"

namespace corral::tree {

/// The body of one write: create (all variants), delete/check/deleteContainer,
/// setData or setACL.
using WriteBody = std::variant<wire::CreateRequest, wire::PathVersionRequest, wire::SetDataRequest,
                               wire::SetAclRequest>;

/// A decoded write request (or one op of a multi).
struct WriteOp {
  wire::OpCode type = wire::OpCode::kError;
  WriteBody body;
};

/// Who asks, and the header the resulting Txn will carry.
struct PrepContext {
  int64_t session_id = 0;
  int32_t cxid = 0;
  int64_t zxid = 0;
  int64_t time_ms = 0;
  const AuthIds* ids = nullptr;
};

/// Builds Txns from write requests.
class TxnPrep {
 public:
  /// `tree` must outlive the prep; `extended_types` enables TTL nodes; `skip_acl`
  /// (zoo.cfg skipACL=yes, ZooKeeperServer.skipACL) turns every ACL check off.
  TxnPrep(const DataTree& tree, bool extended_types, bool skip_acl = false)
      : tree_(tree), extended_types_(extended_types), skip_acl_(skip_acl) {}

  /// One write: a Txn of that type, or an error Txn carrying ZooKeeper's code.
  Txn prepare(const PrepContext& ctx, const WriteOp& op);
  /// A multi: all ops succeed together, or every op becomes an error op (ZOK
  /// before the failing one, its code, ZRUNTIMEINCONSISTENCY after).
  Txn prepare_multi(const PrepContext& ctx, const std::vector<WriteOp>& ops);
  /// createSession with its negotiated timeout.
  Txn prepare_create_session(const PrepContext& ctx, int32_t timeout_ms);
  /// closeSession: the Txn that removes the session's ephemerals.
  Txn prepare_close_session(const PrepContext& ctx);
  /// reconfig, once its checks passed (server::plan_reconfig): WRITE on /zookeeper/config,
  /// where an outstanding setACL counts and super passes (else an error Txn, NOAUTH), then
  /// ZooKeeper's SetDataTxn(/zookeeper/config, `config_text`, -1) as a kReconfig Txn.
  Txn prepare_reconfig(const PrepContext& ctx, const std::string& config_text);

  /// Forgets change records of Txns up to `zxid`, now visible in the tree.
  void applied(int64_t zxid);

 private:
  /// What prep knows of a path: the tree's node updated by outstanding changes.
  struct ChangeRecord {
    int64_t zxid = 0;
    bool exists = false;
    int64_t ephemeral_owner = 0;
    int32_t version = 0;
    int32_t cversion = 0;
    int32_t aversion = 0;
    int32_t child_count = 0;
    SharedAcl acl;
  };

  TxnOp prep_op(const PrepContext& ctx, const WriteOp& op);
  TxnOp prep_create(const PrepContext& ctx, wire::OpCode type, const wire::CreateRequest& req);
  TxnOp prep_delete(const PrepContext& ctx, const wire::PathVersionRequest& req);
  TxnOp prep_delete_container(const PrepContext& ctx, const wire::PathVersionRequest& req);
  TxnOp prep_set_data(const PrepContext& ctx, const wire::SetDataRequest& req);
  TxnOp prep_set_acl(const PrepContext& ctx, const wire::SetAclRequest& req);
  TxnOp prep_check(const PrepContext& ctx, const wire::PathVersionRequest& req);

  /// Records that `path` is gone and its parent has one child less; the delete op.
  TxnOp record_removal(const PrepContext& ctx, const std::string& parent, ChangeRecord parent_rec,
                       const std::string& path, wire::OpCode type);
  std::optional<ChangeRecord> lookup(const std::string& path) const;
  ChangeRecord must_exist(const std::string& path) const;
  void record(const std::string& path, ChangeRecord rec);
  void check_acl(const ChangeRecord& rec, int32_t perm, const PrepContext& ctx) const;

  const DataTree& tree_;
  bool extended_types_;
  bool skip_acl_;
  /// Hashed, not ordered: a pipeline of 600 writes holds thousands of records, and comparing
  /// paths that share a long prefix down a tree of them was most of the 9.8% of a leader's
  /// time under multi spent in memcmp (with TxnPrep::applied). Open addressing, as the tree's
  /// map (no record's address is kept).
  absl::flat_hash_map<std::string, ChangeRecord, PathHash, std::equal_to<>> outstanding_;
  /// The paths of outstanding_'s records with the zxid that made them, in the order recorded
  /// (zxids only grow), so that applied() forgets from the front instead of walking every
  /// outstanding change per txn; a queue, not an ordered map, since each record is one push
  /// and one pop (the map's nodes and rebalancing were 1.8% of a leader's time under multi).
  /// A path changed again appears again; entries of records already replaced are skipped.
  std::deque<std::pair<int64_t, std::string>> by_zxid_;
  /// While a multi is prepared: for each record() of it, in order, the path's record before
  /// (none: it had no record), to roll back a failed multi without copying outstanding_. The
  /// k-th belongs to the path of the k-th entry the multi added to by_zxid_ (one per record()).
  /// A list, not a map by path: a map's node per op was 1.4% of multi's member samples, and
  /// 0.4% more to free it.
  std::optional<std::vector<std::optional<ChangeRecord>>> multi_undo_;
};

}  // namespace corral::tree
