#include "ensemble/server/membership.h"

namespace corral::server {

zab::QuorumConfig membership_of(const ServerConfig& config) {
  zab::QuorumConfig out;
  out.version = config.dynamic_config_version;
  for (const PeerSpec& p : config.servers) {
    zab::QuorumServer s;
    s.id = p.id;
    s.host = p.host;
    s.quorum_port = p.quorum_port;
    s.election_port = p.election_port;
    s.role = p.observer ? zab::QuorumRole::kObserver : zab::QuorumRole::kParticipant;
    s.client_host = p.client_address;
    s.client_port = p.client_port;
    out.servers[p.id] = std::move(s);
  }
  return out;
}

}  // namespace corral::server
