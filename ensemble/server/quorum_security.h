// The quorum's security settings from zoo.cfg and the JAAS file: which ensemble members
// authenticate, with which accounts (ZooKeeper's quorum.auth.* and its QuorumServer and
// QuorumLearner login sections).
#pragma once

#include "ensemble/server/config.h"
#include "ensemble/server/peer_auth.h"

namespace corral::server {

/// The peer authentication this server runs on its quorum and election ports. Checks the
/// keys as ZooKeeper's QuorumPeerConfig does (a requirement without enableSasl, or
/// serverRequireSasl without learnerRequireSasl, is an error) and, when enableSasl is on,
/// reads the QuorumServer accounts (user_NAME="password") and the QuorumLearner
/// username/password from the JAAS file (java.security.auth.login.config). Throws
/// ConfigError naming the key or the file.
PeerAuthSettings quorum_auth_settings(const ServerConfig& config);

}  // namespace corral::server
