// ServerCore through in-memory links: requests are jute-encoded as a client
// would send them, and the frames the core sends back are decoded and checked.
#include "ensemble/server/server_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ensemble/tree/acl.h"
#include "tests/ensemble/fake_link.h"
#include "wire/jute.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::server {
namespace {

using namespace test;

using wire::CreateMode;
using wire::ErrorCode;
using wire::EventType;
using wire::OpCode;
namespace perms = wire::perms;

constexpr int64_t kStart = 1'700'000'000'000;
const wire::AclList kOpenAcl{{perms::kAll, {"world", "anyone"}}};

bool is_notification(const std::string& frame) {
  return parse_reply(frame).header.xid == wire::kNotificationXid;
}

wire::WatcherEvent parse_event(const Reply& rep) {
  EXPECT_EQ(rep.header.xid, wire::kNotificationXid);
  EXPECT_EQ(rep.header.zxid, -1);
  EXPECT_EQ(rep.header.err, 0);
  wire::JuteReader r(rep.body);
  wire::WatcherEvent e = wire::WatcherEvent::read(r);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(e.state, static_cast<int32_t>(wire::KeeperState::kSyncConnected));
  return e;
}

// (type, path) of a watch event, for compact comparisons.
struct Event {
  EventType type;
  std::string path;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{" << static_cast<int>(e.type) << ", " << e.path << "}";
}

BodyFn path_watch(const std::string& path, bool watch) {
  return [=](wire::JuteWriter& w) { wire::PathWatchRequest{path, watch}.write(w); };
}
BodyFn path_only(const std::string& path) {
  return [=](wire::JuteWriter& w) { wire::PathRequest{path}.write(w); };
}
BodyFn path_int(const std::string& path, int32_t value) {
  return [=](wire::JuteWriter& w) { wire::PathIntRequest{path, value}.write(w); };
}
BodyFn path_version(const std::string& path, int32_t version) {
  return [=](wire::JuteWriter& w) { wire::PathVersionRequest{path, version}.write(w); };
}

wire::CreateRequest create_request(const std::string& path, const std::string& data = "",
                                   CreateMode mode = CreateMode::kPersistent,
                                   wire::AclList acl = kOpenAcl, int64_t ttl = 0) {
  wire::CreateRequest req;
  req.path = path;
  req.data = data;
  req.acl = std::move(acl);
  req.flags = static_cast<int32_t>(mode);
  req.ttl = ttl;
  return req;
}

class ServerCoreTest : public ::testing::Test {
 protected:
  static ServerConfig make_config() {
    ServerConfig c;
    c.tick_ms = 2000;  // session timeouts within [4000, 40000]
    c.my_id = 3;
    c.container_check_interval_ms = 100;
    c.extended_types_enabled = true;
    c.super_digest = tree::digest_of("super:test");
    return c;
  }

  FakeLink& attach(const std::string& addr = "127.0.0.1") {
    links_.push_back(std::make_unique<FakeLink>(next_link_id_++, addr));
    core.attach(*links_.back(), now);
    return *links_.back();
  }

  // Sends a ConnectRequest; returns the ConnectResponse, if one came.
  std::optional<wire::ConnectResponse> handshake(FakeLink& l, int32_t timeout_ms,
                                                 int64_t session_id = 0,
                                                 std::string passwd = std::string(16, '\0'),
                                                 int64_t last_zxid_seen = 0) {
    size_t before = l.frames.size();
    core.on_frame(l, connect_request(timeout_ms, session_id, passwd, last_zxid_seen), now);
    if (l.frames.size() == before) return std::nullopt;
    EXPECT_EQ(l.frames.size(), before + 1);
    l.read = l.frames.size();
    return parse_connect_response(l.frames.back());
  }

  FakeLink& connect(int32_t timeout_ms = 30000, const std::string& addr = "127.0.0.1") {
    FakeLink& l = attach(addr);
    auto rsp = handshake(l, timeout_ms);
    EXPECT_TRUE(rsp && rsp->session_id != 0);
    return l;
  }

  // Sends one request and returns its reply; notifications that arrive with it
  // are kept for events().
  Reply call(FakeLink& l, OpCode type, const BodyFn& body = nullptr) {
    return call_xid(l, ++l.next_xid, type, body);
  }

  Reply call_xid(FakeLink& l, int32_t xid, OpCode type, const BodyFn& body) {
    core.on_frame(l, encode_request(xid, type, body), now);
    Reply reply{{INT32_MIN, 0, 0}, {}};
    int replies = 0;
    for (size_t i = l.read; i < l.frames.size(); ++i) {
      if (is_notification(l.frames[i])) {
        pending_events_[&l].push_back(parse_reply(l.frames[i]));
      } else {
        reply = parse_reply(l.frames[i]);
        ++replies;
      }
    }
    l.read = l.frames.size();
    EXPECT_EQ(replies, 1) << "op " << static_cast<int>(type);
    EXPECT_EQ(reply.header.xid, xid);
    return reply;
  }

  // Watch events delivered to `l` since the last look.
  std::vector<Event> events(FakeLink& l) {
    std::vector<Event> out;
    for (const auto& rep : pending_events_[&l]) {
      wire::WatcherEvent e = parse_event(rep);
      out.push_back({static_cast<EventType>(e.type), e.path});
    }
    pending_events_[&l].clear();
    for (; l.read < l.frames.size(); ++l.read) {
      Reply rep = parse_reply(l.frames[l.read]);
      EXPECT_EQ(rep.header.xid, wire::kNotificationXid) << "unexpected reply";
      wire::WatcherEvent e = parse_event(rep);
      out.push_back({static_cast<EventType>(e.type), e.path});
    }
    return out;
  }

  Reply create(FakeLink& l, const std::string& path, const std::string& data = "",
               CreateMode mode = CreateMode::kPersistent, wire::AclList acl = kOpenAcl) {
    auto req = create_request(path, data, mode, std::move(acl));
    return call(l, OpCode::kCreate2, [=](wire::JuteWriter& w) { req.write(w, false); });
  }
  Reply create_container(FakeLink& l, const std::string& path) {
    auto req = create_request(path, "", CreateMode::kContainer);
    return call(l, OpCode::kCreateContainer, [=](wire::JuteWriter& w) { req.write(w, false); });
  }
  Reply create_ttl(FakeLink& l, const std::string& path, int64_t ttl) {
    auto req = create_request(path, "", CreateMode::kPersistentWithTtl, kOpenAcl, ttl);
    return call(l, OpCode::kCreateTtl, [=](wire::JuteWriter& w) { req.write(w, true); });
  }
  Reply get_data(FakeLink& l, const std::string& path, bool watch = false) {
    return call(l, OpCode::kGetData, path_watch(path, watch));
  }
  Reply exists(FakeLink& l, const std::string& path, bool watch = false) {
    return call(l, OpCode::kExists, path_watch(path, watch));
  }
  Reply get_children2(FakeLink& l, const std::string& path, bool watch = false) {
    return call(l, OpCode::kGetChildren2, path_watch(path, watch));
  }
  Reply set_data(FakeLink& l, const std::string& path, const std::string& data,
                 int32_t version = -1) {
    return call(l, OpCode::kSetData, [=](wire::JuteWriter& w) {
      wire::SetDataRequest{path, data, false, version}.write(w);
    });
  }
  Reply remove(FakeLink& l, const std::string& path, int32_t version = -1) {
    return call(l, OpCode::kDelete, path_version(path, version));
  }
  Reply auth(FakeLink& l, const std::string& scheme, const std::string& secret) {
    return call_xid(l, wire::kAuthXid, OpCode::kAuth, [=](wire::JuteWriter& w) {
      wire::AuthPacket{0, scheme, secret}.write(w);
    });
  }

  bool node_exists(const std::string& path) { return core.tree().find(path) != nullptr; }
  bool session_alive(int64_t id) { return core.sessions().sessions().count(id) > 0; }

