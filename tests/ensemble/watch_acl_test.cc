// Authorization of watch events at the moment they fire (CVE-2024-23944, fixed in ZooKeeper
// 3.8.4/3.9.2 and in Debian's 3.8.0-11+deb12u2), and the READ check of exists behind
// corral.exists.checkReadAcl (ZOOKEEPER-2590). Requests go through ServerCore over in-memory
// links, as a client would send them; the same cases run against real ZooKeeper in
// tests/compat/scenario_watch_acl.cc, except the exists switch: ZooKeeper 3.8 cannot turn the
// check on and 3.9 cannot turn it off, so only Corral tests it, here.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/server/server_core.h"
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
const wire::AclList kOpen{{perms::kAll, {"world", "anyone"}}};
// Everything but READ: the node can still be changed and deleted by anyone.
const wire::AclList kNoRead{{perms::kAll & ~perms::kRead, {"world", "anyone"}}};

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

wire::CreateRequest create_request(const std::string& path, const wire::AclList& acl) {
  wire::CreateRequest req;
  req.path = path;
  req.acl = acl;
  req.flags = static_cast<int32_t>(CreateMode::kPersistent);
  return req;
}

// A multi op: its header, then its record.
BodyFn multi_op(OpCode type, BodyFn record) {
  return [=](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(type), false, -1}.write(w);
    record(w);
  };
}

class WatchAclTest : public ::testing::Test {
 protected:
  static ServerConfig make_config(bool exists_checks_read) {
    ServerConfig c;
    c.tick_ms = 2000;
    c.super_digest = tree::digest_of("super:test");
    c.exists_checks_read = exists_checks_read;
    return c;
  }

  void use_exists_check(bool on) { core = std::make_unique<ServerCore>(make_config(on), kStart); }

  FakeLink& connect() {
    links_.push_back(std::make_unique<FakeLink>(next_link_id_++, "127.0.0.1"));
    FakeLink& l = *links_.back();
    core->attach(l, kStart);
    core->on_frame(l, connect_request(30000), kStart);
    EXPECT_NE(l.session_id, 0);
    l.read = l.frames.size();
    return l;
  }

  // Sends a request; returns its reply and keeps any notifications for events().
  Reply call(FakeLink& l, OpCode type, const BodyFn& body, int32_t xid = 0) {
    xid = xid ? xid : ++l.next_xid;
    core->on_frame(l, encode_request(xid, type, body), kStart);
    Reply reply{{INT32_MIN, 0, 0}, {}};
    for (; l.read < l.frames.size(); ++l.read) {
      Reply r = parse_reply(l.frames[l.read]);
      if (r.is_event())
        pending_[&l].push_back(r);
      else
        reply = r;
    }
    EXPECT_EQ(reply.xid(), xid);
    return reply;
  }

  std::vector<Event> events(FakeLink& l) {
    call(l, OpCode::kPing, nullptr);  // every event sent before the reply has arrived
    std::vector<Event> out;
    for (const Reply& r : pending_[&l]) {
      wire::JuteReader in(r.body);
      auto e = wire::WatcherEvent::read(in);
      out.push_back({static_cast<EventType>(e.type), e.path});
    }
    pending_[&l].clear();
    return out;
  }

