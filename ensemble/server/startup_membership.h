// Which membership a server starts with: the one its files give (zoo.cfg's server.N lines,
// or the dynamic file) or the one its database holds from the last activated reconfig.
// Pure: the caller reads the files and the rows, and logs the notices.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ensemble/storage/database.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::server {

/// The membership the files give, and where it comes from (for messages).
struct BootstrapConfig {
  zab::QuorumConfig config;  ///< zoo.cfg's lines at version 0, or the dynamic file's.
  std::string source;        ///< e.g. "/etc/corral/zoo.cfg" or its dynamic file's path.
};

/// What a server starts with: the configs zab::PeerHistory takes (`active`, `last_seen`).
struct StartupMembership {
  std::shared_ptr<const zab::QuorumConfig> active;
  /// The stored 'next' config when newer than `active` (a reconfig proposed, not committed).
  std::shared_ptr<const zab::QuorumConfig> last_seen;
  std::string active_source;         ///< The bootstrap's source or "the database".
  std::vector<std::string> notices;  ///< Worth logging: which source won and why.
};

/// Chooses the start-up membership of server `my_id`. With `reconfig_enabled` false the files
/// always win (ZooKeeper's static mode; a differing 'active' row is noted) and `my_id` must be
/// listed. With it true the higher version of the bootstrap and the 'active' row wins, equal
/// versions with different members are refused naming both, `last_seen` is the 'next' row if
/// newer, and an unlisted server starts as a non-voting follower (ZooKeeper refuses to boot
/// one). Returns the membership, or the reason to refuse to start.
std::variant<StartupMembership, std::string> startup_membership(
    const BootstrapConfig& bootstrap, const std::optional<storage::StoredQuorumConfig>& active_row,
    const std::optional<storage::StoredQuorumConfig>& next_row, bool reconfig_enabled,
    int64_t my_id);

}  // namespace corral::server