  // Moves time on and lets the core expire sessions and reap containers/TTL nodes.
  void advance(int64_t ms) {
    now += ms;
    core.tick(now);
  }

  ServerCore core{make_config(), kStart};
  int64_t now = kStart;

 private:
  std::vector<std::unique_ptr<FakeLink>> links_;
  uint64_t next_link_id_ = 1;
  std::map<FakeLink*, std::vector<Reply>> pending_events_;
};

wire::Stat read_stat(const std::string& body) {
  wire::JuteReader r(body);
  wire::Stat s = wire::Stat::read(r);
  EXPECT_TRUE(r.at_end());
  return s;
}

// --- handshake ---------------------------------------------------------------------------------

TEST_F(ServerCoreTest, HandshakeCreatesSession) {
  FakeLink& l = attach();
  auto rsp = handshake(l, 30000);
  ASSERT_TRUE(rsp);
  EXPECT_EQ(rsp->protocol_version, 0);
  EXPECT_EQ(rsp->timeout_ms, 30000);
  EXPECT_NE(rsp->session_id, 0);
  EXPECT_EQ(static_cast<uint64_t>(rsp->session_id) >> 56, 3u);  // myid in the top byte
  EXPECT_EQ(rsp->passwd.size(), 16u);
  EXPECT_FALSE(rsp->read_only);
  EXPECT_EQ(l.session_id, rsp->session_id);
  EXPECT_EQ(l.session_timeout_ms, 30000);
  EXPECT_TRUE(session_alive(rsp->session_id));
  EXPECT_EQ(core.last_zxid(), 1);  // createSession is a transaction
  EXPECT_EQ(l.close_calls, 0);
  EXPECT_EQ(l.auth, (tree::AuthIds{{"ip", "127.0.0.1"}}));

  // Each connection gets its own session and password.
  FakeLink& other = attach();
  auto rsp2 = handshake(other, 30000);
  ASSERT_TRUE(rsp2);
  EXPECT_NE(rsp2->session_id, rsp->session_id);
  EXPECT_NE(rsp2->passwd, rsp->passwd);
}

TEST_F(ServerCoreTest, HandshakeClampsTimeout) {
  EXPECT_EQ(handshake(attach(), 1000)->timeout_ms, 4000);
  EXPECT_EQ(handshake(attach(), 4000)->timeout_ms, 4000);
  EXPECT_EQ(handshake(attach(), 39999)->timeout_ms, 39999);
  EXPECT_EQ(handshake(attach(), 100000)->timeout_ms, 40000);
  EXPECT_EQ(handshake(attach(), 0)->timeout_ms, 4000);
}

TEST_F(ServerCoreTest, ReattachWithPasswordKeepsSession) {
  FakeLink& first = attach();
  auto rsp = handshake(first, 30000);
  ASSERT_TRUE(rsp);
  ASSERT_EQ(create(first, "/eph", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);

  now += 1000;
  FakeLink& second = attach();
  auto again = handshake(second, 10000, rsp->session_id, rsp->passwd);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->session_id, rsp->session_id);
  EXPECT_EQ(again->passwd, rsp->passwd);
  EXPECT_EQ(again->timeout_ms, 10000);
  EXPECT_EQ(second.session_id, rsp->session_id);
  EXPECT_EQ(second.close_calls, 0);
  // The old connection of the session is closed and forgotten.
  EXPECT_EQ(first.close_calls, 1);
  EXPECT_EQ(core.links().count(first.id), 0u);
  // The session, with its ephemerals, carries on over the new link.
  EXPECT_TRUE(node_exists("/eph"));
  EXPECT_EQ(call(second, OpCode::kPing).err(), ErrorCode::kOk);
  EXPECT_EQ(remove(second, "/eph").err(), ErrorCode::kOk);
}

TEST_F(ServerCoreTest, ReattachWithWrongPasswordIsRefused) {
  FakeLink& first = attach();
  auto rsp = handshake(first, 30000);
  ASSERT_TRUE(rsp);
  std::string wrong = rsp->passwd;
  wrong[0] = static_cast<char>(wrong[0] ^ 1);

  FakeLink& second = attach();
  auto refused = handshake(second, 30000, rsp->session_id, wrong);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->timeout_ms, 0);  // what clients read as "session expired"
  EXPECT_EQ(refused->session_id, 0);
  EXPECT_EQ(second.close_calls, 1);
  EXPECT_EQ(second.session_id, 0);
  // Further frames on the refused link are ignored.
  size_t frames = second.frames.size();
  core.on_frame(second, encode_request(1, OpCode::kPing, nullptr), now);
  EXPECT_EQ(second.frames.size(), frames);

  // The session and its first link are untouched.
  EXPECT_TRUE(session_alive(rsp->session_id));
  EXPECT_EQ(first.close_calls, 0);
  EXPECT_EQ(call(first, OpCode::kPing).err(), ErrorCode::kOk);

  // An unknown session id is refused the same way.
  FakeLink& third = attach();
  auto unknown = handshake(third, 30000, 0x0300000000000001, rsp->passwd);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->timeout_ms, 0);
  EXPECT_EQ(third.close_calls, 1);
}

TEST_F(ServerCoreTest, ClientThatHasSeenTheFutureIsClosedWithoutAnswer) {
  FakeLink& l = attach();
  auto rsp = handshake(l, 30000, 0, std::string(16, '\0'), /*last_zxid_seen=*/1000);
  EXPECT_FALSE(rsp);
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_EQ(l.session_id, 0);
  EXPECT_TRUE(core.sessions().sessions().empty());
  EXPECT_EQ(core.last_zxid(), 0);
  // A client that has seen exactly our zxid is fine.
  FakeLink& ok = attach();
  auto fine = handshake(ok, 30000, 0, std::string(16, '\0'), core.last_zxid());
  ASSERT_TRUE(fine);
  EXPECT_NE(fine->session_id, 0);
}

// --- reads and writes --------------------------------------------------------------------------