  ErrorCode create(FakeLink& l, const std::string& path, const wire::AclList& acl = kOpen) {
    auto req = create_request(path, acl);
    return call(l, OpCode::kCreate, [=](wire::JuteWriter& w) { req.write(w, false); }).err();
  }
  ErrorCode exists(FakeLink& l, const std::string& path, bool watch = true) {
    return call(l, OpCode::kExists, path_watch(path, watch)).err();
  }
  ErrorCode get_data(FakeLink& l, const std::string& path) {
    return call(l, OpCode::kGetData, path_watch(path, true)).err();
  }
  ErrorCode get_children(FakeLink& l, const std::string& path) {
    return call(l, OpCode::kGetChildren, path_watch(path, true)).err();
  }
  ErrorCode add_watch(FakeLink& l, const std::string& path, bool recursive) {
    return call(l, OpCode::kAddWatch,
                [=](wire::JuteWriter& w) {
                  wire::PathIntRequest{path, recursive ? 1 : 0}.write(w);
                })
        .err();
  }
  ErrorCode set_data(FakeLink& l, const std::string& path, const std::string& data) {
    return call(l, OpCode::kSetData,
                [=](wire::JuteWriter& w) {
                  wire::SetDataRequest{path, data, false, -1}.write(w);
                })
        .err();
  }
  ErrorCode set_acl(FakeLink& l, const std::string& path, const wire::AclList& acl) {
    return call(l, OpCode::kSetAcl,
                [=](wire::JuteWriter& w) {
                  wire::SetAclRequest{path, acl, -1}.write(w);
                })
        .err();
  }
  ErrorCode remove(FakeLink& l, const std::string& path) {
    return call(l, OpCode::kDelete,
                [=](wire::JuteWriter& w) {
                  wire::PathVersionRequest{path, -1}.write(w);
                })
        .err();
  }
  ErrorCode auth(FakeLink& l, const std::string& user_password) {
    return call(
               l, OpCode::kAuth,
               [=](wire::JuteWriter& w) {
                 wire::AuthPacket{0, "digest", user_password}.write(w);
               },
               wire::kAuthXid)
        .err();
  }
  bool watches(FakeLink& l, const std::string& path) {
    return core->watches().contains(path, l.id, wire::WatcherType::kAny);
  }

  std::unique_ptr<ServerCore> core = std::make_unique<ServerCore>(make_config(false), kStart);

 private:
  std::vector<std::unique_ptr<FakeLink>> links_;
  uint64_t next_link_id_ = 1;
  std::map<FakeLink*, std::vector<Reply>> pending_;
};

using Events = std::vector<Event>;

// --- CVE-2024-23944: events are checked against READ when they fire ---------------------------

TEST_F(WatchAclTest, ExistsWatchIsNotToldOfDeleteAfterReadWasRemoved) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/n"), ErrorCode::kOk);
  ASSERT_EQ(exists(watcher, "/n"), ErrorCode::kOk);
  ASSERT_EQ(set_acl(owner, "/n", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(remove(owner, "/n"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), Events{});
  // The watch fired and is spent, as in ZooKeeper: it does not wait for a readable change.
  EXPECT_FALSE(watches(watcher, "/n"));
}

TEST_F(WatchAclTest, ControlWatcherKeepingReadIsTold) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/n"), ErrorCode::kOk);
  ASSERT_EQ(exists(watcher, "/n"), ErrorCode::kOk);
  ASSERT_EQ(set_acl(owner, "/n", {{perms::kRead | perms::kDelete, {"world", "anyone"}}}),
            ErrorCode::kOk);
  ASSERT_EQ(remove(owner, "/n"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeDeleted, "/n"}}));
}

TEST_F(WatchAclTest, DataWatchIsNotToldOfSetDataAfterReadWasRemoved) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/n"), ErrorCode::kOk);
  ASSERT_EQ(get_data(watcher, "/n"), ErrorCode::kOk);
  ASSERT_EQ(set_acl(owner, "/n", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(set_data(owner, "/n", "secret"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), Events{});
  // READ back: the one-shot watch was spent by the event it was not told of.
  ASSERT_EQ(set_acl(owner, "/n", kOpen), ErrorCode::kOk);
  ASSERT_EQ(set_data(owner, "/n", "again"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), Events{});
}

TEST_F(WatchAclTest, ChildrenChangedIsCheckedAgainstTheParent) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/p"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/q"), ErrorCode::kOk);
  ASSERT_EQ(get_children(watcher, "/p"), ErrorCode::kOk);
  ASSERT_EQ(get_children(watcher, "/q"), ErrorCode::kOk);
  // /p loses READ: a child created under it is not announced. /q keeps it: a child the
  // watcher cannot read is announced, since the event names only /q.
  ASSERT_EQ(set_acl(owner, "/p", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/p/c"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/q/secret", kNoRead), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeChildrenChanged, "/q"}}));
}

