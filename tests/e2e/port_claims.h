// Ports claimed across processes: test programs, scripts and benchmarks that run at once (ctest
// -j) pick listen ports from the same range below the kernel's ephemeral ports. A port that
// nothing holds yet (a follower's unbound quorum port, a killed member's port before its
// restart) is free to every other picker, so two ensembles could share a port and a member
// join the wrong one. A claim is a file named after the port in one directory, holding its
// owner's pid and start time; a claim whose owner is gone is taken over. scripts/port_claims.py
// speaks the same protocol for Python and shell.
#pragma once

#include <cstdint>

namespace corral::e2e {

/// Claims `port` for this process until it exits; false if a live process holds the claim.
bool claim_port(uint16_t port);

}  // namespace corral::e2e