TEST_F(ServerCoreTest, CrudRoundTrip) {
  FakeLink& l = connect();
  int64_t t_create = now;

  Reply c = create(l, "/a", "hello");
  ASSERT_EQ(c.err(), ErrorCode::kOk);
  EXPECT_EQ(c.header.zxid, core.last_zxid());
  int64_t czxid = c.header.zxid;
  {
    wire::JuteReader r(c.body);
    EXPECT_EQ(r.string(), "/a");
    wire::Stat s = wire::Stat::read(r);
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(s.czxid, czxid);
    EXPECT_EQ(s.mzxid, czxid);
    EXPECT_EQ(s.pzxid, czxid);
    EXPECT_EQ(s.ctime, t_create);
    EXPECT_EQ(s.data_length, 5);
  }

  now += 5;
  Reply g = get_data(l, "/a");
  ASSERT_EQ(g.err(), ErrorCode::kOk);
  EXPECT_EQ(g.header.zxid, czxid);  // reads report the last zxid, and none was used
  {
    wire::JuteReader r(g.body);
    EXPECT_EQ(r.buffer(), "hello");
    wire::Stat s = wire::Stat::read(r);
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(s.czxid, czxid);
    EXPECT_EQ(s.version, 0);
  }

  Reply e = exists(l, "/a");
  ASSERT_EQ(e.err(), ErrorCode::kOk);
  EXPECT_EQ(read_stat(e.body).czxid, czxid);

  ASSERT_EQ(create(l, "/a/y").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/a/x").err(), ErrorCode::kOk);
  Reply ch = get_children2(l, "/a");
  ASSERT_EQ(ch.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(ch.body);
    EXPECT_EQ(wire::read_strings(r), (std::vector<std::string>{"x", "y"}));
    wire::Stat s = wire::Stat::read(r);
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(s.num_children, 2);
    EXPECT_EQ(s.cversion, 2);
    EXPECT_EQ(s.pzxid, core.last_zxid());
  }
  Reply ch1 = call(l, OpCode::kGetChildren, path_watch("/a", false));
  {
    wire::JuteReader r(ch1.body);
    EXPECT_EQ(wire::read_strings(r), (std::vector<std::string>{"x", "y"}));
    EXPECT_TRUE(r.at_end());  // plain getChildren has no Stat
  }

  now += 5;
  Reply s = set_data(l, "/a", "bye", 0);
  ASSERT_EQ(s.err(), ErrorCode::kOk);
  EXPECT_EQ(s.header.zxid, core.last_zxid());
  wire::Stat after = read_stat(s.body);
  EXPECT_EQ(after.version, 1);
  EXPECT_EQ(after.mzxid, s.header.zxid);
  EXPECT_EQ(after.mtime, now);
  EXPECT_EQ(after.data_length, 3);
  EXPECT_EQ(set_data(l, "/a", "x", 0).err(), ErrorCode::kBadVersion);

  EXPECT_EQ(remove(l, "/a").err(), ErrorCode::kNotEmpty);
  ASSERT_EQ(remove(l, "/a/x").err(), ErrorCode::kOk);
  {
    // ZooKeeper reports creations + deletions: two creates and one delete.
    wire::Stat s = read_stat(exists(l, "/a").body);
    EXPECT_EQ(s.cversion, 3);
    EXPECT_EQ(s.num_children, 1);
    EXPECT_EQ(core.tree().find("/a")->cversion, 2);
  }
  ASSERT_EQ(remove(l, "/a/y").err(), ErrorCode::kOk);
  Reply d = remove(l, "/a", 1);
  ASSERT_EQ(d.err(), ErrorCode::kOk);
  EXPECT_TRUE(d.body.empty());
  EXPECT_EQ(d.header.zxid, core.last_zxid());

  Reply gone = get_data(l, "/a");
  EXPECT_EQ(gone.err(), ErrorCode::kNoNode);
  EXPECT_TRUE(gone.body.empty());
  EXPECT_EQ(exists(l, "/a").err(), ErrorCode::kNoNode);
  EXPECT_EQ(get_children2(l, "/a").err(), ErrorCode::kNoNode);
  EXPECT_EQ(remove(l, "/a").err(), ErrorCode::kNoNode);
}

TEST_F(ServerCoreTest, CreateVariantsShapeTheirResponses) {
  FakeLink& l = connect();
  auto plain = create_request("/plain", "d");
  Reply c1 = call(l, OpCode::kCreate, [=](wire::JuteWriter& w) { plain.write(w, false); });
  ASSERT_EQ(c1.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(c1.body);
    EXPECT_EQ(r.string(), "/plain");
    EXPECT_TRUE(r.at_end());  // create answers with the path only
  }
  ASSERT_EQ(create(l, "/q").err(), ErrorCode::kOk);
  Reply seq = create(l, "/q/n-", "", CreateMode::kEphemeralSequential);
  ASSERT_EQ(seq.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(seq.body);
    EXPECT_EQ(r.string(), "/q/n-0000000000");
    EXPECT_EQ(wire::Stat::read(r).ephemeral_owner, l.session_id);
  }
  EXPECT_EQ(read_stat(exists(l, "/q/n-0000000000").body).ephemeral_owner, l.session_id);
  // Containers and TTL nodes keep their marker in the tree but show clients owner 0, as
  // ZooKeeper's getClientEphemeralOwner does.
  Reply cont = create_container(l, "/c");
  ASSERT_EQ(cont.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(cont.body);
    EXPECT_EQ(r.string(), "/c");
    EXPECT_EQ(wire::Stat::read(r).ephemeral_owner, 0);
    EXPECT_TRUE(r.at_end());
  }
  EXPECT_EQ(core.tree().find("/c")->ephemeral_owner, INT64_MIN);
  EXPECT_EQ(read_stat(exists(l, "/c").body).ephemeral_owner, 0);
  Reply ttl = create_ttl(l, "/t", 5000);
  ASSERT_EQ(ttl.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(ttl.body);
    EXPECT_EQ(r.string(), "/t");
    EXPECT_EQ(wire::Stat::read(r).ephemeral_owner, 0);
    EXPECT_TRUE(r.at_end());
  }
  int64_t ttl_owner = core.tree().find("/t")->ephemeral_owner;
  EXPECT_EQ(tree::node_kind(ttl_owner), tree::NodeKind::kTtl);
  EXPECT_EQ(tree::ttl_of(ttl_owner), 5000);
  EXPECT_EQ(read_stat(exists(l, "/t").body).ephemeral_owner, 0);
  Reply exists_again = create(l, "/plain");
  EXPECT_EQ(exists_again.err(), ErrorCode::kNodeExists);
  EXPECT_TRUE(exists_again.body.empty());
  EXPECT_EQ(exists_again.header.zxid, core.last_zxid());
}

TEST_F(ServerCoreTest, PingSyncAndReconfig) {
  FakeLink& l = connect();
  Reply ping = call_xid(l, wire::kPingXid, OpCode::kPing, nullptr);
  EXPECT_EQ(ping.err(), ErrorCode::kOk);
  EXPECT_TRUE(ping.body.empty());
  Reply sync = call(l, OpCode::kSync, path_only("/zookeeper"));
  ASSERT_EQ(sync.err(), ErrorCode::kOk);
  wire::JuteReader r(sync.body);
  EXPECT_EQ(r.string(), "/zookeeper");
  EXPECT_EQ(call(l, OpCode::kReconfig, [](wire::JuteWriter&) {}).err(),
            ErrorCode::kReconfigDisabled);
}

TEST_F(ServerCoreTest, UnknownOpcodeIsUnimplementedAndLinkStaysUsable) {
  FakeLink& l = connect();
  Reply r = call(l, static_cast<OpCode>(999), path_only("/"));
  EXPECT_EQ(r.err(), ErrorCode::kUnimplemented);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(l.close_calls, 0);
  EXPECT_EQ(call(l, OpCode::kPing).err(), ErrorCode::kOk);
  EXPECT_EQ(create(l, "/still-works").err(), ErrorCode::kOk);
}

TEST_F(ServerCoreTest, GarbageThrowsDecodeError) {
  FakeLink& fresh = attach();
  EXPECT_THROW(core.on_frame(fresh, "xyz", now), wire::DecodeError);
  EXPECT_EQ(fresh.session_id, 0);

  FakeLink& l = connect();
  int64_t zxid = core.last_zxid();
  std::vector<std::string> paths = core.tree().paths();
  // A header cut short.
  EXPECT_THROW(core.on_frame(l, "ab", now), wire::DecodeError);
  // A create whose path length runs past the end of the frame.
  EXPECT_THROW(
      core.on_frame(
          l, encode_request(1, OpCode::kCreate, [](wire::JuteWriter& w) { w.int32(1000); }), now),
      wire::DecodeError);
  // A create with its ACL vector missing.
  EXPECT_THROW(core.on_frame(l,
                             encode_request(2, OpCode::kCreate2,
                                            [](wire::JuteWriter& w) {
                                              w.string("/x");
                                              w.buffer("data");
                                              w.int32(5);  // 5 ACL entries that are not there
                                            }),
                             now),
               wire::DecodeError);
  EXPECT_THROW(core.on_frame(l, encode_request(3, OpCode::kGetData, nullptr), now),
               wire::DecodeError);
  EXPECT_THROW(
      core.on_frame(l, encode_request(4, OpCode::kMulti, [](wire::JuteWriter& w) { w.int32(1); }),
                    now),
      wire::DecodeError);
  EXPECT_EQ(core.last_zxid(), zxid);
  EXPECT_EQ(core.tree().paths(), paths);
  EXPECT_FALSE(node_exists("/x"));
}

// --- watches -----------------------------------------------------------------------------------

TEST_F(ServerCoreTest, WatchEventPrecedesTheWritersReply) {
  FakeLink& writer = connect();
  FakeLink& watcher = connect();
  FakeLink& bystander = connect();
  ASSERT_EQ(create(writer, "/w", "v0").err(), ErrorCode::kOk);
  ASSERT_EQ(get_data(writer, "/w", true).err(), ErrorCode::kOk);
  ASSERT_EQ(exists(watcher, "/w", true).err(), ErrorCode::kOk);
  ASSERT_EQ(get_data(bystander, "/w", false).err(), ErrorCode::kOk);

  // When the writer's reply is handed to its link, the watcher already has its event.
  size_t watcher_frames_at_reply = 0;
  writer.on_send = [&](const std::string& frame) {
    if (!is_notification(frame)) watcher_frames_at_reply = watcher.frames.size();
  };
  size_t before = writer.frames.size();
  core.on_frame(writer,
                encode_request(77, OpCode::kSetData,
                               [](wire::JuteWriter& w) {
                                 wire::SetDataRequest{"/w", "v1", false, -1}.write(w);
                               }),
                now);
  writer.on_send = nullptr;
  EXPECT_EQ(watcher_frames_at_reply, watcher.read + 1);

  // On the writer's own link: the notification first, then the reply.
  ASSERT_EQ(writer.frames.size(), before + 2);
  wire::WatcherEvent e = parse_event(parse_reply(writer.frames[before]));
  EXPECT_EQ(e.type, static_cast<int32_t>(EventType::kNodeDataChanged));
  EXPECT_EQ(e.path, "/w");
  Reply rep = parse_reply(writer.frames[before + 1]);
  EXPECT_EQ(rep.header.xid, 77);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  writer.read = writer.frames.size();

  EXPECT_EQ(events(watcher), (std::vector<Event>{{EventType::kNodeDataChanged, "/w"}}));
  EXPECT_TRUE(events(bystander).empty());
  // One-shot: a second change is not reported.
  ASSERT_EQ(set_data(writer, "/w", "v2").err(), ErrorCode::kOk);
  EXPECT_TRUE(events(writer).empty());
  EXPECT_TRUE(events(watcher).empty());
}

TEST_F(ServerCoreTest, WatchKinds) {
  FakeLink& a = connect();
  FakeLink& b = connect();
  // exists on a missing node, child watch on the parent, data watch on a node.
  EXPECT_EQ(exists(b, "/p", true).err(), ErrorCode::kNoNode);
  ASSERT_EQ(create(a, "/p").err(), ErrorCode::kOk);
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeCreated, "/p"}}));

  ASSERT_EQ(get_children2(b, "/p", true).err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/p/c").err(), ErrorCode::kOk);
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeChildrenChanged, "/p"}}));

  // NodeDeleted reaches a data and a child watch of the same link once.
  ASSERT_EQ(get_data(b, "/p/c", true).err(), ErrorCode::kOk);
  ASSERT_EQ(get_children2(b, "/p/c", true).err(), ErrorCode::kOk);
  ASSERT_EQ(get_children2(b, "/p", true).err(), ErrorCode::kOk);
  ASSERT_EQ(remove(a, "/p/c").err(), ErrorCode::kOk);
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeDeleted, "/p/c"},
                                           {EventType::kNodeChildrenChanged, "/p"}}));
  EXPECT_EQ(core.watches().watch_count(), 0u);

  // Failed reads set no watch (getData on a missing node), exists always does.
  EXPECT_EQ(get_data(b, "/nope", true).err(), ErrorCode::kNoNode);
  EXPECT_EQ(get_children2(b, "/nope", true).err(), ErrorCode::kNoNode);
  EXPECT_EQ(core.watches().watch_count(), 0u);
  EXPECT_TRUE(events(a).empty());

  // A closed connection's watches go with it.
  ASSERT_EQ(get_data(b, "/p", true).err(), ErrorCode::kOk);
  core.detach(b);
  EXPECT_EQ(core.watches().watch_count(), 0u);
  ASSERT_EQ(set_data(a, "/p", "x").err(), ErrorCode::kOk);
}

