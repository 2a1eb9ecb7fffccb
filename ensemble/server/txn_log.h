// Where the core sends a prepared Txn to be made durable before it is applied.
#pragma once

#include <functional>

#include "ensemble/tree/txn.h"

namespace corral::server {

/// The durable log as the core sees it: the storage thread implements it.
class TxnLog {
 public:
  virtual ~TxnLog() = default;
  /// Makes `txn` durable, then runs `durable` on the core's thread. Txns become
  /// durable in the order they were appended.
  virtual void append(tree::SharedTxn txn, std::function<void()> durable) = 0;
};

}  // namespace corral::server
