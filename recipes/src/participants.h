// Reading the contenders of an election or a lock with their ids (internal).
#pragma once

#include <string>
#include <vector>

#include "coro.h"
#include "corral/recipes/leader_latch.h"

namespace corral::recipes::detail {

/// The contenders under `dir` marked by one of `markers`, in order, each with its node's
/// data as id; the first is the leader. Nodes gone between the listing and the read are
/// skipped. An empty list when `dir` does not exist.
awaitable<Result<std::vector<Participant>>> read_participants(Client& client, std::string dir,
                                                              std::vector<std::string> markers);

}  // namespace corral::recipes::detail
