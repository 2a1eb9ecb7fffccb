// QuorumPeer: dynamic reconfiguration's side of the driver. The ZAB core decides when a
// config is proposed (last-seen) and when it is activated; the driver stores both in the
// database before anything that depends on them leaves this server, then points the meshes,
// the core and zoo.cfg's dynamic file at them.
#include <spdlog/spdlog.h>

#include "ensemble/server/dynamic_config_file.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/quorum_peer.h"

namespace corral::server {

ReconfigView QuorumPeer::reconfig_view() const {
  ReconfigView view;
  const ServerConfig& config = core_.config();
  view.reconfig_enabled = config.reconfig_enabled;
  view.standalone_enabled = config.standalone_enabled;
  view.active = peer_.active_config();
  view.last_seen = peer_.reconfig_pending() ? peer_.last_seen_config() : peer_.active_config();
  view.quorum_synced = [this](const zab::QuorumConfig& c) { return peer_.quorum_synced(c); };
  return view;
}

void QuorumPeer::store_configs(storage::Database& db, const ConfigChange& change) {
  if (change.next)
    db.set_config(storage::ConfigSlot::kNext, change.next->version, change.next->text());
  if (change.activated)
    db.set_config(storage::ConfigSlot::kActive, change.activated->config->version,
                  change.activated->config->text());
}

std::vector<MeshPeer> QuorumPeer::mesh_members(bool election) const {
  std::vector<MeshPeer> out;
  auto add = [&](const zab::QuorumConfig& c) {
    for (const auto& [id, s] : c.servers) {
      bool known = false;
      for (const auto& p : out) known = known || p.id == id;
      if (!known)
        out.push_back(
            {id, s.host, static_cast<uint16_t>(election ? s.election_port : s.quorum_port)});
    }
  };
  add(*peer_.active_config());
  if (peer_.reconfig_pending()) add(*peer_.last_seen_config());
  return out;
}

void QuorumPeer::use_configs(const ConfigChange& change) {
  if (!change.next && !change.activated) return;
  election_mesh_->set_members(mesh_members(true));
  quorum_mesh_->set_members(mesh_members(false));
  if (change.next)
    spdlog::info("reconfig: config version 0x{:x} proposed ({} voters)", change.next->version,
                 change.next->voters().size());
  if (!change.activated) return;
  const zab::Activation& a = *change.activated;
  core_.install_config(*a.config, NetworkServer::now_ms(), !a.from_txn);
  spdlog::info(
      "reconfig: config version 0x{:x} active ({} voters{}), designated leader {}",
      a.config->version, a.config->voters().size(),
      a.config->role_of(config_.my_id) == zab::QuorumRole::kAbsent ? ", not this server" : "",
      a.designated_leader);
  if (config_path_.empty()) return;
  if (a.config->role_of(config_.my_id) == zab::QuorumRole::kAbsent) {
    // Its own quorum and election ports come from its files: a removed server keeps them, so
    // it can still start (as a non-voting follower: its database's config is newer).
    spdlog::info("reconfig: this server is not in config 0x{:x}; its config files stay as they are",
                 a.config->version);
    return;
  }
  // The database is authoritative; the files only let an operator (and ZooKeeper's tools)
  // see the membership, so a failure to write them is logged, not fatal.
  storage_.run(
      [path = config_path_, config = a.config, me = config_.my_id](storage::Database&) {
        try {
          write_config_files(path, *config, me);
        } catch (const std::exception& e) {
          spdlog::error("reconfig: cannot write the dynamic config next to {}: {}", path, e.what());
        }
      },
      [] {});
}

}  // namespace corral::server
