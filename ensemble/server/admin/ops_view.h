// What the /metrics and AdminServer endpoints read: the server's parts, all owned by the core's
// thread. Handlers that use an OpsView run there (see ensemble/ops/http_endpoint.h).
#pragma once

#include <cstdint>
#include <string>

namespace corral::storage {
class StorageThread;
}

namespace corral::server {

class ServerCore;
class NetworkServer;
class Snapshotter;

/// The server as the operations endpoints see it.
struct OpsView {
  ServerCore& core;
  NetworkServer& network;                 ///< For crst (connection_stat_reset).
  const Snapshotter& snapshotter;         ///< Snapshot count and the newest one's zxid and time.
  const storage::StorageThread& storage;  ///< Group-commit totals.
  std::string initial_configuration;      ///< The zoo.cfg text the server started with.
};

/// Milliseconds since the server started (ZooKeeper's uptime).
int64_t uptime_ms(const OpsView& view);
/// Open file descriptors of this process, or -1 when /proc cannot tell.
int64_t open_file_descriptors();
/// The process' limit on open file descriptors (RLIMIT_NOFILE), or -1.
int64_t max_file_descriptors();
/// Voting members of the ensemble (server.N lines that are not observers); 0 standalone.
int64_t voting_members(const ServerCore& core);

}  // namespace corral::server