TEST_F(ServerCoreTest, AddWatchPersistentAndRecursive) {
  FakeLink& a = connect();
  FakeLink& b = connect();
  Reply add = call(b, OpCode::kAddWatch, path_int("/pw", 0));
  ASSERT_EQ(add.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(add.body);
    EXPECT_EQ(r.int32(), 0);
    EXPECT_TRUE(r.at_end());
  }
  ASSERT_EQ(create(a, "/pw").err(), ErrorCode::kOk);
  ASSERT_EQ(set_data(a, "/pw", "1").err(), ErrorCode::kOk);
  ASSERT_EQ(set_data(a, "/pw", "2").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/pw/c").err(), ErrorCode::kOk);
  ASSERT_EQ(set_data(a, "/pw/c", "x").err(), ErrorCode::kOk);  // not recursive: unseen
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeCreated, "/pw"},
                                           {EventType::kNodeDataChanged, "/pw"},
                                           {EventType::kNodeDataChanged, "/pw"},
                                           {EventType::kNodeChildrenChanged, "/pw"}}));

  ASSERT_EQ(call(b, OpCode::kAddWatch, path_int("/rw", 1)).err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/rw").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/rw/a").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/rw/a/b").err(), ErrorCode::kOk);
  ASSERT_EQ(set_data(a, "/rw/a/b", "x").err(), ErrorCode::kOk);
  ASSERT_EQ(remove(a, "/rw/a/b").err(), ErrorCode::kOk);
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeCreated, "/rw"},
                                           {EventType::kNodeCreated, "/rw/a"},
                                           {EventType::kNodeCreated, "/rw/a/b"},
                                           {EventType::kNodeDataChanged, "/rw/a/b"},
                                           {EventType::kNodeDeleted, "/rw/a/b"}}));

  // A mode ZooKeeper cannot map to an AddWatchMode fails to deserialize: ZMARSHALLINGERROR.
  for (int32_t mode : {2, -1}) {
    Reply bad = call(b, OpCode::kAddWatch, path_int("/x", mode));
    EXPECT_EQ(bad.err(), ErrorCode::kMarshallingError) << mode;
    EXPECT_TRUE(bad.body.empty()) << mode;
  }
  // Nothing was registered, and the connection stays usable.
  ASSERT_EQ(create(a, "/x").err(), ErrorCode::kOk);
  EXPECT_TRUE(events(b).empty());
  EXPECT_EQ(b.close_calls, 0);
  EXPECT_EQ(call(b, OpCode::kPing).err(), ErrorCode::kOk);
}

TEST_F(ServerCoreTest, CheckAndRemoveWatches) {
  FakeLink& l = connect();
  ASSERT_EQ(create(l, "/cw").err(), ErrorCode::kOk);
  ASSERT_EQ(get_data(l, "/cw", true).err(), ErrorCode::kOk);
  auto check = [&](int32_t type) { return call(l, OpCode::kCheckWatches, path_int("/cw", type)); };
  auto remove_watches = [&](int32_t type) {
    return call(l, OpCode::kRemoveWatches, path_int("/cw", type));
  };
  Reply ok = check(2);
  EXPECT_EQ(ok.err(), ErrorCode::kOk);
  EXPECT_TRUE(ok.body.empty());
  EXPECT_EQ(check(3).err(), ErrorCode::kOk);
  EXPECT_EQ(check(1).err(), ErrorCode::kNoWatcher);
  EXPECT_EQ(remove_watches(1).err(), ErrorCode::kNoWatcher);
  EXPECT_EQ(remove_watches(3).err(), ErrorCode::kOk);
  EXPECT_EQ(check(2).err(), ErrorCode::kNoWatcher);
  EXPECT_EQ(remove_watches(2).err(), ErrorCode::kNoWatcher);
  EXPECT_EQ(check(0).err(), ErrorCode::kMarshallingError);
  EXPECT_EQ(remove_watches(9).err(), ErrorCode::kMarshallingError);
  // Another link's watch is not this link's.
  FakeLink& other = connect();
  ASSERT_EQ(get_data(other, "/cw", true).err(), ErrorCode::kOk);
  EXPECT_EQ(check(2).err(), ErrorCode::kNoWatcher);
  ASSERT_EQ(set_data(l, "/cw", "x").err(), ErrorCode::kOk);
  EXPECT_TRUE(events(l).empty());
  EXPECT_EQ(events(other), (std::vector<Event>{{EventType::kNodeDataChanged, "/cw"}}));
}

