// The create txn the microbenchmarks build trees from.
#pragma once

#include <cstdint>
#include <string>

#include "ensemble/tree/txn.h"

namespace corral::bench {

/// A create of `path` with `value_size` bytes of data, open to anyone.
inline tree::Txn create_txn(int64_t zxid, const std::string& path, size_t value_size) {
  tree::Txn t;
  t.zxid = zxid;
  t.type = wire::OpCode::kCreate;
  tree::TxnOp op;
  op.type = wire::OpCode::kCreate;
  op.path = path;
  op.data.assign(value_size, 'x');
  op.acl = {{wire::perms::kAll, {"world", "anyone"}}};
  t.ops.push_back(std::move(op));
  return t;
}

}  // namespace corral::bench
