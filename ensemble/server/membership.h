// The ensemble's membership as zoo.cfg's server.N lines give it (reconfigEnabled off).
#pragma once

#include "ensemble/server/config.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::server {

/// zoo.cfg's server.N lines as a version-0 QuorumConfig (ZooKeeper's static mode). A line's
/// client part is kept only when the line has one: the static clientPort never shows.
zab::QuorumConfig membership_of(const ServerConfig& config);

}  // namespace corral::server