TEST_F(ServerCoreTest, SetWatchesReplaysMissedEvents) {
  FakeLink& a = connect();
  ASSERT_EQ(create(a, "/same").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/changed").err(), ErrorCode::kOk);
  int64_t seen = core.last_zxid();
  ASSERT_EQ(set_data(a, "/changed", "x").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/born").err(), ErrorCode::kOk);

  FakeLink& b = connect();
  wire::SetWatchesRequest req;
  req.relative_zxid = seen;
  req.data_watches = {"/same", "/changed", "/dead"};
  req.exist_watches = {"/born", "/unborn"};
  req.child_watches = {"/same"};
  Reply r = call_xid(b, wire::kSetWatchesXid, OpCode::kSetWatches,
                     [=](wire::JuteWriter& w) { req.write(w, false); });
  EXPECT_EQ(r.err(), ErrorCode::kOk);
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeDataChanged, "/changed"},
                                           {EventType::kNodeDeleted, "/dead"},
                                           {EventType::kNodeCreated, "/born"}}));
  ASSERT_EQ(set_data(a, "/same", "y").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/unborn").err(), ErrorCode::kOk);
  ASSERT_EQ(create(a, "/same/kid").err(), ErrorCode::kOk);
  EXPECT_EQ(events(b), (std::vector<Event>{{EventType::kNodeDataChanged, "/same"},
                                           {EventType::kNodeCreated, "/unborn"},
                                           {EventType::kNodeChildrenChanged, "/same"}}));
}

// --- sessions ----------------------------------------------------------------------------------

