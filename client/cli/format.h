// What corral prints: zkCli's text for people (Stat, children, ACLs, watch events, errors)
// and JSON for programs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "corral/client/result.h"
#include "corral/client/types.h"

namespace corral::cli {

/// A watch event, or a change of the connection (type kNone, empty path).
struct Event {
  client::ConnectionState state = client::ConnectionState::kConnected;
  client::EventType type = client::EventType::kNone;
  /// The node's path; empty for a change of the connection (printed as null).
  std::string path;
};

/// `epoch_ms` in local time as Java's Date.toString prints it: "Thu Jan 01 00:00:00 UTC 1970".
std::string java_date(int64_t epoch_ms);

/// "0x" and the hexadecimal digits of `value` as an unsigned number (Long.toHexString).
std::string java_hex(int64_t value);

/// A Stat as zkCli prints it: "cZxid = 0x...", one field a line, each line ending in '\n'.
std::string stat_text(const client::Stat& stat);

/// A Stat as JSON with the field names of ZooKeeper's Stat record (czxid, ..., pzxid).
nlohmann::json stat_json(const client::Stat& stat);

/// Sorted and bracketed as zkCli prints a list: "[a, b]".
std::string list_text(std::vector<std::string> items);

/// An ACL as zkCli's getAcl prints it: "'world,'anyone" then ": cdrwa", for each entry.
std::string acl_text(const client::AclList& acl);

/// An ACL as JSON: [{"scheme":"world","id":"anyone","perms":"cdrwa"}].
nlohmann::json acl_json(const client::AclList& acl);

/// Java's EventType name: "NodeDataChanged", "None", ...
std::string_view event_type_name(client::EventType type);

/// Java's KeeperState name for a connection state: "SyncConnected", "Disconnected", ...
std::string_view keeper_state_name(client::ConnectionState state);

/// "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x", as zkCli prints events.
std::string event_text(const Event& event);

/// {"state":"SyncConnected","type":"NodeDataChanged","path":"/x"} (path null for a change
/// of the connection).
nlohmann::json event_json(const Event& event);

/// A few words on what an error code means: "node does not exist".
std::string_view error_description(client::ErrorCode err);

/// "corral: get /x: ZNONODE (node does not exist)". `what` is the command and its path.
std::string error_line(std::string_view what, client::ErrorCode err);

/// {"error":"ZNONODE","code":-101,"message":"node does not exist","path":"/x"}; no "path"
/// when `path` is empty.
nlohmann::json error_json(client::ErrorCode err, std::string_view path);

/// `value` on one line, ending in '\n'. Bytes that are not UTF-8 become U+FFFD.
std::string json_line(const nlohmann::json& value);

}  // namespace corral::cli
