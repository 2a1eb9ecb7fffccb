// Tests of the client-port records: a round trip for each record, exact bytes
// checked against hand-computed ZooKeeper layouts and (when libzookeeper-mt-dev
// is installed) against the bytes Apache ZooKeeper's own C serializers produce,
// plus the protocol constants.
#include "wire/records.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wire/jute.h"
#include "wire/protocol.h"

#ifdef CORRAL_HAVE_ZOOKEEPER_C
#include <zookeeper/proto.h>
#include <zookeeper/recordio.h>
#include <zookeeper/zookeeper.h>
#include <zookeeper/zookeeper.jute.h>
#endif

namespace corral::wire {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

template <class F>
std::string encode(F&& f) {
  std::string out;
  JuteWriter w(out);
  f(w);
  return out;
}

template <class T>
std::string encode_record(const T& x) {
  return encode([&](JuteWriter& w) { x.write(w); });
}

// Decodes all of `in` with `read`, expecting every byte to be consumed.
template <class Read>
auto decode_all(const std::string& in, Read&& read) {
  JuteReader r(in);
  auto x = read(r);
  EXPECT_TRUE(r.at_end()) << r.remaining() << " bytes left over";
  return x;
}

template <class T>
T decode_record(const std::string& in) {
  return decode_all(in, [](JuteReader& r) { return T::read(r); });
}

// Every strict prefix of a complete encoding must fail to decode, except the
// prefixes of length >= `first_valid_prefix` (records with optional trailers).
void expect_prefixes_throw(const std::string& full, const std::function<void(JuteReader&)>& read,
                           size_t first_valid_prefix = SIZE_MAX) {
  for (size_t n = 0; n < full.size(); ++n) {
    std::string_view prefix(full.data(), n);
    JuteReader r(prefix);
    if (n >= first_valid_prefix) {
      EXPECT_NO_THROW(read(r)) << "prefix of " << n << " bytes";
    } else {
      EXPECT_THROW(read(r), DecodeError) << "prefix of " << n << " of " << full.size() << " bytes";
    }
  }
}

template <class T>
void expect_record_prefixes_throw(const std::string& full, size_t first_valid_prefix = SIZE_MAX) {
  expect_prefixes_throw(
      full, [](JuteReader& r) { T::read(r); }, first_valid_prefix);
}

// Sample values: every field distinct and not its default.
Stat sample_stat() {
  Stat s;
  s.czxid = 0x0000000100000001LL;
  s.mzxid = 0x0000000200000002LL;
  s.ctime = 1700000000123LL;
  s.mtime = 1700000000456LL;
  s.version = 7;
  s.cversion = 8;
  s.aversion = 9;
  s.ephemeral_owner = 0x1234567890abcdefLL;
  s.data_length = 11;
  s.num_children = 12;
  s.pzxid = 0x0000000300000003LL;
  return s;
}

AclList sample_acls() {
  return {{perms::kAll, {"world", "anyone"}},
          {perms::kRead | perms::kAdmin, {"digest", "bob:aGFzaA=="}},
          {perms::kCreate | perms::kDelete, {"ip", "10.0.0.0/8"}}};
}

// ---------------------------------------------------------------------------
// Round trips of every record.

TEST(RecordsRoundTrip, Id) {
  Id in{"digest", "user:hash"};
  Id out = decode_record<Id>(encode_record(in));
  EXPECT_EQ(out.scheme, "digest");
  EXPECT_EQ(out.id, "user:hash");
  EXPECT_EQ(out, in);
}

TEST(RecordsRoundTrip, Acl) {
  Acl in{perms::kWrite | perms::kAdmin, {"ip", "127.0.0.1"}};
  Acl out = decode_record<Acl>(encode_record(in));
  EXPECT_EQ(out.perms, perms::kWrite | perms::kAdmin);
  EXPECT_EQ(out.id.scheme, "ip");
  EXPECT_EQ(out.id.id, "127.0.0.1");
  EXPECT_EQ(out, in);
}

TEST(RecordsRoundTrip, AclList) {
  AclList in = sample_acls();
  std::string enc = encode([&](JuteWriter& w) { write_acls(w, in); });
  EXPECT_EQ(decode_all(enc, read_acls), in);
  std::string empty = encode([](JuteWriter& w) { write_acls(w, {}); });
  EXPECT_EQ(empty, bytes({0, 0, 0, 0}));
  EXPECT_TRUE(decode_all(empty, read_acls).empty());
  expect_prefixes_throw(enc, [](JuteReader& r) { read_acls(r); });
}

TEST(RecordsRoundTrip, Strings) {
  std::vector<std::string> in = {"/a", "", "/b/c", std::string("n\0l", 3), "/日本"};
  std::string enc = encode([&](JuteWriter& w) { write_strings(w, in); });
  EXPECT_EQ(decode_all(enc, read_strings), in);
  std::string empty = encode([](JuteWriter& w) { write_strings(w, {}); });
  EXPECT_EQ(empty, bytes({0, 0, 0, 0}));
  EXPECT_TRUE(decode_all(empty, read_strings).empty());
  expect_prefixes_throw(enc, [](JuteReader& r) { read_strings(r); });
}

TEST(RecordsRoundTrip, Stat) {
  Stat in = sample_stat();
  std::string enc = encode_record(in);
  EXPECT_EQ(enc.size(), 68u);  // 6 longs + 5 ints
  Stat out = decode_record<Stat>(enc);
  EXPECT_EQ(out.czxid, in.czxid);
  EXPECT_EQ(out.mzxid, in.mzxid);
  EXPECT_EQ(out.ctime, in.ctime);
  EXPECT_EQ(out.mtime, in.mtime);
  EXPECT_EQ(out.version, in.version);
  EXPECT_EQ(out.cversion, in.cversion);
  EXPECT_EQ(out.aversion, in.aversion);
  EXPECT_EQ(out.ephemeral_owner, in.ephemeral_owner);
  EXPECT_EQ(out.data_length, in.data_length);
  EXPECT_EQ(out.num_children, in.num_children);
  EXPECT_EQ(out.pzxid, in.pzxid);
  EXPECT_EQ(out, in);
  expect_record_prefixes_throw<Stat>(enc);
}

ConnectRequest sample_connect_request() {
  ConnectRequest in;
  in.protocol_version = 1;
  in.last_zxid_seen = 0x0000000500000006LL;
  in.timeout_ms = 30000;
  in.session_id = 0x0100000000abcdefLL;
  in.passwd = std::string("\x01\x02\x00\xff secret bytes!", 18);
  in.read_only = true;
  return in;
}

TEST(RecordsRoundTrip, ConnectRequest) {
  ConnectRequest in = sample_connect_request();
  std::string enc = encode_record(in);
  ConnectRequest out = decode_record<ConnectRequest>(enc);
  EXPECT_EQ(out.protocol_version, 1);
  EXPECT_EQ(out.last_zxid_seen, in.last_zxid_seen);
  EXPECT_EQ(out.timeout_ms, 30000);
  EXPECT_EQ(out.session_id, in.session_id);
  EXPECT_EQ(out.passwd, in.passwd);
  EXPECT_TRUE(out.read_only);
  // Only dropping the optional readOnly byte leaves a decodable record.
  expect_record_prefixes_throw<ConnectRequest>(enc, enc.size() - 1);
}

TEST(RecordsRoundTrip, ConnectRequestWithoutReadOnlyByte) {
  // Old clients (and Apache's C client before it appends the flag) stop after passwd.
  ConnectRequest in = sample_connect_request();
  std::string enc = encode_record(in);
  enc.pop_back();
  ConnectRequest out = decode_record<ConnectRequest>(enc);
  EXPECT_EQ(out.protocol_version, 1);
  EXPECT_EQ(out.last_zxid_seen, in.last_zxid_seen);
  EXPECT_EQ(out.timeout_ms, 30000);
  EXPECT_EQ(out.session_id, in.session_id);
  EXPECT_EQ(out.passwd, in.passwd);
  EXPECT_FALSE(out.read_only);
}

TEST(RecordsRoundTrip, ConnectResponse) {
  ConnectResponse in;
  in.protocol_version = 2;
  in.timeout_ms = 4000;
  in.session_id = 0x0200000000001234LL;
  in.passwd = std::string(16, '\x7e');
  in.read_only = true;
  std::string enc = encode_record(in);
  ConnectResponse out = decode_record<ConnectResponse>(enc);
  EXPECT_EQ(out.protocol_version, 2);
  EXPECT_EQ(out.timeout_ms, 4000);
  EXPECT_EQ(out.session_id, in.session_id);
  EXPECT_EQ(out.passwd, in.passwd);
  EXPECT_TRUE(out.read_only);
  expect_record_prefixes_throw<ConnectResponse>(enc, enc.size() - 1);

  enc.pop_back();  // servers before 3.4 do not send readOnly
  ConnectResponse old = decode_record<ConnectResponse>(enc);
  EXPECT_EQ(old.session_id, in.session_id);
  EXPECT_EQ(old.passwd, in.passwd);
  EXPECT_FALSE(old.read_only);
}

TEST(RecordsRoundTrip, RequestHeader) {
  RequestHeader in;
  in.xid = 0x01020304;
  in.type = static_cast<int32_t>(OpCode::kCreateTtl);
  std::string enc = encode_record(in);
  EXPECT_EQ(enc, bytes({1, 2, 3, 4, 0, 0, 0, 21}));
  RequestHeader out = decode_record<RequestHeader>(enc);
  EXPECT_EQ(out.xid, 0x01020304);
  EXPECT_EQ(out.type, 21);
  expect_record_prefixes_throw<RequestHeader>(enc);
}

TEST(RecordsRoundTrip, ReplyHeader) {
  ReplyHeader in;
  in.xid = 77;
  in.zxid = 0x0000000a0000000bLL;
  in.err = static_cast<int32_t>(ErrorCode::kNodeExists);
  std::string enc = encode_record(in);
  ReplyHeader out = decode_record<ReplyHeader>(enc);
  EXPECT_EQ(out.xid, 77);
  EXPECT_EQ(out.zxid, in.zxid);
  EXPECT_EQ(out.err, -110);
  expect_record_prefixes_throw<ReplyHeader>(enc);
}

TEST(RecordsRoundTrip, MultiHeader) {
  MultiHeader in;
  in.type = static_cast<int32_t>(OpCode::kSetData);
  in.done = true;
  in.err = static_cast<int32_t>(ErrorCode::kBadVersion);
  std::string enc = encode_record(in);
  MultiHeader out = decode_record<MultiHeader>(enc);
  EXPECT_EQ(out.type, 5);
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.err, -103);
  expect_record_prefixes_throw<MultiHeader>(enc);
}