TEST_F(WatchAclTest, CreatedAndDeletedAreCheckedAgainstTheNodeItself) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/p", kNoRead), ErrorCode::kOk);
  // Under an unreadable parent, a readable node's own events are delivered.
  ASSERT_EQ(exists(watcher, "/p/open"), ErrorCode::kNoNode);
  ASSERT_EQ(create(owner, "/p/open"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeCreated, "/p/open"}}));
  ASSERT_EQ(exists(watcher, "/p/open"), ErrorCode::kOk);
  ASSERT_EQ(remove(owner, "/p/open"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeDeleted, "/p/open"}}));
  // A node created without READ is not announced to an exists watch.
  ASSERT_EQ(exists(watcher, "/hidden"), ErrorCode::kNoNode);
  ASSERT_EQ(create(owner, "/hidden", kNoRead), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), Events{});
}

TEST_F(WatchAclTest, PersistentWatchSkipsEventsWhileReadIsMissing) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/n"), ErrorCode::kOk);
  ASSERT_EQ(add_watch(watcher, "/n", false), ErrorCode::kOk);
  ASSERT_EQ(set_acl(owner, "/n", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(set_data(owner, "/n", "1"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/n/c"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), Events{});
  // The watch persists: with READ back, events flow again.
  ASSERT_EQ(set_acl(owner, "/n", kOpen), ErrorCode::kOk);
  ASSERT_EQ(set_data(owner, "/n", "2"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeDataChanged, "/n"}}));
}

TEST_F(WatchAclTest, RecursiveWatchLearnsNothingOfAnUnreadableDescendant) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/a"), ErrorCode::kOk);
  ASSERT_EQ(add_watch(watcher, "/a", true), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/a/secret", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(set_data(owner, "/a/secret", "x"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/a/secret/deeper", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(remove(owner, "/a/secret/deeper"), ErrorCode::kOk);
  ASSERT_EQ(remove(owner, "/a/secret"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), Events{});
  ASSERT_EQ(create(owner, "/a/public"), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeCreated, "/a/public"}}));
}