TEST_F(ServerCoreTest, SessionExpiryRemovesEphemeralsAndClosesLink) {
  FakeLink& doomed = connect(4000);
  FakeLink& watcher = connect(40000);
  int64_t sid = doomed.session_id;
  ASSERT_EQ(create(doomed, "/eph", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  ASSERT_EQ(exists(watcher, "/eph", true).err(), ErrorCode::kOk);

  advance(2000);
  ASSERT_EQ(call(doomed, OpCode::kPing).err(), ErrorCode::kOk);  // deadline: now + 4000
  advance(3999);
  EXPECT_TRUE(node_exists("/eph"));
  EXPECT_TRUE(session_alive(sid));
  EXPECT_EQ(doomed.close_calls, 0);

  advance(1);
  EXPECT_FALSE(node_exists("/eph"));
  EXPECT_FALSE(session_alive(sid));
  EXPECT_EQ(doomed.close_calls, 1);
  EXPECT_TRUE(doomed.closing);
  EXPECT_EQ(core.links().count(doomed.id), 0u);
  EXPECT_EQ(events(watcher), (std::vector<Event>{{EventType::kNodeDeleted, "/eph"}}));
  EXPECT_TRUE(session_alive(watcher.session_id));

  // Nothing more is read from the expired link; the session cannot be resumed.
  size_t frames = doomed.frames.size();
  core.on_frame(doomed, encode_request(9, OpCode::kPing, nullptr), now);
  EXPECT_EQ(doomed.frames.size(), frames);
  FakeLink& retry = attach();
  auto rsp = handshake(retry, 4000, sid, std::string(16, 'x'));
  ASSERT_TRUE(rsp);
  EXPECT_EQ(rsp->timeout_ms, 0);
}

TEST_F(ServerCoreTest, RequestsKeepSessionAlive) {
  FakeLink& l = connect(4000);
  for (int i = 0; i < 10; ++i) {
    advance(3000);
    ASSERT_EQ(call(l, OpCode::kPing).err(), ErrorCode::kOk) << i;
  }
  EXPECT_EQ(l.close_calls, 0);
  EXPECT_TRUE(session_alive(l.session_id));
}

TEST_F(ServerCoreTest, DisconnectedSessionExpiresLater) {
  FakeLink& l = connect(4000);
  int64_t sid = l.session_id;
  ASSERT_EQ(create(l, "/eph", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  core.detach(l);  // the TCP connection dropped
  EXPECT_TRUE(node_exists("/eph"));
  advance(4000);
  EXPECT_FALSE(node_exists("/eph"));
  EXPECT_FALSE(session_alive(sid));
  EXPECT_EQ(l.close_calls, 0);  // nothing to close any more
}

TEST_F(ServerCoreTest, CloseSessionRemovesEphemeralsAtOnce) {
  FakeLink& l = connect();
  FakeLink& watcher = connect();
  int64_t sid = l.session_id;
  ASSERT_EQ(create(l, "/e1", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/persistent").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/persistent/e2", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  ASSERT_EQ(get_children2(watcher, "/persistent", true).err(), ErrorCode::kOk);

  Reply r = call(l, OpCode::kCloseSession);
  EXPECT_EQ(r.err(), ErrorCode::kOk);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header.zxid, core.last_zxid());
  EXPECT_FALSE(node_exists("/e1"));
  EXPECT_FALSE(node_exists("/persistent/e2"));
  EXPECT_TRUE(node_exists("/persistent"));
  EXPECT_FALSE(session_alive(sid));
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_EQ(core.links().count(l.id), 0u);
  EXPECT_EQ(events(watcher),
            (std::vector<Event>{{EventType::kNodeChildrenChanged, "/persistent"}}));
}

// --- auth --------------------------------------------------------------------------------------

TEST_F(ServerCoreTest, DigestAuthGuardsReads) {
  FakeLink& alice = connect();
  FakeLink& other = connect();
  Reply a = auth(alice, "digest", "alice:secret");
  EXPECT_EQ(a.err(), ErrorCode::kOk);
  EXPECT_EQ(a.header.xid, wire::kAuthXid);
  // "auth" expands to alice's digest identity.
  ASSERT_EQ(
      create(alice, "/private", "s3cret", CreateMode::kPersistent, {{perms::kAll, {"auth", ""}}})
          .err(),
      ErrorCode::kOk);
  EXPECT_EQ(*core.tree().find("/private")->acl,
            (wire::AclList{{perms::kAll, {"digest", tree::digest_of("alice:secret")}}}));
  ASSERT_EQ(get_data(alice, "/private").err(), ErrorCode::kOk);

  EXPECT_EQ(get_data(other, "/private").err(), ErrorCode::kNoAuth);
  EXPECT_EQ(get_children2(other, "/private").err(), ErrorCode::kNoAuth);
  EXPECT_EQ(call(other, OpCode::kGetAcl, path_only("/private")).err(), ErrorCode::kNoAuth);
  EXPECT_EQ(set_data(other, "/private", "x").err(), ErrorCode::kNoAuth);
  EXPECT_EQ(create(other, "/private/c").err(), ErrorCode::kNoAuth);
  EXPECT_EQ(exists(other, "/private").err(), ErrorCode::kOk);  // exists checks no ACL

  // A wrong password gives a different digest: still no access.
  EXPECT_EQ(auth(other, "digest", "alice:wrong").err(), ErrorCode::kOk);
  EXPECT_EQ(get_data(other, "/private").err(), ErrorCode::kNoAuth);
  EXPECT_EQ(auth(other, "digest", "alice:secret").err(), ErrorCode::kOk);
  Reply g = get_data(other, "/private");
  ASSERT_EQ(g.err(), ErrorCode::kOk);
  wire::JuteReader r(g.body);
  EXPECT_EQ(r.buffer(), "s3cret");
  // Adding the same identity twice keeps one copy.
  EXPECT_EQ(auth(other, "digest", "alice:secret").err(), ErrorCode::kOk);
  EXPECT_EQ(std::count(other.auth.begin(), other.auth.end(),
                       wire::Id{"digest", tree::digest_of("alice:secret")}),
            1);
}

TEST_F(ServerCoreTest, GetAclHidesDigestsFromNonAdmins) {
  FakeLink& alice = connect();
  FakeLink& reader = connect();
  ASSERT_EQ(auth(alice, "digest", "alice:secret").err(), ErrorCode::kOk);
  wire::Id alice_id{"digest", tree::digest_of("alice:secret")};
  ASSERT_EQ(create(alice, "/doc", "", CreateMode::kPersistent,
                   {{perms::kAll, alice_id}, {perms::kRead, {"world", "anyone"}}})
                .err(),
            ErrorCode::kOk);
  Reply full = call(alice, OpCode::kGetAcl, path_only("/doc"));
  ASSERT_EQ(full.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(full.body);
    EXPECT_EQ(wire::read_acls(r),
              (wire::AclList{{perms::kAll, alice_id}, {perms::kRead, {"world", "anyone"}}}));
    EXPECT_EQ(wire::Stat::read(r).aversion, 0);
    EXPECT_TRUE(r.at_end());
  }
  Reply hidden = call(reader, OpCode::kGetAcl, path_only("/doc"));
  ASSERT_EQ(hidden.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(hidden.body);
    EXPECT_EQ(wire::read_acls(r), (wire::AclList{{perms::kAll, {"digest", "alice:x"}},
                                                 {perms::kRead, {"world", "anyone"}}}));
  }
}

TEST_F(ServerCoreTest, DigestAuthWithoutColonIsAccepted) {
  // DigestAuthenticationProvider digests any text; "alice" alone is user "alice".
  FakeLink& l = connect();
  Reply r = auth(l, "digest", "alice");
  EXPECT_EQ(r.err(), ErrorCode::kOk);
  EXPECT_EQ(l.close_calls, 0);
  EXPECT_EQ(l.auth.back(), (wire::Id{"digest", tree::digest_of("alice")}));
  EXPECT_EQ(l.auth.back().id.rfind("alice:", 0), 0u);
  EXPECT_EQ(call(l, OpCode::kPing).err(), ErrorCode::kOk);
}

TEST_F(ServerCoreTest, UnknownAuthSchemeFailsAndCloses) {
  FakeLink& l = connect();
  Reply r = auth(l, "kerberos", "whatever");
  EXPECT_EQ(r.err(), ErrorCode::kAuthFailed);
  EXPECT_EQ(l.close_calls, 1);
}

TEST_F(ServerCoreTest, SuperDigestGrantsEverything) {
  FakeLink& alice = connect();
  FakeLink& root = connect();
  ASSERT_EQ(auth(alice, "digest", "alice:secret").err(), ErrorCode::kOk);
  ASSERT_EQ(
      create(alice, "/private", "x", CreateMode::kPersistent, {{perms::kAll, {"auth", ""}}}).err(),
      ErrorCode::kOk);
  ASSERT_EQ(
      create(alice, "/private/c", "", CreateMode::kPersistent, {{perms::kAll, {"auth", ""}}}).err(),
      ErrorCode::kOk);
  EXPECT_EQ(get_data(root, "/private").err(), ErrorCode::kNoAuth);
  ASSERT_EQ(auth(root, "digest", "super:test").err(), ErrorCode::kOk);
  EXPECT_EQ(get_data(root, "/private").err(), ErrorCode::kOk);
  EXPECT_EQ(get_data(root, "/private/c").err(), ErrorCode::kOk);
  EXPECT_EQ(set_data(root, "/private", "y").err(), ErrorCode::kOk);
  EXPECT_EQ(create(root, "/private/d").err(), ErrorCode::kOk);
  EXPECT_EQ(
      call(root, OpCode::kSetAcl,
           [](wire::JuteWriter& w) {
             wire::SetAclRequest{"/private/c", {{perms::kRead, {"world", "anyone"}}}, -1}.write(w);
           })
          .err(),
      ErrorCode::kOk);
  EXPECT_EQ(remove(root, "/private/c").err(), ErrorCode::kOk);
  EXPECT_EQ(remove(root, "/private/d").err(), ErrorCode::kOk);
  EXPECT_EQ(remove(root, "/private").err(), ErrorCode::kOk);
  // A wrong super password is just another digest.
  FakeLink& pretender = connect();
  ASSERT_EQ(auth(pretender, "digest", "super:guess").err(), ErrorCode::kOk);
  EXPECT_EQ(std::count_if(pretender.auth.begin(), pretender.auth.end(),
                          [](const wire::Id& id) { return id.scheme == "super"; }),
            0);
}

TEST_F(ServerCoreTest, WhoAmI) {
  FakeLink& l = connect(30000, "10.1.2.3");
  auto who = [&] {
    Reply r = call(l, OpCode::kWhoAmI);
    EXPECT_EQ(r.err(), ErrorCode::kOk);
    wire::JuteReader in(r.body);
    std::vector<std::pair<std::string, std::string>> out;
    for (int32_t n = in.int32(); n > 0; --n) {
      wire::ClientInfo info = wire::ClientInfo::read(in);
      out.emplace_back(info.auth_scheme, info.user);
    }
    EXPECT_TRUE(in.at_end());
    return out;
  };
  using Infos = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(who(), (Infos{{"ip", "10.1.2.3"}}));
  ASSERT_EQ(auth(l, "digest", "alice:secret").err(), ErrorCode::kOk);
  EXPECT_EQ(who(), (Infos{{"ip", "10.1.2.3"}, {"digest", "alice"}}));
}

// --- other reads -------------------------------------------------------------------------------

TEST_F(ServerCoreTest, SystemNodesAsZooKeeperShowsThem) {
  FakeLink& l = connect();
  Reply r = exists(l, "/zookeeper/config");
  ASSERT_EQ(r.err(), ErrorCode::kOk);
  EXPECT_EQ(read_stat(r.body).aversion, -1);
  // The system nodes were linked in without counted creations: "cversion = -2" in zkCli.
  EXPECT_EQ(read_stat(exists(l, "/zookeeper").body).cversion, -2);
  EXPECT_EQ(read_stat(exists(l, "/").body).cversion, -1);
  Reply acl = call(l, OpCode::kGetAcl, path_only("/zookeeper/config"));
  ASSERT_EQ(acl.err(), ErrorCode::kOk);
  wire::JuteReader in(acl.body);
  EXPECT_EQ(wire::read_acls(in), (wire::AclList{{perms::kRead, {"world", "anyone"}}}));
  Reply ch = get_children2(l, "/zookeeper");
  wire::JuteReader kids(ch.body);
  EXPECT_EQ(wire::read_strings(kids), (std::vector<std::string>{"config", "quota"}));
  EXPECT_EQ(remove(l, "/zookeeper/quota").err(), ErrorCode::kBadArguments);
  EXPECT_EQ(remove(l, "/zookeeper").err(), ErrorCode::kBadArguments);
}

TEST_F(ServerCoreTest, GetEphemerals) {
  FakeLink& l = connect();
  FakeLink& other = connect();
  ASSERT_EQ(create(l, "/dir").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/e1", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/dir/e2", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  ASSERT_EQ(create(other, "/dir/theirs", "", CreateMode::kEphemeral).err(), ErrorCode::kOk);
  auto ephemerals = [&](FakeLink& link, const std::string& prefix) {
    Reply r = call(link, OpCode::kGetEphemerals, path_only(prefix));
    EXPECT_EQ(r.err(), ErrorCode::kOk);
    wire::JuteReader in(r.body);
    auto v = wire::read_strings(in);
    EXPECT_TRUE(in.at_end());
    return v;
  };
  using Paths = std::vector<std::string>;
  EXPECT_EQ(ephemerals(l, "/"), (Paths{"/dir/e2", "/e1"}));
  EXPECT_EQ(ephemerals(l, ""), (Paths{"/dir/e2", "/e1"}));
  EXPECT_EQ(ephemerals(l, "/dir"), (Paths{"/dir/e2"}));
  EXPECT_EQ(ephemerals(l, "/e"), (Paths{"/e1"}));  // a prefix, not a subtree
  EXPECT_EQ(ephemerals(l, "/nothing"), Paths{});
  EXPECT_EQ(ephemerals(other, "/"), (Paths{"/dir/theirs"}));
}

TEST_F(ServerCoreTest, GetAllChildrenNumber) {
  FakeLink& l = connect();
  for (const char* p : {"/n", "/n/a", "/n/a/b", "/n/c"})
    ASSERT_EQ(create(l, p).err(), ErrorCode::kOk);
  auto count = [&](const std::string& path) {
    return call(l, OpCode::kGetAllChildrenNumber, path_only(path));
  };
  Reply r = count("/n");
  ASSERT_EQ(r.err(), ErrorCode::kOk);
  wire::JuteReader in(r.body);
  EXPECT_EQ(in.int32(), 3);
  EXPECT_TRUE(in.at_end());
  Reply all = count("/");
  wire::JuteReader root(all.body);
  EXPECT_EQ(root.int32(), 7);  // /n subtree (4) + /zookeeper, quota, config
  EXPECT_EQ(count("/missing").err(), ErrorCode::kNoNode);
}

// --- multi -------------------------------------------------------------------------------------

using MultiOp = std::function<void(wire::JuteWriter&)>;

BodyFn multi_body(std::vector<MultiOp> ops) {
  return [ops](wire::JuteWriter& w) {
    for (const auto& op : ops) op(w);
    wire::MultiHeader{-1, true, -1}.write(w);
  };
}

MultiOp m_create(OpCode type, const wire::CreateRequest& req) {
  return [=](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(type), false, -1}.write(w);
    req.write(w, type == OpCode::kCreateTtl);
  };
}
MultiOp m_path_version(OpCode type, const std::string& path, int32_t version) {
  return [=](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(type), false, -1}.write(w);
    wire::PathVersionRequest{path, version}.write(w);
  };
}
MultiOp m_set_data(const std::string& path, const std::string& data, int32_t version) {
  return [=](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(OpCode::kSetData), false, -1}.write(w);
    wire::SetDataRequest{path, data, false, version}.write(w);
  };
}
MultiOp m_read(OpCode type, const std::string& path) {
  return [=](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(type), false, -1}.write(w);
    wire::PathWatchRequest{path, false}.write(w);
  };
}

TEST_F(ServerCoreTest, MultiSuccessEncoding) {
  FakeLink& l = connect();
  Reply r = call(l, OpCode::kMulti,
                 multi_body({m_create(OpCode::kCreate, create_request("/m", "a")),
                             m_create(OpCode::kCreate2, create_request("/m/x")),
                             m_create(OpCode::kCreateTtl,
                                      create_request("/m/t", "", CreateMode::kPersistentWithTtl,
                                                     kOpenAcl, 1000)),
                             m_set_data("/m", "b", 0), m_path_version(OpCode::kCheck, "/m", 1),
                             m_path_version(OpCode::kDelete, "/m/x", -1)}));
  ASSERT_EQ(r.err(), ErrorCode::kOk);
  EXPECT_EQ(r.header.zxid, core.last_zxid());
  wire::JuteReader in(r.body);
  auto header = [&](int32_t type) {
    wire::MultiHeader h = wire::MultiHeader::read(in);
    EXPECT_EQ(h.type, type);
    EXPECT_FALSE(h.done);
    EXPECT_EQ(h.err, 0);
  };
  header(1);
  EXPECT_EQ(in.string(), "/m");
  header(15);
  EXPECT_EQ(in.string(), "/m/x");
  EXPECT_EQ(wire::Stat::read(in).czxid, core.last_zxid());
  header(15);  // createTTL answers as create2
  EXPECT_EQ(in.string(), "/m/t");
  EXPECT_EQ(wire::Stat::read(in).ephemeral_owner, 0);  // TTL nodes show clients no owner
  header(5);
  wire::Stat s = wire::Stat::read(in);
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.mzxid, core.last_zxid());
  EXPECT_EQ(s.num_children, 2);  // /m/x and /m/t, before the delete
  EXPECT_EQ(s.cversion, 2);
  header(13);
  header(2);
  wire::MultiHeader done = wire::MultiHeader::read(in);
  EXPECT_EQ(done.type, -1);
  EXPECT_TRUE(done.done);
  EXPECT_EQ(done.err, -1);
  EXPECT_TRUE(in.at_end());
  EXPECT_TRUE(node_exists("/m/t"));
  EXPECT_FALSE(node_exists("/m/x"));
  EXPECT_EQ(tree::ttl_of(core.tree().find("/m/t")->ephemeral_owner), 1000);
  wire::Stat m = read_stat(exists(l, "/m").body);
  EXPECT_EQ(m.cversion, 3);  // two creations and one deletion
  EXPECT_EQ(m.num_children, 1);
}

TEST_F(ServerCoreTest, MultiFailureEncodingAndNoChange) {
  FakeLink& l = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(exists(watcher, "/f", true).err(), ErrorCode::kNoNode);
  std::vector<std::string> paths = core.tree().paths();
  Reply r = call(
      l, OpCode::kMulti,
      multi_body({m_create(OpCode::kCreate, create_request("/f")),
                  m_path_version(OpCode::kDelete, "/missing", -1), m_set_data("/f", "x", -1)}));
  // ZooKeeper answers a failed multi with ZOK in the header and the codes in the results.
  EXPECT_EQ(r.err(), ErrorCode::kOk);
  wire::JuteReader in(r.body);
  for (int32_t code : {0, -101, -2}) {
    wire::MultiHeader h = wire::MultiHeader::read(in);
    EXPECT_EQ(h.type, -1);
    EXPECT_FALSE(h.done);
    EXPECT_EQ(h.err, code);
    EXPECT_EQ(in.int32(), code);
  }
  wire::MultiHeader done = wire::MultiHeader::read(in);
  EXPECT_TRUE(done.done);
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(core.tree().paths(), paths);
  EXPECT_TRUE(events(watcher).empty());
}

TEST_F(ServerCoreTest, MultiRejectsOpsItCannotHold) {
  FakeLink& l = connect();
  ASSERT_EQ(create(l, "/a").err(), ErrorCode::kOk);
  Reply r = call(l, OpCode::kMulti,
                 multi_body({m_create(OpCode::kCreate, create_request("/b")),
                             m_read(OpCode::kGetData, "/a")}));
  EXPECT_EQ(r.err(), ErrorCode::kMarshallingError);
  EXPECT_FALSE(node_exists("/b"));
  EXPECT_EQ(call(l, OpCode::kPing).err(), ErrorCode::kOk);
}

TEST_F(ServerCoreTest, MultiReadEncoding) {
  FakeLink& l = connect();
  ASSERT_EQ(create(l, "/m", "data").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/m/b").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/m/a").err(), ErrorCode::kOk);
  ASSERT_EQ(auth(l, "digest", "alice:secret").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/locked", "", CreateMode::kPersistent, {{perms::kAll, {"auth", ""}}}).err(),
            ErrorCode::kOk);
  FakeLink& other = connect();
  Reply r =
      call(other, OpCode::kMultiRead,
           multi_body({m_read(OpCode::kGetData, "/m"), m_read(OpCode::kGetChildren, "/m"),
                       m_read(OpCode::kGetData, "/missing"), m_read(OpCode::kGetData, "/locked")}));
  ASSERT_EQ(r.err(), ErrorCode::kOk);
  wire::JuteReader in(r.body);
  wire::MultiHeader h = wire::MultiHeader::read(in);
  EXPECT_EQ(h.type, 4);
  EXPECT_EQ(h.err, 0);
  EXPECT_EQ(in.buffer(), "data");
  EXPECT_EQ(wire::Stat::read(in).num_children, 2);
  h = wire::MultiHeader::read(in);
  EXPECT_EQ(h.type, 8);
  EXPECT_EQ(wire::read_strings(in), (std::vector<std::string>{"a", "b"}));
  for (int32_t code : {-101, -102}) {
    h = wire::MultiHeader::read(in);
    EXPECT_EQ(h.type, -1);
    EXPECT_EQ(h.err, code);
    EXPECT_EQ(in.int32(), code);
  }
  h = wire::MultiHeader::read(in);
  EXPECT_TRUE(h.done);
  EXPECT_TRUE(in.at_end());
}

