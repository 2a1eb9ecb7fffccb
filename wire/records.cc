#include "wire/records.h"

namespace corral::wire {

// Smallest encodings, used to bound vector counts before allocating.
static constexpr size_t kMinStringBytes = 4;
static constexpr size_t kMinAclBytes = 4 + 4 + 4;

void Id::write(JuteWriter& w) const {
  w.string(scheme);
  w.string(id);
}
Id Id::read(JuteReader& r) {
  Id x;
  x.scheme = r.string();
  x.id = r.string();
  return x;
}

void Acl::write(JuteWriter& w) const {
  w.int32(perms);
  id.write(w);
}
Acl Acl::read(JuteReader& r) {
  Acl x;
  x.perms = r.int32();
  x.id = Id::read(r);
  return x;
}

void write_acls(JuteWriter& w, const AclList& acls) {
  w.int32(static_cast<int32_t>(acls.size()));
  for (const auto& a : acls) a.write(w);
}
AclList read_acls(JuteReader& r) {
  int32_t n = r.vector_count(kMinAclBytes);
  AclList v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) v.push_back(Acl::read(r));
  return v;
}

void write_strings(JuteWriter& w, const std::vector<std::string>& v) {
  w.int32(static_cast<int32_t>(v.size()));
  for (const auto& s : v) w.string(s);
}
std::vector<std::string> read_strings(JuteReader& r) {
  int32_t n = r.vector_count(kMinStringBytes);
  std::vector<std::string> v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) v.push_back(r.string());
  return v;
}

void Stat::write(JuteWriter& w) const {
  w.int64(czxid);
  w.int64(mzxid);
  w.int64(ctime);
  w.int64(mtime);
  w.int32(version);
  w.int32(cversion);
  w.int32(aversion);
  w.int64(ephemeral_owner);
  w.int32(data_length);
  w.int32(num_children);
  w.int64(pzxid);
}
Stat Stat::read(JuteReader& r) {
  Stat s;
  s.czxid = r.int64();
  s.mzxid = r.int64();
  s.ctime = r.int64();
  s.mtime = r.int64();
  s.version = r.int32();
  s.cversion = r.int32();
  s.aversion = r.int32();
  s.ephemeral_owner = r.int64();
  s.data_length = r.int32();
  s.num_children = r.int32();
  s.pzxid = r.int64();
  return s;
}

void ConnectRequest::write(JuteWriter& w) const {
  w.int32(protocol_version);
  w.int64(last_zxid_seen);
  w.int32(timeout_ms);
  w.int64(session_id);
  w.buffer(passwd);
  w.boolean(read_only);
}
ConnectRequest ConnectRequest::read(JuteReader& r) {
  ConnectRequest x;
  x.protocol_version = r.int32();
  x.last_zxid_seen = r.int64();
  x.timeout_ms = r.int32();
  x.session_id = r.int64();
  x.passwd = r.buffer();
  if (r.remaining() > 0) x.read_only = r.boolean();
  return x;
}

void ConnectResponse::write(JuteWriter& w) const {
  w.int32(protocol_version);
  w.int32(timeout_ms);
  w.int64(session_id);
  w.buffer(passwd);
  w.boolean(read_only);
}
ConnectResponse ConnectResponse::read(JuteReader& r) {
  ConnectResponse x;
  x.protocol_version = r.int32();
  x.timeout_ms = r.int32();
  x.session_id = r.int64();
  x.passwd = r.buffer();
  if (r.remaining() > 0) x.read_only = r.boolean();
  return x;
}

void RequestHeader::write(JuteWriter& w) const {
  w.int32(xid);
  w.int32(type);
}
RequestHeader RequestHeader::read(JuteReader& r) {
  RequestHeader x;
  x.xid = r.int32();
  x.type = r.int32();
  return x;
}

void ReplyHeader::write(JuteWriter& w) const {
  w.int32(xid);
  w.int64(zxid);
  w.int32(err);
}
ReplyHeader ReplyHeader::read(JuteReader& r) {
  ReplyHeader x;
  x.xid = r.int32();
  x.zxid = r.int64();
  x.err = r.int32();
  return x;
}

void MultiHeader::write(JuteWriter& w) const {
  w.int32(type);
  w.boolean(done);
  w.int32(err);
}
MultiHeader MultiHeader::read(JuteReader& r) {
  MultiHeader x;
  x.type = r.int32();
  x.done = r.boolean();
  x.err = r.int32();
  return x;
}

void AuthPacket::write(JuteWriter& w) const {
  w.int32(type);
  w.string(scheme);
  w.buffer(auth);
}
AuthPacket AuthPacket::read(JuteReader& r) {
  AuthPacket x;
  x.type = r.int32();
  x.scheme = r.string();
  x.auth = r.buffer();
  return x;
}

