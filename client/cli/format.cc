#include "client/cli/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "client/cli/acl_text.h"
#include "wire/protocol.h"

namespace corral::cli {
namespace {

using client::ConnectionState;
using client::ErrorCode;
using client::EventType;

// Jute's CSV escaping, which Id.toString applies to each field (Utils.toCSVString).
std::string csv_string(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    switch (c) {
      case '\0':
        out += "%00";
        break;
      case '\n':
        out += "%0A";
        break;
      case '\r':
        out += "%0D";
        break;
      case ',':
        out += "%2C";
        break;
      case '}':
        out += "%7D";
        break;
      case '%':
        out += "%25";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string java_date(int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Z %Y", &local);
  return std::string(buf, n);
}

std::string java_hex(int64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx",
                static_cast<unsigned long long>(static_cast<uint64_t>(value)));
  return buf;
}

std::string stat_text(const client::Stat& stat) {
  std::string s;
  s += "cZxid = " + java_hex(stat.czxid) + "\n";
  s += "ctime = " + java_date(stat.ctime) + "\n";
  s += "mZxid = " + java_hex(stat.mzxid) + "\n";
  s += "mtime = " + java_date(stat.mtime) + "\n";
  s += "pZxid = " + java_hex(stat.pzxid) + "\n";
  s += "cversion = " + std::to_string(stat.cversion) + "\n";
  s += "dataVersion = " + std::to_string(stat.version) + "\n";
  s += "aclVersion = " + std::to_string(stat.aversion) + "\n";
  s += "ephemeralOwner = " + java_hex(stat.ephemeral_owner) + "\n";
  s += "dataLength = " + std::to_string(stat.data_length) + "\n";
  s += "numChildren = " + std::to_string(stat.num_children) + "\n";
  return s;
}

nlohmann::json stat_json(const client::Stat& stat) {
  return {
      {"czxid", stat.czxid},
      {"mzxid", stat.mzxid},
      {"ctime", stat.ctime},
      {"mtime", stat.mtime},
      {"version", stat.version},
      {"cversion", stat.cversion},
      {"aversion", stat.aversion},
      {"ephemeralOwner", stat.ephemeral_owner},
      {"dataLength", stat.data_length},
      {"numChildren", stat.num_children},
      {"pzxid", stat.pzxid},
  };
}

std::string list_text(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += ", ";
    s += items[i];
  }
  return s + "]";
}

std::string acl_text(const client::AclList& acl) {
  std::string s;
  for (const client::Acl& a : acl) {
    s += csv_string(a.id.scheme) + "," + csv_string(a.id.id) + "\n: " + perm_string(a.perms) + "\n";
  }
  return s;
}

nlohmann::json acl_json(const client::AclList& acl) {
  nlohmann::json list = nlohmann::json::array();
  for (const client::Acl& a : acl) {
    list.push_back({{"scheme", a.id.scheme}, {"id", a.id.id}, {"perms", perm_string(a.perms)}});
  }
  return list;
}

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kNone:
      return "None";
    case EventType::kNodeCreated:
      return "NodeCreated";
    case EventType::kNodeDeleted:
      return "NodeDeleted";
    case EventType::kNodeDataChanged:
      return "NodeDataChanged";
    case EventType::kNodeChildrenChanged:
      return "NodeChildrenChanged";
    case EventType::kDataWatchRemoved:
      return "DataWatchRemoved";
    case EventType::kChildWatchRemoved:
      return "ChildWatchRemoved";
    case EventType::kPersistentWatchRemoved:
      return "PersistentWatchRemoved";
  }
  return "Unknown";
}

std::string_view keeper_state_name(ConnectionState state) {
  switch (state) {
    case ConnectionState::kConnecting:
    case ConnectionState::kSuspended:
      return "Disconnected";
    case ConnectionState::kConnected:
    case ConnectionState::kReconnected:
      return "SyncConnected";
    case ConnectionState::kReadOnly:
      return "ConnectedReadOnly";
    case ConnectionState::kLost:
      return "Expired";
    case ConnectionState::kClosed:
      return "Closed";
    case ConnectionState::kAuthFailed:
      return "AuthFailed";
  }
  return "Unknown";
}

std::string event_text(const Event& event) {
  return "WatchedEvent state:" + std::string(keeper_state_name(event.state)) +
         " type:" + std::string(event_type_name(event.type)) +
         " path:" + (event.path.empty() ? std::string("null") : event.path);
}

nlohmann::json event_json(const Event& event) {
  nlohmann::json j = {{"state", keeper_state_name(event.state)},
                      {"type", event_type_name(event.type)}};
  j["path"] = event.path.empty() ? nlohmann::json(nullptr) : nlohmann::json(event.path);
  return j;
}

std::string_view error_description(ErrorCode err) {
  switch (err) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kNoNode:
      return "node does not exist";
    case ErrorCode::kNodeExists:
      return "node already exists";
    case ErrorCode::kBadVersion:
      return "version does not match";
    case ErrorCode::kNotEmpty:
      return "node has children";
    case ErrorCode::kNoAuth:
      return "insufficient permission";
    case ErrorCode::kNoChildrenForEphemerals:
      return "ephemeral nodes cannot have children";
    case ErrorCode::kInvalidAcl:
      return "invalid ACL";
    case ErrorCode::kAuthFailed:
      return "authentication failed";
    case ErrorCode::kBadArguments:
      return "bad arguments";
    case ErrorCode::kConnectionLoss:
      return "connection lost";
    case ErrorCode::kSessionExpired:
      return "session expired";
    case ErrorCode::kSessionMoved:
      return "session moved to another server";
    case ErrorCode::kOperationTimeout:
    case ErrorCode::kRequestTimeout:
      return "timed out";
    case ErrorCode::kUnimplemented:
      return "not implemented by the server";
    case ErrorCode::kNotReadOnly:
      return "the server is read-only";
    case ErrorCode::kNoWatcher:
      return "no such watcher";
    case ErrorCode::kClosing:
      return "the client is closing";
    case ErrorCode::kEphemeralOnLocalSession:
      return "ephemeral nodes need a global session";
    case ErrorCode::kQuotaExceeded:
      return "quota exceeded";
    case ErrorCode::kThrottledOp:
      return "throttled by the server";
    case ErrorCode::kMarshallingError:
      return "malformed request or reply";
    case ErrorCode::kReconfigDisabled:
      return "reconfig is disabled on the servers (reconfigEnabled=false)";
    case ErrorCode::kNewConfigNoQuorum:
      return "too few of the new config's voters are in sync with the leader";
    case ErrorCode::kReconfigInProgress:
      return "another reconfig is in progress";
    default:
      return "ZooKeeper error";
  }
}

std::string error_line(std::string_view what, ErrorCode err) {
  return "corral: " + std::string(what) + ": " + std::string(wire::error_name(err)) + " (" +
         std::string(error_description(err)) + ")";
}

nlohmann::json error_json(ErrorCode err, std::string_view path) {
  nlohmann::json j = {{"error", wire::error_name(err)},
                      {"code", static_cast<int32_t>(err)},
                      {"message", error_description(err)}};
  if (!path.empty()) j["path"] = path;
  return j;
}

std::string json_line(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace corral::cli