TEST_F(ServerCoreTest, NullDataRoundTrip) {
  FakeLink& l = connect();
  // The raw length of getData's buffer (-1 for null) and the Stat after it.
  auto data_length_of = [&](const std::string& path) {
    Reply g = get_data(l, path);
    EXPECT_EQ(g.err(), ErrorCode::kOk) << path;
    int32_t len = wire::JuteReader(g.body).int32();
    wire::JuteReader r(g.body);
    EXPECT_EQ(r.buffer().size(), static_cast<size_t>(std::max(len, 0)));
    wire::Stat s = wire::Stat::read(r);
    EXPECT_TRUE(r.at_end()) << path;
    return std::make_pair(len, s.data_length);
  };
  using Lengths = std::pair<int32_t, int32_t>;

  auto null_req = create_request("/null");
  null_req.data_null = true;
  Reply c = call(l, OpCode::kCreate2, [=](wire::JuteWriter& w) { null_req.write(w, false); });
  ASSERT_EQ(c.err(), ErrorCode::kOk);
  {
    wire::JuteReader r(c.body);
    EXPECT_EQ(r.string(), "/null");
    EXPECT_EQ(wire::Stat::read(r).data_length, 0);
  }
  ASSERT_EQ(create(l, "/empty", "").err(), ErrorCode::kOk);
  EXPECT_EQ(data_length_of("/null"), (Lengths{-1, 0}));
  EXPECT_EQ(data_length_of("/empty"), (Lengths{0, 0}));
  {
    // Through the reader's own decoding too: null reads back as null, empty as not.
    Reply g = get_data(l, "/null");
    wire::JuteReader r(g.body);
    bool was_null = false;
    EXPECT_EQ(r.buffer(was_null), "");
    EXPECT_TRUE(was_null);
  }
  EXPECT_EQ(read_stat(exists(l, "/null").body).data_length, 0);

  // setData with a null buffer makes data null; with an empty one, empty again.
  Reply set_null = call(l, OpCode::kSetData, [](wire::JuteWriter& w) {
    wire::SetDataRequest{"/empty", "", true, -1}.write(w);
  });
  ASSERT_EQ(set_null.err(), ErrorCode::kOk);
  EXPECT_EQ(read_stat(set_null.body).data_length, 0);
  EXPECT_EQ(data_length_of("/empty"), (Lengths{-1, 0}));
  ASSERT_EQ(set_data(l, "/null", "").err(), ErrorCode::kOk);
  EXPECT_EQ(data_length_of("/null"), (Lengths{0, 0}));
  ASSERT_EQ(set_data(l, "/null", "abc").err(), ErrorCode::kOk);
  EXPECT_EQ(data_length_of("/null"), (Lengths{3, 3}));

  // A null create inside a multi, and getData of null data inside a multiRead.
  auto multi_null = create_request("/multi-null");
  multi_null.data_null = true;
  ASSERT_EQ(call(l, OpCode::kMulti, multi_body({m_create(OpCode::kCreate, multi_null)})).err(),
            ErrorCode::kOk);
  EXPECT_EQ(data_length_of("/multi-null"), (Lengths{-1, 0}));
  Reply mr = call(
      l, OpCode::kMultiRead,
      multi_body({m_read(OpCode::kGetData, "/multi-null"), m_read(OpCode::kGetData, "/null")}));
  ASSERT_EQ(mr.err(), ErrorCode::kOk);
  wire::JuteReader in(mr.body);
  EXPECT_EQ(wire::MultiHeader::read(in).type, 4);
  EXPECT_EQ(in.int32(), -1);
  EXPECT_EQ(wire::Stat::read(in).data_length, 0);
  EXPECT_EQ(wire::MultiHeader::read(in).type, 4);
  EXPECT_EQ(in.buffer(), "abc");
  EXPECT_EQ(wire::Stat::read(in).data_length, 3);
  EXPECT_TRUE(wire::MultiHeader::read(in).done);
  EXPECT_TRUE(in.at_end());
}