TEST(RecordsRoundTrip, AuthPacket) {
  AuthPacket in;
  in.type = 3;
  in.scheme = "digest";
  in.auth = std::string("user:pa\0ss", 10);
  std::string enc = encode_record(in);
  AuthPacket out = decode_record<AuthPacket>(enc);
  EXPECT_EQ(out.type, 3);
  EXPECT_EQ(out.scheme, "digest");
  EXPECT_EQ(out.auth, in.auth);
  expect_record_prefixes_throw<AuthPacket>(enc);
}

TEST(RecordsRoundTrip, PathWatchRequest) {
  PathWatchRequest in;
  in.path = "/watched/node";
  in.watch = true;
  std::string enc = encode_record(in);
  PathWatchRequest out = decode_record<PathWatchRequest>(enc);
  EXPECT_EQ(out.path, "/watched/node");
  EXPECT_TRUE(out.watch);
  expect_record_prefixes_throw<PathWatchRequest>(enc);
}

TEST(RecordsRoundTrip, PathRequest) {
  PathRequest in;
  in.path = "/some/path";
  std::string enc = encode_record(in);
  EXPECT_EQ(decode_record<PathRequest>(enc).path, "/some/path");
  expect_record_prefixes_throw<PathRequest>(enc);
}

CreateRequest sample_create_request() {
  CreateRequest in;
  in.path = "/app/task-";
  in.data = std::string("payload\0\xff", 9);
  in.data_null = false;
  in.acl = sample_acls();
  in.flags = static_cast<int32_t>(CreateMode::kPersistentSequentialWithTtl);
  in.ttl = 86400000LL * 365;
  return in;
}

TEST(RecordsRoundTrip, CreateRequest) {
  CreateRequest in = sample_create_request();
  std::string enc = encode([&](JuteWriter& w) { in.write(w, false); });
  CreateRequest out =
      decode_all(enc, [](JuteReader& r) { return CreateRequest::read(r, /*with_ttl=*/false); });
  EXPECT_EQ(out.path, in.path);
  EXPECT_EQ(out.data, in.data);
  EXPECT_FALSE(out.data_null);
  EXPECT_EQ(out.acl, in.acl);
  EXPECT_EQ(out.flags, in.flags);
  EXPECT_EQ(out.ttl, 0) << "ttl is not on the wire without with_ttl";
  expect_prefixes_throw(enc, [](JuteReader& r) { CreateRequest::read(r, false); });
}

