// The ensemble's membership as the files give it: zoo.cfg's server.N lines, or the dynamic
// file dynamicConfigFile names.
#pragma once

#include "ensemble/server/config.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::server {

/// `config.servers` as a QuorumConfig: version 0 for zoo.cfg's server.N lines (ZooKeeper's
/// static mode), the file name's version for a dynamic file. A line's client part is kept
/// only when the line has one: the static clientPort never shows.
zab::QuorumConfig membership_of(const ServerConfig& config);

}  // namespace corral::server
