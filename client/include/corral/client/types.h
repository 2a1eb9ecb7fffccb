// What the client's operations take and return, besides Result.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "corral/client/tls.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::client {

using Stat = wire::Stat;
using Acl = wire::Acl;
using AclList = std::vector<wire::Acl>;
using Id = wire::Id;
using EventType = wire::EventType;

/// Standard ACLs (ZooDefs.Ids).
AclList open_acl_unsafe();
AclList read_acl_unsafe();
AclList creator_all_acl();

/// How a node is created.
enum class CreateMode {
  kPersistent,
  kEphemeral,
  kPersistentSequential,
  kEphemeralSequential,
  kContainer,
  kPersistentWithTtl,
  kPersistentSequentialWithTtl,
};

/// True for the sequential modes.
bool is_sequential(CreateMode mode);
/// True for the ephemeral modes.
bool is_ephemeral(CreateMode mode);

/// What the user can see of the connection to the ensemble.
enum class ConnectionState {
  kConnecting,   ///< no session yet
  kConnected,    ///< first session established
  kSuspended,    ///< connection lost; the session may still be alive
  kReconnected,  ///< the same session on a new connection
  kReadOnly,     ///< connected to a server outside a quorum (reads only)
  kLost,         ///< the session expired (a server said so, or none took it back within 4/3
                 ///< of its timeout): treat its ephemerals as gone
  kClosed,       ///< closed by the user
  kAuthFailed,   ///< the server refused the SASL login (ZooKeeper's AuthFailed): the client
                 ///< stops, and every call fails with ZAUTHFAILED
};

/// "connected", "suspended", ...
const char* state_name(ConnectionState state);

/// A watch notification, with the path as the user named it (chroot removed).
struct WatchEvent {
  EventType type = EventType::kNone;
  std::string path;
};

/// Called once per triggered one-shot watch, or per event of a persistent watch.
using Watcher = std::function<void(const WatchEvent&)>;

/// Persistent watch modes (addWatch).
enum class AddWatchMode { kPersistent = 0, kPersistentRecursive = 1 };

/// Which watches removeWatches removes.
enum class WatcherType { kChildren = 1, kData = 2, kAny = 3 };

/// A SASL DIGEST-MD5 login: the user and password of the server's JAAS `Server` section
/// (`user_NAME="password"`). The session gets the identity ("sasl", NAME) that `sasl` ACLs name.
struct SaslCredentials {
  std::string username;
  std::string password;
};

/// How a client connects.
struct Options {
  /// "host:port,host:port[/chroot]"; hosts are tried in random order.
  std::string connect_string;
  /// Asked of the server; it may grant less or more.
  std::chrono::milliseconds session_timeout{10000};
  /// Accept a read-only server when no quorum is reachable.
  bool can_be_read_only = false;
  /// Connection state changes, delivered in order with watch events.
  std::function<void(ConnectionState)> on_state;
  /// When set, every connection logs in with SASL DIGEST-MD5 (service "zookeeper", server name
  /// "zk-sasl-md5", as ZooKeeper's clients) before any other request, and the state becomes
  /// kConnected only once the server accepted it. A refusal ends in kAuthFailed.
  std::optional<SaslCredentials> sasl;
  /// When set, every connection speaks TLS (to a secureClientPort); see TlsOptions.
  std::optional<TlsOptions> tls;
};

/// getData's answer.
struct DataResult {
  std::string data;
  Stat stat;
};

/// create's answer: the actual path (with its sequence suffix) and the new node's Stat.
struct CreateResult {
  std::string path;
  Stat stat;
};

/// getChildren's answer.
struct ChildrenResult {
  std::vector<std::string> children;
  Stat stat;
};

/// getACL's answer.
struct AclResult {
  AclList acl;
  Stat stat;
};

/// What reconfig (ZooKeeperAdmin.reconfigure) asks for. Either incremental (`joining` and/or
/// `leaving`) or non-incremental (`members`); absent parts go as null strings.
struct ReconfigSpec {
  // Constructors rather than an aggregate, for the same g++ 12 bug as CreateOptions.
  ReconfigSpec() {}
  ReconfigSpec(std::optional<std::string> joining_servers,
               std::optional<std::string> leaving_servers, std::optional<std::string> new_members,
               int64_t from = -1)
      : joining(std::move(joining_servers)),
        leaving(std::move(leaving_servers)),
        members(std::move(new_members)),
        from_config(from) {}
  /// Adds (or replaces) servers: "server.4=host:2888:3888:participant;2181,server.5=...".
  static ReconfigSpec add(std::string servers, int64_t from = -1) {
    return {std::move(servers), std::nullopt, std::nullopt, from};
  }
  /// Removes servers by id: "4,5".
  static ReconfigSpec remove(std::string ids, int64_t from = -1) {
    return {std::nullopt, std::move(ids), std::nullopt, from};
  }
  /// Replaces the whole membership: "server.1=...,server.2=...".
  static ReconfigSpec replace(std::string members, int64_t from = -1) {
    return {std::nullopt, std::nullopt, std::move(members), from};
  }

  /// Comma-separated `server.N=spec` lines of servers to add.
  std::optional<std::string> joining;
  /// Comma-separated ids of servers to remove.
  std::optional<std::string> leaving;
  /// The new membership, comma- or newline-separated `server.N=spec` lines.
  std::optional<std::string> members;
  /// Only if the current config's version (the `version=` of /zookeeper/config, in hex there)
  /// is this one; -1 for any. A stale one gets ZBADVERSION.
  int64_t from_config = -1;
};

/// whoAmI's answer: one identity of this session.
struct Identity {
  std::string scheme;
  std::string id;
};

}  // namespace corral::client
