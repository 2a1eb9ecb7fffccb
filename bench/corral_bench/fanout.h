// The watch fan-out workload: every session watches one node, one session sets it, and the
// time from the set to each notification (and to the last one) is measured, round after
// round.
#pragma once

#include "bench/corral_bench/runner.h"

namespace corral::bench {

/// Creates the watched node; an error when it could not.
std::optional<std::string> prepare_fanout(Context& ctx);

/// Runs rounds (after prepare_fanout) for the warm-up and the measured window. The latencies are
/// each notification's; extra holds "rounds", "last_notification_p50_us" and
/// "last_notification_max_us". A notification that does not come within the session timeout
/// plus 10 s counts as a ZOPERATIONTIMEOUT error.
RunOutcome run_fanout(Context& ctx);

}  // namespace corral::bench
