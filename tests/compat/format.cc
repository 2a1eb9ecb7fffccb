#include "format.h"

#include <cstdint>
#include <cstdio>
#include <map>

namespace corral::compat {

std::string rc_name(int rc) {
  static const std::map<int, std::string> names = {
      {ZOK, "ZOK"},
      {ZSYSTEMERROR, "ZSYSTEMERROR"},
      {ZRUNTIMEINCONSISTENCY, "ZRUNTIMEINCONSISTENCY"},
      {ZDATAINCONSISTENCY, "ZDATAINCONSISTENCY"},
      {ZCONNECTIONLOSS, "ZCONNECTIONLOSS"},
      {ZMARSHALLINGERROR, "ZMARSHALLINGERROR"},
      {ZUNIMPLEMENTED, "ZUNIMPLEMENTED"},
      {ZOPERATIONTIMEOUT, "ZOPERATIONTIMEOUT"},
      {ZBADARGUMENTS, "ZBADARGUMENTS"},
      {ZINVALIDSTATE, "ZINVALIDSTATE"},
      {ZNEWCONFIGNOQUORUM, "ZNEWCONFIGNOQUORUM"},
      {ZRECONFIGINPROGRESS, "ZRECONFIGINPROGRESS"},
      {ZSSLCONNECTIONERROR, "ZSSLCONNECTIONERROR"},
      {ZAPIERROR, "ZAPIERROR"},
      {ZNONODE, "ZNONODE"},
      {ZNOAUTH, "ZNOAUTH"},
      {ZBADVERSION, "ZBADVERSION"},
      {ZNOCHILDRENFOREPHEMERALS, "ZNOCHILDRENFOREPHEMERALS"},
      {ZNODEEXISTS, "ZNODEEXISTS"},
      {ZNOTEMPTY, "ZNOTEMPTY"},
      {ZSESSIONEXPIRED, "ZSESSIONEXPIRED"},
      {ZINVALIDCALLBACK, "ZINVALIDCALLBACK"},
      {ZINVALIDACL, "ZINVALIDACL"},
      {ZAUTHFAILED, "ZAUTHFAILED"},
      {ZCLOSING, "ZCLOSING"},
      {ZNOTHING, "ZNOTHING"},
      {ZSESSIONMOVED, "ZSESSIONMOVED"},
      {ZNOTREADONLY, "ZNOTREADONLY"},
      {ZEPHEMERALONLOCALSESSION, "ZEPHEMERALONLOCALSESSION"},
      {ZNOWATCHER, "ZNOWATCHER"},
      {ZRECONFIGDISABLED, "ZRECONFIGDISABLED"},
      {ZSESSIONCLOSEDREQUIRESASLAUTH, "ZSESSIONCLOSEDREQUIRESASLAUTH"},
      {ZTHROTTLEDOP, "ZTHROTTLEDOP"},
  };
  auto it = names.find(rc);
  return it != names.end() ? it->second : "rc=" + std::to_string(rc);
}

std::string event_type_name(int type) {
  if (type == ZOO_CREATED_EVENT) return "CREATED";
  if (type == ZOO_DELETED_EVENT) return "DELETED";
  if (type == ZOO_CHANGED_EVENT) return "CHANGED";
  if (type == ZOO_CHILD_EVENT) return "CHILD";
  if (type == ZOO_SESSION_EVENT) return "SESSION";
  if (type == ZOO_NOTWATCHING_EVENT) return "NOTWATCHING";
  return "type=" + std::to_string(type);
}

std::string state_name(int state) {
  if (state == ZOO_CONNECTED_STATE) return "CONNECTED";
  if (state == ZOO_CONNECTING_STATE) return "CONNECTING";
  if (state == ZOO_ASSOCIATING_STATE) return "ASSOCIATING";
  if (state == ZOO_EXPIRED_SESSION_STATE) return "EXPIRED";
  if (state == ZOO_AUTH_FAILED_STATE) return "AUTH_FAILED";
  if (state == ZOO_READONLY_STATE) return "READONLY";
  if (state == ZOO_NOTCONNECTED_STATE) return "NOTCONNECTED";
  if (state == 0) return "CLOSED";
  return "state=" + std::to_string(state);
}

std::string create_mode_name(int flags) {
  if (flags == ZOO_PERSISTENT) return "PERSISTENT";
  if (flags == ZOO_EPHEMERAL) return "EPHEMERAL";
  if (flags == ZOO_PERSISTENT_SEQUENTIAL) return "PERSISTENT|SEQUENTIAL";
  if (flags == ZOO_EPHEMERAL_SEQUENTIAL) return "EPHEMERAL|SEQUENTIAL";
  if (flags == ZOO_CONTAINER) return "CONTAINER";
  if (flags == ZOO_PERSISTENT_WITH_TTL) return "TTL";
  if (flags == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL) return "TTL|SEQUENTIAL";
  return "mode=" + std::to_string(flags);
}

std::string perms_name(int perms) {
  std::string out;
  if (perms & ZOO_PERM_CREATE) out += 'c';
  if (perms & ZOO_PERM_DELETE) out += 'd';
  if (perms & ZOO_PERM_READ) out += 'r';
  if (perms & ZOO_PERM_WRITE) out += 'w';
  if (perms & ZOO_PERM_ADMIN) out += 'a';
  int unknown = perms & ~ZOO_PERM_ALL;
  if (unknown != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "+0x%x", static_cast<unsigned>(unknown));
    out += buf;
  }
  return out.empty() ? "-" : out;
}

static uint64_t fnv1a(const char* data, int len) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < len; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

std::string quote_data(const char* data, int len) {
  if (len < 0 || data == nullptr) return "null(" + std::to_string(len) + ")";
  if (len > 64) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "<%d bytes fnv=%016llx>", len,
                  static_cast<unsigned long long>(fnv1a(data, len)));
    return buf;
  }
  std::string out = "\"";
  for (int i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

std::string acl_text(const struct ACL_vector& acl) {
  std::string out = "[";
  for (int i = 0; i < acl.count; ++i) {
    if (i > 0) out += ", ";
    const auto& a = acl.data[i];
    out += perms_name(a.perms) + " " + (a.id.scheme ? a.id.scheme : "(null)") + ":" +
           (a.id.id ? a.id.id : "(null)");
  }
  return out + "]";
}

}  // namespace corral::compat
