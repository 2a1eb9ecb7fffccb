// The leader's side of a reconfig request before it becomes a txn: decoding the body, and the
// checks of ZooKeeper's PrepRequestProcessor (case OpCode.reconfig) in its order, ending in the
// next config. Pure: no I/O, no clocks; the session check and the ACL check on
// /zookeeper/config (TxnPrep::prepare_reconfig) are done by the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <variant>

#include "ensemble/zab/quorum_config.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::server {

/// What the server preparing a reconfig knows of the ensemble.
struct ReconfigView {
  /// zoo.cfg reconfigEnabled.
  bool reconfig_enabled = false;
  /// The server runs without an ensemble (ZooKeeper's ZooKeeperServer, not a
  /// LeaderZooKeeperServer).
  bool standalone = false;
  /// zoo.cfg standaloneEnabled: when true a config needs 2 voters, else 1.
  bool standalone_enabled = true;
  /// The active config; required unless `standalone` or `!reconfig_enabled`.
  std::shared_ptr<const zab::QuorumConfig> active;
  /// The newest config proposed (ZooKeeper's last-seen); null when none is newer than active.
  std::shared_ptr<const zab::QuorumConfig> last_seen;
  /// Leader.isQuorumSynced: whether the leader (if a voter of the config) and its synced
  /// followers, members or not, hold a majority of the config's voters
  /// (zab::Peer::quorum_synced on the leader).
  std::function<bool(const zab::QuorumConfig&)> quorum_synced;
};

/// Decodes a reconfig request body; a malformed one gets MARSHALLINGERROR, as ZooKeeper's
/// byteBuffer2Record failing in PrepRequestProcessor does.
std::variant<wire::ReconfigRequest, wire::ErrorCode> decode_reconfig(std::string_view body);

/// Checks `request` as ZooKeeper's leader does, in its order: reconfig disabled (DISABLED),
/// standalone (UNIMPLEMENTED), a reconfig in progress (INPROGRESS), `cur_config_id` not the
/// last-seen version (BADVERSION), the members (BADARGUMENTS for a bad spec, a clashing
/// address or a spec without its client port; MARSHALLINGERROR for a non-numeric id or
/// observers without participants), too few voters (BADARGUMENTS) and no synced quorum of the
/// new config (NEWCONFIGNOQUORUM). Returns the next config at `new_version`, the zxid its txn
/// will carry.
std::variant<zab::QuorumConfig, wire::ErrorCode> plan_reconfig(const wire::ReconfigRequest& request,
                                                               const ReconfigView& view,
                                                               int64_t new_version);

/// Whether two members' addresses clash as QuorumServer.checkAddressDuplicate sees it: any of
/// the quorum, election and client addresses of one equal to one of the other's, wildcard and
/// loopback addresses exempt. Hosts are compared as written (case-insensitive, IP literals in
/// any notation), since prep runs on the core thread and never waits for DNS.
bool addresses_clash(const zab::QuorumServer& a, const zab::QuorumServer& b);

}  // namespace corral::server
