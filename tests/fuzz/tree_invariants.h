// The structural invariants of a DataTree that hold whatever its history: every
// node reachable from "/" under a valid path, parents list exactly their
// children, ephemerals have none, and the indexes and counters agree with the
// nodes. Fuzzers check them on trees built from untrusted input.
#pragma once

#include <string>

#include "ensemble/tree/data_tree.h"

namespace corral::fuzz {

/// The first broken invariant of `tree`, described with its path; empty when none is.
std::string tree_problem(const tree::DataTree& tree);

}  // namespace corral::fuzz