void PathWatchRequest::write(JuteWriter& w) const {
  w.string(path);
  w.boolean(watch);
}
PathWatchRequest PathWatchRequest::read(JuteReader& r) {
  PathWatchRequest x;
  x.path = r.string();
  x.watch = r.boolean();
  return x;
}

void PathRequest::write(JuteWriter& w) const { w.string(path); }
PathRequest PathRequest::read(JuteReader& r) {
  PathRequest x;
  x.path = r.string();
  return x;
}

void CreateRequest::write(JuteWriter& w, bool with_ttl) const {
  w.string(path);
  if (data_null)
    w.null_buffer();
  else
    w.buffer(data);
  write_acls(w, acl);
  w.int32(flags);
  if (with_ttl) w.int64(ttl);
}
CreateRequest CreateRequest::read(JuteReader& r, bool with_ttl) {
  CreateRequest x;
  x.path = r.string();
  x.data = r.buffer(x.data_null);
  x.acl = read_acls(r);
  x.flags = r.int32();
  if (with_ttl) x.ttl = r.int64();
  return x;
}

void PathVersionRequest::write(JuteWriter& w) const {
  w.string(path);
  w.int32(version);
}
PathVersionRequest PathVersionRequest::read(JuteReader& r) {
  PathVersionRequest x;
  x.path = r.string();
  x.version = r.int32();
  return x;
}

void SetDataRequest::write(JuteWriter& w) const {
  w.string(path);
  if (data_null)
    w.null_buffer();
  else
    w.buffer(data);
  w.int32(version);
}
SetDataRequest SetDataRequest::read(JuteReader& r) {
  SetDataRequest x;
  x.path = r.string();
  x.data = r.buffer(x.data_null);
  x.version = r.int32();
  return x;
}

void SetAclRequest::write(JuteWriter& w) const {
  w.string(path);
  write_acls(w, acl);
  w.int32(version);
}
SetAclRequest SetAclRequest::read(JuteReader& r) {
  SetAclRequest x;
  x.path = r.string();
  x.acl = read_acls(r);
  x.version = r.int32();
  return x;
}

namespace {

void write_optional(JuteWriter& w, const std::optional<std::string>& s) {
  if (s)
    w.string(*s);
  else
    w.null_buffer();
}

std::optional<std::string> read_optional(JuteReader& r) {
  bool was_null = false;
  std::string s = r.buffer(was_null);
  if (was_null) return std::nullopt;
  return s;
}

}  // namespace

void ReconfigRequest::write(JuteWriter& w) const {
  write_optional(w, joining);
  write_optional(w, leaving);
  write_optional(w, new_members);
  w.int64(cur_config_id);
}
ReconfigRequest ReconfigRequest::read(JuteReader& r) {
  ReconfigRequest x;
  x.joining = read_optional(r);
  x.leaving = read_optional(r);
  x.new_members = read_optional(r);
  x.cur_config_id = r.int64();
  return x;
}

void SetWatchesRequest::write(JuteWriter& w, bool v2) const {
  w.int64(relative_zxid);
  write_strings(w, data_watches);
  write_strings(w, exist_watches);
  write_strings(w, child_watches);
  if (v2) {
    write_strings(w, persistent_watches);
    write_strings(w, persistent_recursive_watches);
  }
}
SetWatchesRequest SetWatchesRequest::read(JuteReader& r, bool v2) {
  SetWatchesRequest x;
  x.relative_zxid = r.int64();
  x.data_watches = read_strings(r);
  x.exist_watches = read_strings(r);
  x.child_watches = read_strings(r);
  if (v2) {
    x.persistent_watches = read_strings(r);
    x.persistent_recursive_watches = read_strings(r);
  }
  return x;
}

void PathIntRequest::write(JuteWriter& w) const {
  w.string(path);
  w.int32(value);
}
PathIntRequest PathIntRequest::read(JuteReader& r) {
  PathIntRequest x;
  x.path = r.string();
  x.value = r.int32();
  return x;
}

void WatcherEvent::write(JuteWriter& w) const {
  w.int32(type);
  w.int32(state);
  w.string(path);
}
WatcherEvent WatcherEvent::read(JuteReader& r) {
  WatcherEvent x;
  x.type = r.int32();
  x.state = r.int32();
  x.path = r.string();
  return x;
}

void ClientInfo::write(JuteWriter& w) const {
  w.string(auth_scheme);
  w.string(user);
}
ClientInfo ClientInfo::read(JuteReader& r) {
  ClientInfo x;
  x.auth_scheme = r.string();
  x.user = r.string();
  return x;
}

}  // namespace corral::wire
