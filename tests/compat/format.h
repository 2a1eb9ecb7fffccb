// Canonical text for ZooKeeper results: error code names, event names, data, ACLs.
#pragma once

#include <zookeeper/zookeeper.h>

#include <string>
#include <string_view>

namespace corral::compat {

/// The C client's name for a return code ("ZOK", "ZNONODE", ...), or "rc=<n>" if unknown.
std::string rc_name(int rc);
/// "CREATED", "DELETED", "CHANGED", "CHILD", "SESSION", "NOTWATCHING" or "type=<n>".
std::string event_type_name(int type);
/// "CONNECTED", "CONNECTING", "EXPIRED", "AUTH_FAILED", ... or "state=<n>".
std::string state_name(int state);
/// Create flags as text: "PERSISTENT", "EPHEMERAL|SEQUENTIAL", "CONTAINER", "TTL", ...
std::string create_mode_name(int flags);
/// Permission bits as zkCli prints them, in the order "cdrwa"; "-" for none.
std::string perms_name(int perms);
/// Node data quoted with non-printable bytes escaped; "null" for len -1; a length and a
/// hash for long data.
std::string quote_data(const char* data, int len);
/// An ACL list: "[cdrwa world:anyone, r ip:127.0.0.1]".
std::string acl_text(const struct ACL_vector& acl);

}  // namespace corral::compat
