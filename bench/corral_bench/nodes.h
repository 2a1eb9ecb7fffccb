// Making and removing the benchmark's nodes before and after the measured runs, pipelined so
// that setting up thousands of nodes takes round trips in parallel, not in sequence.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "corral/client/client.h"

namespace corral::bench {

/// What an operation reports when it ends: kOk or the client's error.
using OpDone = std::function<void(client::ErrorCode)>;

/// Error codes seen, with how often.
using ErrorCounts = std::map<client::ErrorCode, uint64_t>;

/// Runs start(i, done) for every i in [0, n), at most `window` at once, and waits for all;
/// the errors the operations reported.
ErrorCounts pipelined(size_t n, size_t window, const std::function<void(size_t, OpDone)>& start);

/// Creates `path` (persistent, empty) unless it exists; the error otherwise.
client::ErrorCode ensure_node(client::Client& c, const std::string& path);

/// Removes `path` and everything below it; the errors other than ZNONODE.
ErrorCounts remove_tree(client::Client& c, const std::string& path);

}  // namespace corral::bench