TEST_F(WatchAclTest, DigestIdentityWithReadIsToldAndOthersAreNot) {
  FakeLink& owner = connect();
  FakeLink& alice = connect();
  FakeLink& stranger = connect();
  ASSERT_EQ(auth(alice, "alice:secret"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/n"), ErrorCode::kOk);
  ASSERT_EQ(exists(alice, "/n"), ErrorCode::kOk);
  ASSERT_EQ(exists(stranger, "/n"), ErrorCode::kOk);
  wire::AclList alice_reads{{perms::kRead, {"digest", tree::digest_of("alice:secret")}},
                            {perms::kAll & ~perms::kRead, {"world", "anyone"}}};
  ASSERT_EQ(set_acl(owner, "/n", alice_reads), ErrorCode::kOk);
  ASSERT_EQ(set_data(owner, "/n", "for alice"), ErrorCode::kOk);
  EXPECT_EQ(events(alice), (Events{{EventType::kNodeDataChanged, "/n"}}));
  EXPECT_EQ(events(stranger), Events{});
}

TEST_F(WatchAclTest, SuperUserIsToldOfEverything) {
  FakeLink& owner = connect();
  FakeLink& super = connect();
  ASSERT_EQ(auth(super, "super:test"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/a"), ErrorCode::kOk);
  ASSERT_EQ(add_watch(super, "/a", true), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/a/secret", {{perms::kRead, {"ip", "10.9.9.9"}}}), ErrorCode::kOk);
  EXPECT_EQ(events(super), (Events{{EventType::kNodeCreated, "/a/secret"}}));
}

TEST_F(WatchAclTest, EphemeralDeletedAtSessionCloseIsChecked) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  auto req = create_request("/e", kNoRead);
  req.flags = static_cast<int32_t>(CreateMode::kEphemeral);
  ASSERT_EQ(call(owner, OpCode::kCreate, [=](wire::JuteWriter& w) { req.write(w, false); }).err(),
            ErrorCode::kOk);
  ASSERT_EQ(exists(watcher, "/e"), ErrorCode::kOk);
  ASSERT_EQ(add_watch(watcher, "/", true), ErrorCode::kOk);
  ASSERT_EQ(call(owner, OpCode::kCloseSession, nullptr).err(), ErrorCode::kOk);
  ASSERT_EQ(core->tree().find("/e"), nullptr);
  EXPECT_EQ(events(watcher), Events{});
}

TEST_F(WatchAclTest, EachOpOfAMultiIsCheckedWithTheAclOfItsMoment) {
  FakeLink& owner = connect();
  FakeLink& watcher = connect();
  ASSERT_EQ(create(owner, "/m"), ErrorCode::kOk);
  ASSERT_EQ(add_watch(watcher, "/m", false), ErrorCode::kOk);
  // The readable /m goes and an unreadable /m takes its place in one txn: the delete is
  // announced (the old node's ACL), the create is not (the new node's).
  auto recreate = create_request("/m", kNoRead);
  Reply r = call(owner, OpCode::kMulti, [=](wire::JuteWriter& w) {
    multi_op(OpCode::kDelete, [](wire::JuteWriter& o) {
      wire::PathVersionRequest{"/m", -1}.write(o);
    })(w);
    multi_op(OpCode::kCreate, [=](wire::JuteWriter& o) { recreate.write(o, false); })(w);
    wire::MultiHeader{-1, true, -1}.write(w);
  });
  ASSERT_EQ(r.err(), ErrorCode::kOk);
  EXPECT_EQ(events(watcher), (Events{{EventType::kNodeDeleted, "/m"}}));
}

// --- ZOOKEEPER-2590: exists and READ, behind corral.exists.checkReadAcl ------------------------

TEST_F(WatchAclTest, ExistsIgnoresReadByDefaultAsZooKeeper38) {
  FakeLink& owner = connect();
  FakeLink& other = connect();
  ASSERT_EQ(create(owner, "/n", kNoRead), ErrorCode::kOk);
  EXPECT_EQ(exists(other, "/n"), ErrorCode::kOk);
  EXPECT_TRUE(watches(other, "/n"));
}

TEST_F(WatchAclTest, ExistsCheckRefusesWithoutReadAndSetsNoWatch) {
  use_exists_check(true);
  FakeLink& owner = connect();
  FakeLink& other = connect();
  ASSERT_EQ(create(owner, "/n", kNoRead), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/open"), ErrorCode::kOk);
  EXPECT_EQ(exists(other, "/n"), ErrorCode::kNoAuth);
  EXPECT_FALSE(watches(other, "/n"));
  EXPECT_EQ(call(other, OpCode::kExists, path_watch("/n", true)).body, "");
  EXPECT_EQ(exists(other, "/open"), ErrorCode::kOk);
  EXPECT_TRUE(watches(other, "/open"));
}

TEST_F(WatchAclTest, ExistsCheckSkipsMissingNodesWhichStillGetTheirWatch) {
  use_exists_check(true);
  FakeLink& owner = connect();
  FakeLink& other = connect();
  ASSERT_EQ(create(owner, "/p", {{perms::kCreate, {"world", "anyone"}}}), ErrorCode::kOk);
  // Nothing is checked on a node that is not there, not even the parent's READ.
  EXPECT_EQ(exists(other, "/p/missing"), ErrorCode::kNoNode);
  EXPECT_TRUE(watches(other, "/p/missing"));
  ASSERT_EQ(create(owner, "/p/missing"), ErrorCode::kOk);
  EXPECT_EQ(events(other), (Events{{EventType::kNodeCreated, "/p/missing"}}));
}

TEST_F(WatchAclTest, ExistsCheckPassesSuperAndDigestReaders) {
  use_exists_check(true);
  FakeLink& owner = connect();
  FakeLink& super = connect();
  FakeLink& alice = connect();
  ASSERT_EQ(auth(super, "super:test"), ErrorCode::kOk);
  ASSERT_EQ(auth(alice, "alice:secret"), ErrorCode::kOk);
  ASSERT_EQ(create(owner, "/n", {{perms::kRead, {"digest", tree::digest_of("alice:secret")}}}),
            ErrorCode::kOk);
  EXPECT_EQ(exists(super, "/n"), ErrorCode::kOk);
  EXPECT_EQ(exists(alice, "/n"), ErrorCode::kOk);
  EXPECT_EQ(exists(owner, "/n"), ErrorCode::kNoAuth);
}

}  // namespace
}  // namespace corral::server