// --- containers and TTL nodes ------------------------------------------------------------------

TEST_F(ServerCoreTest, ContainerRemovedAfterLastChildGoes) {
  FakeLink& l = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create_container(l, "/c").err(), ErrorCode::kOk);
  ASSERT_EQ(create_container(l, "/never-used").err(), ErrorCode::kOk);
  advance(200);
  EXPECT_TRUE(node_exists("/c"));  // never had a child: kept
  ASSERT_EQ(create(l, "/c/x").err(), ErrorCode::kOk);
  advance(200);
  EXPECT_TRUE(node_exists("/c"));  // has a child
  ASSERT_EQ(exists(watcher, "/c", true).err(), ErrorCode::kOk);
  ASSERT_EQ(remove(l, "/c/x").err(), ErrorCode::kOk);
  advance(200);
  EXPECT_FALSE(node_exists("/c"));
  EXPECT_TRUE(node_exists("/never-used"));
  EXPECT_TRUE(core.tree().containers().count("/c") == 0);
  EXPECT_EQ(events(watcher), (std::vector<Event>{{EventType::kNodeDeleted, "/c"}}));
}

TEST_F(ServerCoreTest, ContainerCheckRunsAtItsInterval) {
  FakeLink& l = connect();
  ASSERT_EQ(create_container(l, "/c").err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/c/x").err(), ErrorCode::kOk);
  advance(100);  // a check runs now; the next one is due 100 ms later
  ASSERT_EQ(remove(l, "/c/x").err(), ErrorCode::kOk);
  advance(50);
  EXPECT_TRUE(node_exists("/c"));
  advance(50);
  EXPECT_FALSE(node_exists("/c"));
}

TEST_F(ServerCoreTest, TtlNodeRemovedAfterItsTtl) {
  FakeLink& l = connect();
  advance(100);  // align with the container check interval
  ASSERT_EQ(create_ttl(l, "/t", 500).err(), ErrorCode::kOk);
  ASSERT_EQ(create_ttl(l, "/busy", 500).err(), ErrorCode::kOk);
  ASSERT_EQ(create(l, "/busy/child").err(), ErrorCode::kOk);
  ASSERT_EQ(create_ttl(l, "/touched", 500).err(), ErrorCode::kOk);
  advance(400);
  ASSERT_EQ(set_data(l, "/touched", "x").err(), ErrorCode::kOk);  // mtime moves on
  advance(100);  // 500 ms old: not yet past its ttl
  EXPECT_TRUE(node_exists("/t"));
  advance(100);
  EXPECT_FALSE(node_exists("/t"));
  EXPECT_TRUE(node_exists("/busy"));  // TTL nodes with children stay
  EXPECT_TRUE(node_exists("/touched"));
  advance(400);
  EXPECT_FALSE(node_exists("/touched"));
  ASSERT_EQ(remove(l, "/busy/child").err(), ErrorCode::kOk);
  advance(100);
  EXPECT_FALSE(node_exists("/busy"));
  EXPECT_TRUE(core.tree().ttl_nodes().empty());
}

TEST(ServerCoreConfig, TtlNeedsExtendedTypes) {
  ServerConfig c;
  c.tick_ms = 2000;
  ServerCore core(c, kStart);
  FakeLink l(1, "127.0.0.1");
  core.attach(l, kStart);
  core.on_frame(l, connect_request(30000), kStart);
  auto req = create_request("/t", "", CreateMode::kPersistentWithTtl, kOpenAcl, 1000);
  core.on_frame(
      l, encode_request(1, OpCode::kCreateTtl, [=](wire::JuteWriter& w) { req.write(w, true); }),
      kStart);
  ASSERT_EQ(l.frames.size(), 2u);
  EXPECT_EQ(parse_reply(l.frames[1]).err(), ErrorCode::kUnimplemented);
  EXPECT_EQ(core.tree().find("/t"), nullptr);
}

}  // namespace
}  // namespace corral::server
