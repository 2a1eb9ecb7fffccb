// multi: several writes applied atomically, all or none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "corral/client/result.h"
#include "corral/client/types.h"

namespace corral::client {

/// One op of a multi.
struct MultiOp {
  enum class Kind { kCreate, kDelete, kSetData, kCheck };
  Kind kind = Kind::kCheck;
  std::string path;
  std::string data;
  AclList acl;
  CreateMode mode = CreateMode::kPersistent;
  int64_t ttl_ms = -1;
  int32_t version = -1;
};

/// Builds the ops of a multi: `Multi().create("/a", "x").set("/b", "y", 3).check("/c", 1)`.
class Multi {
 public:
  /// A create (any mode; TTL modes need `ttl_ms`).
  Multi& create(std::string path, std::string data, CreateMode mode = CreateMode::kPersistent,
                AclList acl = open_acl_unsafe(), int64_t ttl_ms = -1);
  /// A delete; version -1 matches any.
  Multi& remove(std::string path, int32_t version = -1);
  /// A setData; version -1 matches any.
  Multi& set(std::string path, std::string data, int32_t version = -1);
  /// A version check; version -1 only checks that the node exists.
  Multi& check(std::string path, int32_t version);

  const std::vector<MultiOp>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<MultiOp> ops_;
};

/// One op's outcome: kOk with the path (create) and Stat (create, setData), or its error
/// (ZRUNTIMEINCONSISTENCY for ops after the one that failed).
struct OpResult {
  ErrorCode err = ErrorCode::kOk;
  std::string path;
  Stat stat;
};

}  // namespace corral::client