TEST(RecordsRoundTrip, CreateTtlRequest) {
  CreateRequest in = sample_create_request();
  std::string enc = encode([&](JuteWriter& w) { in.write(w, true); });
  std::string without = encode([&](JuteWriter& w) { in.write(w, false); });
  EXPECT_EQ(enc.size(), without.size() + 8);
  EXPECT_EQ(enc.substr(0, without.size()), without);
  CreateRequest out =
      decode_all(enc, [](JuteReader& r) { return CreateRequest::read(r, /*with_ttl=*/true); });
  EXPECT_EQ(out.path, in.path);
  EXPECT_EQ(out.data, in.data);
  EXPECT_FALSE(out.data_null);
  EXPECT_EQ(out.acl, in.acl);
  EXPECT_EQ(out.flags, in.flags);
  EXPECT_EQ(out.ttl, in.ttl);
  expect_prefixes_throw(enc, [](JuteReader& r) { CreateRequest::read(r, true); });
}

TEST(RecordsRoundTrip, CreateRequestNullAndEmptyData) {
  CreateRequest in;
  in.path = "/n";
  in.data_null = true;
  in.acl = {{perms::kAll, {"world", "anyone"}}};
  std::string enc = encode([&](JuteWriter& w) { in.write(w, false); });
  EXPECT_EQ(enc.substr(6, 4), bytes({0xff, 0xff, 0xff, 0xff}));
  CreateRequest out = decode_all(enc, [](JuteReader& r) { return CreateRequest::read(r, false); });
  EXPECT_TRUE(out.data_null);
  EXPECT_EQ(out.data, "");

  in.data_null = false;  // empty but not null
  enc = encode([&](JuteWriter& w) { in.write(w, false); });
  EXPECT_EQ(enc.substr(6, 4), bytes({0, 0, 0, 0}));
  out = decode_all(enc, [](JuteReader& r) { return CreateRequest::read(r, false); });
  EXPECT_FALSE(out.data_null);
  EXPECT_EQ(out.data, "");
}

TEST(RecordsRoundTrip, PathVersionRequest) {
  PathVersionRequest in;
  in.path = "/to/delete";
  in.version = 42;
  std::string enc = encode_record(in);
  PathVersionRequest out = decode_record<PathVersionRequest>(enc);
  EXPECT_EQ(out.path, "/to/delete");
  EXPECT_EQ(out.version, 42);
  expect_record_prefixes_throw<PathVersionRequest>(enc);
}

