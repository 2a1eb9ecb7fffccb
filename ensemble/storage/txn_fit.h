// Whether a logged txn fits the tree recovery is rebuilding. DataTree::apply
// takes a txn that does not fit (a create under a missing parent, a delete of a
// missing node...) as a broken invariant and aborts; a txn_log row that decodes
// but does not fit is damage to the data directory, which recovery must refuse
// with a message instead.
#pragma once

#include <string>

#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"

namespace corral::storage {

/// Why `txn` cannot be applied to `tree` with DataTree::apply; empty when it can.
std::string apply_misfit(const tree::DataTree& tree, const tree::Txn& txn);

/// Why `txn` cannot be replayed over a fuzzy snapshot with DataTree::replay (which
/// tolerates missing and existing nodes); empty when it can.
std::string replay_misfit(const tree::Txn& txn);

}  // namespace corral::storage
