// The scenarios of the compatibility driver: each runs a fixed sequence of operations
// (or a seeded random one) and writes its transcript through a Driver.
#pragma once

#include <cstdint>
#include <string>

#include "driver.h"

namespace corral::compat {

/// What a scenario gets besides the driver.
struct ScenarioArgs {
  std::string hosts;  ///< "host:port" of the server under test
  std::string root;   ///< the scenario's own subtree, e.g. "/compat-basic"
  uint64_t seed = 0;  ///< for the random scenario
};

/// A scenario function.
using ScenarioFn = void (*)(Driver&, const ScenarioArgs&);

/// create/get/set/delete with versions, their error codes, null and binary data, big data,
/// paths the client rejects, the /zookeeper subtree.
void scenario_basic(Driver& d, const ScenarioArgs& a);
/// Sequential names from the parent's cversion, after deletes, ephemeral sequential.
void scenario_sequential(Driver& d, const ScenarioArgs& a);
/// multi: success, rollback at each position, check ops, create then delete, sequentials.
void scenario_multi(Driver& d, const ScenarioArgs& a);
/// One-shot data, exists and child watches; event order; removeWatches.
void scenario_watches(Driver& d, const ScenarioArgs& a);
/// Persistent and persistent-recursive watches (addWatch, opcode 106) over a raw connection,
/// since the 3.8 C client has no API for them.
void scenario_persistent(Driver& d, const ScenarioArgs& a);
/// world/auth/digest/ip ACLs, ZNOAUTH for each permission, setACL versions, invalid ACLs,
/// a second session gaining access by digest auth, the super digest, a failed auth.
void scenario_acl(Driver& d, const ScenarioArgs& a);
/// Ephemerals vanish when their session closes, seen (and watched) from another session.
void scenario_ephemeral(Driver& d, const ScenarioArgs& a);
/// Containers are deleted once their last child goes; containers never used stay.
void scenario_container(Driver& d, const ScenarioArgs& a);
/// TTL nodes: createTTL argument checks and expiry.
void scenario_ttl(Driver& d, const ScenarioArgs& a);
/// Watch events checked against READ when they fire (CVE-2024-23944): one-shot, child,
/// persistent and recursive watches after setACL removes READ, with controls that keep it.
void scenario_watch_acl(Driver& d, const ScenarioArgs& a);
/// A seeded random mix of a few hundred operations over /r/{a,b,c}/{x,y} by two sessions.
void scenario_random(Driver& d, const ScenarioArgs& a);

}  // namespace corral::compat