TEST(RecordsRoundTrip, SetDataRequest) {
  SetDataRequest in;
  in.path = "/cfg";
  in.data = "new contents";
  in.version = 5;
  std::string enc = encode_record(in);
  SetDataRequest out = decode_record<SetDataRequest>(enc);
  EXPECT_EQ(out.path, "/cfg");
  EXPECT_EQ(out.data, "new contents");
  EXPECT_FALSE(out.data_null);
  EXPECT_EQ(out.version, 5);
  expect_record_prefixes_throw<SetDataRequest>(enc);

  in.data.clear();
  in.data_null = true;
  in.version = -1;
  enc = encode_record(in);
  EXPECT_EQ(
      enc, bytes({0, 0, 0, 4, '/', 'c', 'f', 'g', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  out = decode_record<SetDataRequest>(enc);
  EXPECT_TRUE(out.data_null);
  EXPECT_EQ(out.data, "");
  EXPECT_EQ(out.version, -1);
}

TEST(RecordsRoundTrip, ReconfigRequestKeepsNullApartFromEmpty) {
  // kazoo and ZooKeeperAdmin send an absent argument as a null string (length -1).
  ReconfigRequest in;
  in.joining = "server.100=0.0.0.0:1:2:observer;3";
  in.leaving = "";
  in.cur_config_id = 0x100000003LL;
  std::string enc = encode_record(in);
  ReconfigRequest out = decode_record<ReconfigRequest>(enc);
  EXPECT_EQ(out.joining, in.joining);
  EXPECT_EQ(out.leaving, std::optional<std::string>(""));
  EXPECT_EQ(out.new_members, std::nullopt);
  EXPECT_EQ(out.cur_config_id, 0x100000003LL);
  expect_record_prefixes_throw<ReconfigRequest>(enc);
}

TEST(RecordsBytes, ReconfigRequest) {
  ReconfigRequest in;
  in.leaving = "2";
  EXPECT_EQ(encode_record(in),
            bytes({0xff, 0xff, 0xff, 0xff, 0,    0,    0,    1,   '2', 0xff, 0xff, 0xff, 0xff,  //
                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(RecordsDecodeError, ReconfigRequestWithABadLengthThrows) {
  std::string enc = bytes({0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0,    0,    0,    0,    0,    0,    0,    1});
  JuteReader r(enc);
  EXPECT_THROW(ReconfigRequest::read(r), DecodeError);
}

TEST(RecordsRoundTrip, SetAclRequest) {
  SetAclRequest in;
  in.path = "/secure";
  in.acl = sample_acls();
  in.version = 3;
  std::string enc = encode_record(in);
  SetAclRequest out = decode_record<SetAclRequest>(enc);
  EXPECT_EQ(out.path, "/secure");
  EXPECT_EQ(out.acl, in.acl);
  EXPECT_EQ(out.version, 3);
  expect_record_prefixes_throw<SetAclRequest>(enc);
}

SetWatchesRequest sample_set_watches() {
  SetWatchesRequest in;
  in.relative_zxid = 0x0000000700000008LL;
  in.data_watches = {"/d1", "/d2"};
  in.exist_watches = {"/e1"};
  in.child_watches = {"/c1", "/c2", "/c3"};
  in.persistent_watches = {"/p1"};
  in.persistent_recursive_watches = {"/r1", "/r2"};
  return in;
}

TEST(RecordsRoundTrip, SetWatches) {
  SetWatchesRequest in = sample_set_watches();
  std::string enc = encode([&](JuteWriter& w) { in.write(w, /*v2=*/false); });
  SetWatchesRequest out =
      decode_all(enc, [](JuteReader& r) { return SetWatchesRequest::read(r, false); });
  EXPECT_EQ(out.relative_zxid, in.relative_zxid);
  EXPECT_EQ(out.data_watches, in.data_watches);
  EXPECT_EQ(out.exist_watches, in.exist_watches);
  EXPECT_EQ(out.child_watches, in.child_watches);
  EXPECT_TRUE(out.persistent_watches.empty());
  EXPECT_TRUE(out.persistent_recursive_watches.empty());
  expect_prefixes_throw(enc, [](JuteReader& r) { SetWatchesRequest::read(r, false); });
}

TEST(RecordsRoundTrip, SetWatches2) {
  SetWatchesRequest in = sample_set_watches();
  std::string enc = encode([&](JuteWriter& w) { in.write(w, /*v2=*/true); });
  SetWatchesRequest out =
      decode_all(enc, [](JuteReader& r) { return SetWatchesRequest::read(r, true); });
  EXPECT_EQ(out.relative_zxid, in.relative_zxid);
  EXPECT_EQ(out.data_watches, in.data_watches);
  EXPECT_EQ(out.exist_watches, in.exist_watches);
  EXPECT_EQ(out.child_watches, in.child_watches);
  EXPECT_EQ(out.persistent_watches, in.persistent_watches);
  EXPECT_EQ(out.persistent_recursive_watches, in.persistent_recursive_watches);
  expect_prefixes_throw(enc, [](JuteReader& r) { SetWatchesRequest::read(r, true); });
}

TEST(RecordsRoundTrip, PathIntRequest) {
  PathIntRequest in;
  in.path = "/watch/me";
  in.value = static_cast<int32_t>(AddWatchMode::kPersistentRecursive);
  std::string enc = encode_record(in);
  PathIntRequest out = decode_record<PathIntRequest>(enc);
  EXPECT_EQ(out.path, "/watch/me");
  EXPECT_EQ(out.value, 1);
  expect_record_prefixes_throw<PathIntRequest>(enc);
}

TEST(RecordsRoundTrip, WatcherEvent) {
  WatcherEvent in;
  in.type = static_cast<int32_t>(EventType::kNodeChildrenChanged);
  in.state = static_cast<int32_t>(KeeperState::kSyncConnected);
  in.path = "/parent";
  std::string enc = encode_record(in);
  WatcherEvent out = decode_record<WatcherEvent>(enc);
  EXPECT_EQ(out.type, 4);
  EXPECT_EQ(out.state, 3);
  EXPECT_EQ(out.path, "/parent");
  expect_record_prefixes_throw<WatcherEvent>(enc);
}

TEST(RecordsRoundTrip, ClientInfo) {
  ClientInfo in;
  in.auth_scheme = "sasl";
  in.user = "alice@EXAMPLE.COM";
  std::string enc = encode_record(in);
  ClientInfo out = decode_record<ClientInfo>(enc);
  EXPECT_EQ(out.auth_scheme, "sasl");
  EXPECT_EQ(out.user, "alice@EXAMPLE.COM");
  expect_record_prefixes_throw<ClientInfo>(enc);
}

// ---------------------------------------------------------------------------
// Exact bytes, computed by hand from zookeeper.jute.

TEST(RecordsBytes, ReplyHeader) {
  ReplyHeader h;
  h.xid = 5;
  h.zxid = int64_t{1} << 32 | 2;
  h.err = static_cast<int32_t>(ErrorCode::kNoNode);
  EXPECT_EQ(encode_record(h), bytes({0, 0, 0, 5,                 // xid
                                     0, 0, 0, 1, 0, 0, 0, 2,     // zxid
                                     0xff, 0xff, 0xff, 0x9b}));  // err -101
}

TEST(RecordsBytes, ConnectRequest) {
  // What a 3.x Java client sends for a new session: 45 bytes (49 with the frame length).
  ConnectRequest c;
  c.protocol_version = 0;
  c.last_zxid_seen = 0x10;
  c.timeout_ms = 30000;
  c.session_id = 0;
  c.passwd = std::string(16, '\0');
  c.read_only = false;
  std::string expected = bytes({0, 0, 0,    0,                    // protocolVersion
                                0, 0, 0,    0,    0, 0, 0, 0x10,  // lastZxidSeen
                                0, 0, 0x75, 0x30,                 // timeOut 30000
                                0, 0, 0,    0,    0, 0, 0, 0,     // sessionId
                                0, 0, 0,    16});                 // passwd length
  expected += std::string(16, '\0');
  expected += bytes({0});  // readOnly
  ASSERT_EQ(expected.size(), 45u);
  EXPECT_EQ(encode_record(c), expected);

  // A pre-3.4 client's 44 bytes decode too.
  ConnectRequest old = decode_record<ConnectRequest>(expected.substr(0, 44));
  EXPECT_EQ(old.timeout_ms, 30000);
  EXPECT_EQ(old.last_zxid_seen, 0x10);
  EXPECT_EQ(old.passwd, std::string(16, '\0'));
  EXPECT_FALSE(old.read_only);
}

TEST(RecordsBytes, ConnectResponse) {
  ConnectResponse c;
  c.protocol_version = 0;
  c.timeout_ms = 4000;
  c.session_id = 0x0100000000000abcLL;
  for (int i = 1; i <= 16; ++i) c.passwd.push_back(static_cast<char>(i));
  c.read_only = true;
  std::string expected =
      bytes({0, 0, 0,    0,                       // protocolVersion
             0, 0, 0x0f, 0xa0,                    // timeOut 4000
             1, 0, 0,    0,    0, 0, 0x0a, 0xbc,  // sessionId
             0, 0, 0,    16,                      // passwd length
             1, 2, 3,    4,    5, 6, 7,    8,    9, 10, 11, 12, 13, 14, 15, 16, 1});  // readOnly
  EXPECT_EQ(encode_record(c), expected);
}

TEST(RecordsBytes, CreateRequest) {
  CreateRequest c;
  c.path = "/a";
  c.data = "xy";
  c.acl = {{perms::kAll, {"world", "anyone"}}};
  c.flags = static_cast<int32_t>(CreateMode::kEphemeralSequential);
  c.ttl = 1000;
  std::string expected = bytes({0, 0, 0, 2,  '/', 'a',                      // path
                                0, 0, 0, 2,  'x', 'y',                      // data
                                0, 0, 0, 1,                                 // acl count
                                0, 0, 0, 31,                                // perms
                                0, 0, 0, 5,  'w', 'o', 'r', 'l', 'd',       // scheme
                                0, 0, 0, 6,  'a', 'n', 'y', 'o', 'n', 'e',  // id
                                0, 0, 0, 3});                               // flags
  EXPECT_EQ(encode([&](JuteWriter& w) { c.write(w, false); }), expected);
  EXPECT_EQ(encode([&](JuteWriter& w) { c.write(w, true); }),
            expected + bytes({0, 0, 0, 0, 0, 0, 0x03, 0xe8}));
}

TEST(RecordsBytes, WatcherEvent) {
  WatcherEvent e;
  e.type = static_cast<int32_t>(EventType::kNodeDataChanged);
  e.state = static_cast<int32_t>(KeeperState::kSyncConnected);
  e.path = "/n";
  EXPECT_EQ(encode_record(e), bytes({0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 2, '/', 'n'}));
}

TEST(RecordsBytes, MultiHeaderEndMarker) {
  // The end of a multi: type -1, done true, err -1.
  MultiHeader h;
  h.type = -1;
  h.done = true;
  h.err = -1;
  EXPECT_EQ(encode_record(h), bytes({0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff}));
}

TEST(RecordsBytes, SetWatchesV1) {
  SetWatchesRequest s;
  s.relative_zxid = 9;
  s.data_watches = {"/d"};
  s.persistent_watches = {"/ignored-in-v1"};
  EXPECT_EQ(encode([&](JuteWriter& w) { s.write(w, false); }),
            bytes({0, 0, 0, 0, 0, 0, 0, 9,                        // relativeZxid
                   0, 0, 0, 1, 0, 0, 0, 2, '/', 'd', 0, 0, 0, 0,  // existWatches
                   0, 0, 0, 0}));                                 // childWatches
}

// ---------------------------------------------------------------------------
// Hostile input.

TEST(RecordsDecodeError, HugeAclCountThrowsBeforeAllocating) {
  std::string in = encode([](JuteWriter& w) {
    w.string("/a");
    w.buffer("");
    w.int32(1000000000);  // acl count
    w.int32(31);
    w.int32(0);
  });
  JuteReader r(in);
  EXPECT_THROW(CreateRequest::read(r, false), DecodeError);
  std::string only_count = encode([](JuteWriter& w) {
    w.int32(INT32_MAX);
    for (int i = 0; i < 4; ++i) w.int32(0);
  });
  JuteReader r2(only_count);
  EXPECT_THROW(read_acls(r2), DecodeError);
}

TEST(RecordsDecodeError, HugeStringCountThrowsBeforeAllocating) {
  std::string in = encode([](JuteWriter& w) {
    w.int32(1000000000);
    for (int i = 0; i < 4; ++i) w.int32(0);
  });
  ASSERT_EQ(in.size(), 20u);
  JuteReader r(in);
  EXPECT_THROW(read_strings(r), DecodeError);

  std::string sw = encode([](JuteWriter& w) {
    w.int64(0);
    w.int32(0);
    w.int32(0);
    w.int32(1000000000);
  });
  JuteReader r2(sw);
  EXPECT_THROW(SetWatchesRequest::read(r2, false), DecodeError);
}

TEST(RecordsDecodeError, NegativeCountsAndLengths) {
  std::string neg_count = encode([](JuteWriter& w) { w.int32(-2); });
  JuteReader r(neg_count);
  EXPECT_THROW(read_acls(r), DecodeError);
  JuteReader r2(neg_count);
  EXPECT_THROW(read_strings(r2), DecodeError);

  std::string neg_path = encode([](JuteWriter& w) {
    w.int32(-5);
    w.boolean(true);
  });
  JuteReader r3(neg_path);
  EXPECT_THROW(PathWatchRequest::read(r3), DecodeError);
}

TEST(RecordsDecode, NullVectorsAndStringsReadAsEmpty) {
  std::string in = encode([](JuteWriter& w) {
    w.int64(1);
    w.int32(-1);  // null dataWatches
    w.int32(1);
    w.null_buffer();  // a null string inside existWatches
    w.int32(-1);      // null childWatches
  });
  SetWatchesRequest s =
      decode_all(in, [](JuteReader& r) { return SetWatchesRequest::read(r, false); });
  EXPECT_EQ(s.relative_zxid, 1);
  EXPECT_TRUE(s.data_watches.empty());
  EXPECT_EQ(s.exist_watches, std::vector<std::string>{""});
  EXPECT_TRUE(s.child_watches.empty());

  std::string acl = encode([](JuteWriter& w) {
    w.string("/x");
    w.int32(-1);  // null acl vector
    w.int32(0);
  });
  SetAclRequest a = decode_record<SetAclRequest>(acl);
  EXPECT_TRUE(a.acl.empty());
}

// ---------------------------------------------------------------------------
// Protocol constants.

TEST(Protocol, ErrorNames) {
  EXPECT_EQ(error_name(ErrorCode::kOk), "ZOK");
  EXPECT_EQ(error_name(ErrorCode::kNoNode), "ZNONODE");
  EXPECT_EQ(error_name(ErrorCode::kNodeExists), "ZNODEEXISTS");
  EXPECT_EQ(error_name(ErrorCode::kBadVersion), "ZBADVERSION");
  EXPECT_EQ(error_name(ErrorCode::kNotEmpty), "ZNOTEMPTY");
  EXPECT_EQ(error_name(ErrorCode::kSessionExpired), "ZSESSIONEXPIRED");
  EXPECT_EQ(error_name(ErrorCode::kNoAuth), "ZNOAUTH");
  EXPECT_EQ(error_name(ErrorCode::kInvalidAcl), "ZINVALIDACL");
  EXPECT_EQ(error_name(ErrorCode::kNoChildrenForEphemerals), "ZNOCHILDRENFOREPHEMERALS");
  EXPECT_EQ(error_name(ErrorCode::kBadArguments), "ZBADARGUMENTS");
  EXPECT_EQ(error_name(ErrorCode::kMarshallingError), "ZMARSHALLINGERROR");
  EXPECT_EQ(error_name(ErrorCode::kThrottledOp), "ZTHROTTLEDOP");
  EXPECT_EQ(error_name(static_cast<ErrorCode>(-101)), "ZNONODE");
  EXPECT_EQ(error_name(static_cast<ErrorCode>(-110)), "ZNODEEXISTS");
  EXPECT_EQ(error_name(static_cast<ErrorCode>(-103)), "ZBADVERSION");
  // Codes ZooKeeper does not define get a recognisable name, not a crash.
  EXPECT_TRUE(error_name(static_cast<ErrorCode>(-9999)).starts_with("ZUNKNOWN"));
  EXPECT_TRUE(error_name(static_cast<ErrorCode>(1)).starts_with("ZUNKNOWN"));
}

TEST(Protocol, ErrorCodeValues) {
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoNode), -101);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNodeExists), -110);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kBadVersion), -103);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNotEmpty), -111);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kSessionExpired), -112);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kConnectionLoss), -4);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoWatcher), -121);
}

