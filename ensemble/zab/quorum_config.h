// An ensemble's membership as ZooKeeper's QuorumMaj holds it: the text ZooKeeper shows in
// /zookeeper/config and `conf`, and the parser for that text (dynamic config files, reconfig's
// non-incremental member lists). Pure: no I/O, no clocks, no storage.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ensemble/tree/txn.h"
#include "wire/protocol.h"

namespace corral::zab {

/// Whether a server votes, only learns, or is not in a config at all.
enum class QuorumRole { kParticipant, kObserver, kAbsent };

/// One `server.N=host:quorumPort:electionPort:role[;clientHost:clientPort]` entry.
struct QuorumServer {
  int64_t id = 0;
  std::string host;  ///< As written; an IPv6 address without brackets.
  int quorum_port = 0;
  int election_port = 0;
  QuorumRole role = QuorumRole::kParticipant;
  std::string client_host;  ///< "0.0.0.0" when only a port was given.
  int client_port = 0;      ///< 0: the entry has no client part.
  /// The client part came from this server's static clientPort, not from its line: ZooKeeper
  /// (isClientAddrFromStatic) then leaves it out of the text.
  bool client_from_static = false;

  bool operator==(const QuorumServer&) const = default;
};

/// A versioned member list (majority quorums only).
struct QuorumConfig {
  int64_t version = 0;
  std::map<int64_t, QuorumServer> servers;

  /// Ids of the participants, ascending.
  std::vector<int64_t> voters() const;
  /// The role of server `id` in this config.
  QuorumRole role_of(int64_t id) const;
  /// Whether `ids` hold more than half of the participants (QuorumMaj.containsQuorum).
  bool majority(const std::vector<int64_t>& ids) const;
  /// ZooKeeper's QuorumMaj.toString: one `server.N=...` line per member, ids ascending, then
  /// `version=<lower-case hex>` with no final newline.
  std::string text() const;

  bool operator==(const QuorumConfig&) const = default;
};

/// One server's spec as ZooKeeper's QuorumServer prints it (no `server.N=`).
std::string server_spec_text(const QuorumServer& server);

/// Parses the part after `server.N=`. On failure returns ZooKeeper's code for it:
/// BADARGUMENTS for a ConfigException (wrong form, ports, role), MARSHALLINGERROR for what
/// Java throws past it (a port out of range).
std::variant<QuorumServer, wire::ErrorCode> parse_server_spec(int64_t id, std::string_view spec);

/// Parses a dynamic config as QuorumPeerConfig.parseDynamicConfig does: `server.N=spec` and
/// `version=hex` lines (commas count as line breaks, blank lines are skipped). Codes:
/// BADARGUMENTS for an unknown key, `group`/`weight` (hierarchical quorums are not supported)
/// or a bad spec; MARSHALLINGERROR for a non-numeric id or version, or observers without
/// participants (the exceptions ZooKeeper's reconfig does not map).
std::variant<QuorumConfig, wire::ErrorCode> parse_dynamic(std::string_view text);

/// The path a reconfig txn sets (ZooKeeper's ZooDefs.CONFIG_NODE).
inline constexpr std::string_view kConfigNode = "/zookeeper/config";

/// The config a reconfig txn carries, or null if `txn` is not a reconfig txn. A reconfig txn
/// is type kReconfig with one setData op on kConfigNode whose data is the new config's text
/// (ZooKeeper: SetDataTxn(CONFIG_NODE, qv.toString(), -1), the version being the txn's zxid).
std::shared_ptr<const QuorumConfig> config_of(const tree::Txn& txn);

}  // namespace corral::zab
