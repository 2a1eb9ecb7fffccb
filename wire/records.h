// The records of ZooKeeper 3.8's zookeeper.jute used on the client port.
// Each has write() and a static read(); read() throws DecodeError on bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wire/jute.h"

namespace corral::wire {

/// An identity: scheme ("world", "auth", "digest", "ip") and id.
struct Id {
  std::string scheme;
  std::string id;
  auto operator<=>(const Id&) const = default;
  void write(JuteWriter& w) const;
  static Id read(JuteReader& r);
};

/// One access-control entry: permission bits for an identity.
struct Acl {
  int32_t perms = 0;
  Id id;
  auto operator<=>(const Acl&) const = default;
  void write(JuteWriter& w) const;
  static Acl read(JuteReader& r);
};

using AclList = std::vector<Acl>;
void write_acls(JuteWriter& w, const AclList& acls);
AclList read_acls(JuteReader& r);
void write_strings(JuteWriter& w, const std::vector<std::string>& v);
std::vector<std::string> read_strings(JuteReader& r);

/// A znode's metadata, exactly as ZooKeeper reports it.
struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;
  bool operator==(const Stat&) const = default;
  void write(JuteWriter& w) const;
  static Stat read(JuteReader& r);
};

/// First frame from a client.
struct ConnectRequest {
  int32_t protocol_version = 0;
  int64_t last_zxid_seen = 0;
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string passwd;
  bool read_only = false;  ///< Optional on the wire: old clients omit it.
  void write(JuteWriter& w) const;
  static ConnectRequest read(JuteReader& r);
};

/// The server's answer to ConnectRequest.
struct ConnectResponse {
  int32_t protocol_version = 0;
  int32_t timeout_ms = 0;
  int64_t session_id = 0;
  std::string passwd;
  bool read_only = false;
  void write(JuteWriter& w) const;
  static ConnectResponse read(JuteReader& r);
};

/// Leads every request frame after the handshake.
struct RequestHeader {
  int32_t xid = 0;
  int32_t type = 0;
  void write(JuteWriter& w) const;
  static RequestHeader read(JuteReader& r);
};

/// Leads every response frame after the handshake.
struct ReplyHeader {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  void write(JuteWriter& w) const;
  static ReplyHeader read(JuteReader& r);
};

/// Leads each op of a multi request and each result of a multi response.
struct MultiHeader {
  int32_t type = 0;
  bool done = false;
  int32_t err = 0;
  void write(JuteWriter& w) const;
  static MultiHeader read(JuteReader& r);
};

/// setAuth: add an identity to the session.
struct AuthPacket {
  int32_t type = 0;
  std::string scheme;
  std::string auth;
  void write(JuteWriter& w) const;
  static AuthPacket read(JuteReader& r);
};

/// Requests that name a path and ask for a watch: exists, getData, getChildren(2).
struct PathWatchRequest {
  std::string path;
  bool watch = false;
  void write(JuteWriter& w) const;
  static PathWatchRequest read(JuteReader& r);
};

/// Requests with a path only: getACL, sync, getAllChildrenNumber, getEphemerals.
struct PathRequest {
  std::string path;
  void write(JuteWriter& w) const;
  static PathRequest read(JuteReader& r);
};

/// create, create2, createContainer and createTTL (ttl only for createTTL).
struct CreateRequest {
  std::string path;
  std::string data;
  bool data_null = false;
  AclList acl;
  int32_t flags = 0;
  int64_t ttl = 0;
  void write(JuteWriter& w, bool with_ttl) const;
  static CreateRequest read(JuteReader& r, bool with_ttl);
};

/// delete and check (CheckVersionRequest has the same layout).
struct PathVersionRequest {
  std::string path;
  int32_t version = -1;
  void write(JuteWriter& w) const;
  static PathVersionRequest read(JuteReader& r);
};

struct SetDataRequest {
  std::string path;
  std::string data;
  bool data_null = false;
  int32_t version = -1;
  void write(JuteWriter& w) const;
  static SetDataRequest read(JuteReader& r);
};

struct SetAclRequest {
  std::string path;
  AclList acl;
  int32_t version = -1;
  void write(JuteWriter& w) const;
  static SetAclRequest read(JuteReader& r);
};

/// reconfig: an incremental change (joining and/or leaving) or a new member list, from the
/// config version `cur_config_id` (-1: any). A null string (absent) is kept apart from an
/// empty one, as ZooKeeper's PrepRequestProcessor tells them apart.
struct ReconfigRequest {
  std::optional<std::string> joining;
  std::optional<std::string> leaving;
  std::optional<std::string> new_members;
  int64_t cur_config_id = -1;
  void write(JuteWriter& w) const;
  static ReconfigRequest read(JuteReader& r);
};

/// setWatches (v1, no persistent lists) and setWatches2.
struct SetWatchesRequest {
  int64_t relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  std::vector<std::string> persistent_watches;
  std::vector<std::string> persistent_recursive_watches;
  void write(JuteWriter& w, bool v2) const;
  static SetWatchesRequest read(JuteReader& r, bool v2);
};

/// addWatch, checkWatches and removeWatches: a path and an int (mode or watcher type).
struct PathIntRequest {
  std::string path;
  int32_t value = 0;
  void write(JuteWriter& w) const;
  static PathIntRequest read(JuteReader& r);
};

/// A watch notification (sent with xid -1).
struct WatcherEvent {
  int32_t type = 0;
  int32_t state = 0;
  std::string path;
  void write(JuteWriter& w) const;
  static WatcherEvent read(JuteReader& r);
};

/// One identity in a whoAmI response.
struct ClientInfo {
  std::string auth_scheme;
  std::string user;
  void write(JuteWriter& w) const;
  static ClientInfo read(JuteReader& r);
};

}  // namespace corral::wire