TEST(Protocol, OpCodeValues) {
  // ZooDefs.OpCode, including those the C client's proto.h does not define.
  EXPECT_EQ(static_cast<int32_t>(OpCode::kMultiRead), 22);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kGetEphemerals), 103);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kGetAllChildrenNumber), 104);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kSetWatches2), 105);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kAddWatch), 106);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kWhoAmI), 107);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCreateSession), -10);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kError), -1);
}

TEST(Protocol, ZooDefsValues) {
  // ZooDefs.Perms, CreateMode, Watcher.Event.EventType and KeeperState as Java sends them.
  // (The C client's own ZOO_*_STATE constants differ, e.g. ZOO_AUTH_FAILED_STATE is -113;
  // the wire carries the Java values.)
  EXPECT_EQ(perms::kRead, 1);
  EXPECT_EQ(perms::kWrite, 2);
  EXPECT_EQ(perms::kCreate, 4);
  EXPECT_EQ(perms::kDelete, 8);
  EXPECT_EQ(perms::kAdmin, 16);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::kPersistent), 0);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::kEphemeralSequential), 3);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::kContainer), 4);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::kPersistentWithTtl), 5);
  EXPECT_EQ(static_cast<int32_t>(CreateMode::kPersistentSequentialWithTtl), 6);
  EXPECT_EQ(static_cast<int32_t>(EventType::kNodeCreated), 1);
  EXPECT_EQ(static_cast<int32_t>(EventType::kNodeChildrenChanged), 4);
  EXPECT_EQ(static_cast<int32_t>(EventType::kPersistentWatchRemoved), 7);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::kDisconnected), 0);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::kSyncConnected), 3);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::kAuthFailed), 4);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::kConnectedReadOnly), 5);
  EXPECT_EQ(static_cast<int32_t>(WatcherType::kPersistentRecursive), 5);
}

TEST(Protocol, OtherConstants) {
  EXPECT_EQ(perms::kAll,
            perms::kRead | perms::kWrite | perms::kCreate | perms::kDelete | perms::kAdmin);
  EXPECT_EQ(kNotificationXid, -1);
  EXPECT_EQ(kPingXid, -2);
  EXPECT_EQ(kAuthXid, -4);
  EXPECT_EQ(kSetWatchesXid, -8);
  EXPECT_EQ(kDefaultMaxBuffer, 1024 * 1024 - 1);
  EXPECT_EQ(static_cast<int32_t>(KeeperState::kExpired), -112);
  EXPECT_EQ(static_cast<int32_t>(EventType::kNone), -1);
}

#ifdef CORRAL_HAVE_ZOOKEEPER_C

// ---------------------------------------------------------------------------
// The same records as serialized by Apache ZooKeeper's C client.

TEST(ApacheCCompat, OpCodesMatchProtoH) {
  EXPECT_EQ(static_cast<int32_t>(OpCode::kNotification), ZOO_NOTIFY_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCreate), ZOO_CREATE_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kDelete), ZOO_DELETE_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kExists), ZOO_EXISTS_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kGetData), ZOO_GETDATA_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kSetData), ZOO_SETDATA_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kGetAcl), ZOO_GETACL_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kSetAcl), ZOO_SETACL_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kGetChildren), ZOO_GETCHILDREN_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kSync), ZOO_SYNC_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kPing), ZOO_PING_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kGetChildren2), ZOO_GETCHILDREN2_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCheck), ZOO_CHECK_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kMulti), ZOO_MULTI_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCreate2), ZOO_CREATE2_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kReconfig), ZOO_RECONFIG_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCheckWatches), ZOO_CHECK_WATCHES);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kRemoveWatches), ZOO_REMOVE_WATCHES);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCreateContainer), ZOO_CREATE_CONTAINER_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kDeleteContainer), ZOO_DELETE_CONTAINER_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCreateTtl), ZOO_CREATE_TTL_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCloseSession), ZOO_CLOSE_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kAuth), ZOO_SETAUTH_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kSetWatches), ZOO_SETWATCHES_OP);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kSasl), ZOO_SASL_OP);
}

TEST(ApacheCCompat, ErrorCodesMatchZookeeperH) {
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kOk), ZOK);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kSystemError), ZSYSTEMERROR);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kRuntimeInconsistency), ZRUNTIMEINCONSISTENCY);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kDataInconsistency), ZDATAINCONSISTENCY);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kConnectionLoss), ZCONNECTIONLOSS);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kMarshallingError), ZMARSHALLINGERROR);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kUnimplemented), ZUNIMPLEMENTED);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kOperationTimeout), ZOPERATIONTIMEOUT);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kBadArguments), ZBADARGUMENTS);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNewConfigNoQuorum), ZNEWCONFIGNOQUORUM);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kReconfigInProgress), ZRECONFIGINPROGRESS);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kApiError), ZAPIERROR);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoNode), ZNONODE);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoAuth), ZNOAUTH);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kBadVersion), ZBADVERSION);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoChildrenForEphemerals), ZNOCHILDRENFOREPHEMERALS);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNodeExists), ZNODEEXISTS);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNotEmpty), ZNOTEMPTY);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kSessionExpired), ZSESSIONEXPIRED);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kInvalidCallback), ZINVALIDCALLBACK);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kInvalidAcl), ZINVALIDACL);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kAuthFailed), ZAUTHFAILED);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kClosing), ZCLOSING);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNothing), ZNOTHING);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kSessionMoved), ZSESSIONMOVED);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNotReadOnly), ZNOTREADONLY);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kEphemeralOnLocalSession), ZEPHEMERALONLOCALSESSION);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoWatcher), ZNOWATCHER);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kReconfigDisabled), ZRECONFIGDISABLED);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kSessionClosedRequireSaslAuth),
            ZSESSIONCLOSEDREQUIRESASLAUTH);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kThrottledOp), ZTHROTTLEDOP);
}

TEST(ApacheCCompat, WatcherTypesMatchZookeeperH) {
  EXPECT_EQ(static_cast<int32_t>(WatcherType::kChildren), ZWATCHTYPE_CHILD);
  EXPECT_EQ(static_cast<int32_t>(WatcherType::kData), ZWATCHTYPE_DATA);
  EXPECT_EQ(static_cast<int32_t>(WatcherType::kAny), ZWATCHTYPE_ANY);
}

// Runs one of the C client's serialize_* functions into a fresh buffer archive.
template <class CRecord>
std::string c_serialize(int (*serialize)(struct oarchive*, const char*, CRecord*), CRecord* v,
                        bool then_bool = false, int32_t bool_value = 0) {
  struct oarchive* oa = create_buffer_oarchive();
  EXPECT_EQ(serialize(oa, "rec", v), 0);
  if (then_bool) {
    EXPECT_EQ(oa->serialize_Bool(oa, "readOnly", &bool_value), 0);
  }
  std::string out(get_buffer(oa), static_cast<size_t>(get_buffer_len(oa)));
  close_buffer_oarchive(&oa, 1);
  return out;
}

// Views over our records' storage in the C client's structs. The C structs hold
// non-const char*; the serializers only read through them.
char* c_str(const std::string& s) { return const_cast<char*>(s.c_str()); }

struct ::buffer c_buf(const std::string& s) {
  return {static_cast<int32_t>(s.size()), const_cast<char*>(s.data())};
}

struct CAcls {
  std::vector<struct ::ACL> items;
  struct ::ACL_vector vec;
  explicit CAcls(const AclList& acls) {
    for (const auto& a : acls) items.push_back({a.perms, {c_str(a.id.scheme), c_str(a.id.id)}});
    vec = {static_cast<int32_t>(items.size()), items.data()};
  }
};

struct CStrings {
  std::vector<char*> items;
  struct ::String_vector vec;
  explicit CStrings(const std::vector<std::string>& v) {
    for (const auto& s : v) items.push_back(c_str(s));
    vec = {static_cast<int32_t>(items.size()), items.data()};
  }
};

struct ::Stat c_stat(const Stat& s) {
  return {s.czxid,    s.mzxid,           s.ctime,       s.mtime,        s.version, s.cversion,
          s.aversion, s.ephemeral_owner, s.data_length, s.num_children, s.pzxid};
}

TEST(ApacheCCompat, Id) {
  Id ours{"digest", "bob:aGFzaA=="};
  struct ::Id theirs = {c_str(ours.scheme), c_str(ours.id)};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_Id, &theirs));
}

TEST(ApacheCCompat, AclVector) {
  AclList ours = sample_acls();
  CAcls theirs(ours);
  std::string c = c_serialize(serialize_ACL_vector, &theirs.vec);
  EXPECT_EQ(encode([&](JuteWriter& w) { write_acls(w, ours); }), c);
  EXPECT_EQ(encode_record(ours[1]), c_serialize(serialize_ACL, &theirs.items[1]));
  EXPECT_EQ(decode_all(c, read_acls), ours);
}

TEST(ApacheCCompat, StringVector) {
  std::vector<std::string> ours = {"/a", "", "/日本/x"};
  CStrings theirs(ours);
  std::string c = c_serialize(serialize_String_vector, &theirs.vec);
  EXPECT_EQ(encode([&](JuteWriter& w) { write_strings(w, ours); }), c);
  EXPECT_EQ(decode_all(c, read_strings), ours);
}

TEST(ApacheCCompat, Stat) {
  Stat ours = sample_stat();
  struct ::Stat theirs = c_stat(ours);
  std::string c = c_serialize(serialize_Stat, &theirs);
  EXPECT_EQ(encode_record(ours), c);
  EXPECT_EQ(decode_record<Stat>(c), ours);
}

TEST(ApacheCCompat, ReconfigRequest) {
  ReconfigRequest ours;
  ours.joining = "server.5=10.0.0.5:2888:3888;2181";
  ours.new_members = "";
  ours.cur_config_id = 0x200000001LL;
  struct ::ReconfigRequest theirs = {c_str(*ours.joining), nullptr, c_str(*ours.new_members),
                                     ours.cur_config_id};
  std::string c = c_serialize(serialize_ReconfigRequest, &theirs);
  EXPECT_EQ(encode_record(ours), c);
  ReconfigRequest back = decode_record<ReconfigRequest>(c);
  EXPECT_EQ(back.joining, ours.joining);
  EXPECT_EQ(back.leaving, std::nullopt);
  EXPECT_EQ(back.new_members, std::optional<std::string>(""));
}

TEST(ApacheCCompat, StatDeserializedByC) {
  // The other direction: Apache's deserializer reads exactly what we wrote.
  Stat ours = sample_stat();
  std::string enc = encode_record(ours);
  struct iarchive* ia = create_buffer_iarchive(enc.data(), static_cast<int>(enc.size()));
  struct ::Stat theirs {};
  ASSERT_EQ(deserialize_Stat(ia, "stat", &theirs), 0);
  close_buffer_iarchive(&ia);
  EXPECT_EQ(theirs.czxid, ours.czxid);
  EXPECT_EQ(theirs.mzxid, ours.mzxid);
  EXPECT_EQ(theirs.ctime, ours.ctime);
  EXPECT_EQ(theirs.mtime, ours.mtime);
  EXPECT_EQ(theirs.version, ours.version);
  EXPECT_EQ(theirs.cversion, ours.cversion);
  EXPECT_EQ(theirs.aversion, ours.aversion);
  EXPECT_EQ(theirs.ephemeralOwner, ours.ephemeral_owner);
  EXPECT_EQ(theirs.dataLength, ours.data_length);
  EXPECT_EQ(theirs.numChildren, ours.num_children);
  EXPECT_EQ(theirs.pzxid, ours.pzxid);
}

TEST(ApacheCCompat, ConnectRequest) {
  ConnectRequest ours = sample_connect_request();
  struct ::ConnectRequest theirs = {ours.protocol_version, ours.last_zxid_seen, ours.timeout_ms,
                                    ours.session_id, c_buf(ours.passwd)};
  // zookeeper.c sends the record and then the readOnly flag.
  std::string with_flag = c_serialize(serialize_ConnectRequest, &theirs, true, 1);
  EXPECT_EQ(encode_record(ours), with_flag);
  // Without the flag (the record as zookeeper.jute.h defines it) it still decodes.
  std::string without = c_serialize(serialize_ConnectRequest, &theirs);
  ConnectRequest back = decode_record<ConnectRequest>(without);
  EXPECT_EQ(back.session_id, ours.session_id);
  EXPECT_EQ(back.passwd, ours.passwd);
  EXPECT_FALSE(back.read_only);
}

TEST(ApacheCCompat, ConnectResponse) {
  ConnectResponse ours;
  ours.protocol_version = 0;
  ours.timeout_ms = 6000;
  ours.session_id = 0x0300000000000001LL;
  ours.passwd = std::string(16, '\x5c');
  ours.read_only = false;
  struct ::ConnectResponse theirs = {ours.protocol_version, ours.timeout_ms, ours.session_id,
                                     c_buf(ours.passwd)};
  std::string c = c_serialize(serialize_ConnectResponse, &theirs, true, 0);
  EXPECT_EQ(encode_record(ours), c);
}

TEST(ApacheCCompat, Headers) {
  RequestHeader rq{-8, static_cast<int32_t>(OpCode::kSetWatches)};
  struct ::RequestHeader c_rq = {rq.xid, rq.type};
  EXPECT_EQ(encode_record(rq), c_serialize(serialize_RequestHeader, &c_rq));

  ReplyHeader rp{-1, 0x0000000400000005LL, static_cast<int32_t>(ErrorCode::kNoNode)};
  struct ::ReplyHeader c_rp = {rp.xid, rp.zxid, rp.err};
  EXPECT_EQ(encode_record(rp), c_serialize(serialize_ReplyHeader, &c_rp));

  MultiHeader mh{static_cast<int32_t>(OpCode::kCheck), true, -103};
  struct ::MultiHeader c_mh = {mh.type, 1, mh.err};
  EXPECT_EQ(encode_record(mh), c_serialize(serialize_MultiHeader, &c_mh));
  mh.done = false;
  c_mh.done = 0;
  EXPECT_EQ(encode_record(mh), c_serialize(serialize_MultiHeader, &c_mh));
}

TEST(ApacheCCompat, AuthPacket) {
  AuthPacket ours{0, "digest", "user:password"};
  struct ::AuthPacket theirs = {ours.type, c_str(ours.scheme), c_buf(ours.auth)};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_AuthPacket, &theirs));
}

TEST(ApacheCCompat, PathWatchRequests) {
  PathWatchRequest ours{"/x/y", true};
  struct ::GetDataRequest get_data = {c_str(ours.path), 1};
  struct ::ExistsRequest exists = {c_str(ours.path), 1};
  struct ::GetChildren2Request children2 = {c_str(ours.path), 1};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_GetDataRequest, &get_data));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_ExistsRequest, &exists));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_GetChildren2Request, &children2));
  ours.watch = false;
  struct ::GetChildrenRequest children = {c_str(ours.path), 0};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_GetChildrenRequest, &children));
}

TEST(ApacheCCompat, PathRequests) {
  PathRequest ours{"/p/q"};
  struct ::SyncRequest sync = {c_str(ours.path)};
  struct ::GetACLRequest get_acl = {c_str(ours.path)};
  struct ::GetEphemeralsRequest ephemerals = {c_str(ours.path)};
  struct ::GetAllChildrenNumberRequest number = {c_str(ours.path)};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_SyncRequest, &sync));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_GetACLRequest, &get_acl));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_GetEphemeralsRequest, &ephemerals));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_GetAllChildrenNumberRequest, &number));
}

TEST(ApacheCCompat, CreateRequest) {
  CreateRequest ours = sample_create_request();
  CAcls acls(ours.acl);
  struct ::CreateRequest theirs = {c_str(ours.path), c_buf(ours.data), acls.vec, ours.flags};
  std::string c = c_serialize(serialize_CreateRequest, &theirs);
  EXPECT_EQ(encode([&](JuteWriter& w) { ours.write(w, false); }), c);
  CreateRequest back = decode_all(c, [](JuteReader& r) { return CreateRequest::read(r, false); });
  EXPECT_EQ(back.path, ours.path);
  EXPECT_EQ(back.data, ours.data);
  EXPECT_EQ(back.acl, ours.acl);
  EXPECT_EQ(back.flags, ours.flags);

  struct ::CreateTTLRequest ttl = {c_str(ours.path), c_buf(ours.data), acls.vec, ours.flags,
                                   ours.ttl};
  EXPECT_EQ(encode([&](JuteWriter& w) { ours.write(w, true); }),
            c_serialize(serialize_CreateTTLRequest, &ttl));
}

TEST(ApacheCCompat, CreateRequestNullData) {
  // zoo_create with value == NULL sends a buffer of length -1.
  CreateRequest ours;
  ours.path = "/null";
  ours.data_null = true;
  ours.acl = {{perms::kAll, {"world", "anyone"}}};
  ours.flags = 0;
  CAcls acls(ours.acl);
  struct ::CreateRequest theirs = {c_str(ours.path), {-1, nullptr}, acls.vec, 0};
  std::string c = c_serialize(serialize_CreateRequest, &theirs);
  EXPECT_EQ(encode([&](JuteWriter& w) { ours.write(w, false); }), c);
  CreateRequest back = decode_all(c, [](JuteReader& r) { return CreateRequest::read(r, false); });
  EXPECT_TRUE(back.data_null);
}

TEST(ApacheCCompat, PathVersionRequests) {
  PathVersionRequest ours{"/v", 12};
  struct ::DeleteRequest del = {c_str(ours.path), ours.version};
  struct ::CheckVersionRequest check = {c_str(ours.path), ours.version};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_DeleteRequest, &del));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_CheckVersionRequest, &check));
}

TEST(ApacheCCompat, SetDataRequest) {
  SetDataRequest ours;
  ours.path = "/d";
  ours.data = "value";
  ours.version = 4;
  struct ::SetDataRequest theirs = {c_str(ours.path), c_buf(ours.data), ours.version};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_SetDataRequest, &theirs));
  ours.data_null = true;
  ours.data.clear();
  theirs.data = {-1, nullptr};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_SetDataRequest, &theirs));
}

TEST(ApacheCCompat, SetAclRequest) {
  SetAclRequest ours;
  ours.path = "/acl";
  ours.acl = sample_acls();
  ours.version = 2;
  CAcls acls(ours.acl);
  struct ::SetACLRequest theirs = {c_str(ours.path), acls.vec, ours.version};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_SetACLRequest, &theirs));
}

TEST(ApacheCCompat, SetWatchesAndSetWatches2) {
  SetWatchesRequest ours = sample_set_watches();
  CStrings d(ours.data_watches), e(ours.exist_watches), c(ours.child_watches),
      p(ours.persistent_watches), pr(ours.persistent_recursive_watches);
  struct ::SetWatches v1 = {ours.relative_zxid, d.vec, e.vec, c.vec};
  struct ::SetWatches2 v2 = {ours.relative_zxid, d.vec, e.vec, c.vec, p.vec, pr.vec};
  EXPECT_EQ(encode([&](JuteWriter& w) { ours.write(w, false); }),
            c_serialize(serialize_SetWatches, &v1));
  std::string c2 = c_serialize(serialize_SetWatches2, &v2);
  EXPECT_EQ(encode([&](JuteWriter& w) { ours.write(w, true); }), c2);
  SetWatchesRequest back =
      decode_all(c2, [](JuteReader& r) { return SetWatchesRequest::read(r, true); });
  EXPECT_EQ(back.persistent_recursive_watches, ours.persistent_recursive_watches);
}

TEST(ApacheCCompat, PathIntRequests) {
  PathIntRequest ours{"/w", static_cast<int32_t>(WatcherType::kAny)};
  struct ::AddWatchRequest add = {c_str(ours.path), ours.value};
  struct ::CheckWatchesRequest check = {c_str(ours.path), ours.value};
  struct ::RemoveWatchesRequest remove = {c_str(ours.path), ours.value};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_AddWatchRequest, &add));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_CheckWatchesRequest, &check));
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_RemoveWatchesRequest, &remove));
}

TEST(ApacheCCompat, WatcherEvent) {
  WatcherEvent ours{static_cast<int32_t>(EventType::kNodeDeleted),
                    static_cast<int32_t>(KeeperState::kSyncConnected), "/gone"};
  struct ::WatcherEvent theirs = {ours.type, ours.state, c_str(ours.path)};
  std::string c = c_serialize(serialize_WatcherEvent, &theirs);
  EXPECT_EQ(encode_record(ours), c);
  WatcherEvent back = decode_record<WatcherEvent>(c);
  EXPECT_EQ(back.type, ours.type);
  EXPECT_EQ(back.state, ours.state);
  EXPECT_EQ(back.path, ours.path);
}

TEST(ApacheCCompat, ClientInfo) {
  ClientInfo ours{"ip", "127.0.0.1"};
  struct ::ClientInfo theirs = {c_str(ours.auth_scheme), c_str(ours.user)};
  EXPECT_EQ(encode_record(ours), c_serialize(serialize_ClientInfo, &theirs));
}

TEST(ApacheCCompat, NullStringFromCReadsAsEmpty) {
  struct ::WatcherEvent theirs = {-1, 3, nullptr};
  std::string c = c_serialize(serialize_WatcherEvent, &theirs);
  EXPECT_EQ(c, bytes({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff}));
  WatcherEvent back = decode_record<WatcherEvent>(c);
  EXPECT_EQ(back.path, "");
}

#endif  // CORRAL_HAVE_ZOOKEEPER_C

}  // namespace
}  // namespace corral::wire
