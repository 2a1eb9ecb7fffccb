// skipACL=yes through ServerCore: every request that checks an ACL in ZooKeeper
// (ZooKeeperServer.checkACL returns at once with zookeeper.skipACL=yes) ignores the ACL, and
// watch events reach watchers that may not read (the CVE-2024-23944 check is a checkACL too).
// With the default the same requests are refused, so the switch is what lets them through.
#include <gtest/gtest.h>

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

using wire::ErrorCode;
using wire::OpCode;
namespace perms = wire::perms;

constexpr int64_t kStart = 1'700'000'000'000;

BodyFn path_watch(const std::string& path, bool watch) {
  return [=](wire::JuteWriter& w) { wire::PathWatchRequest{path, watch}.write(w); };
}

class SkipAclCoreTest : public ::testing::TestWithParam<bool> {
 protected:
  static ServerConfig make_config(bool skip) {
    ServerConfig c;
    c.tick_ms = 2000;
    c.skip_acl = skip;
    return c;
  }

  FakeLink& connect() {
    links_.push_back(std::make_unique<FakeLink>(links_.size() + 1, "127.0.0.1"));
    FakeLink& l = *links_.back();
    core.attach(l, kStart);
    core.on_frame(l, connect_request(30000), kStart);
    EXPECT_NE(l.session_id, 0);
    l.read = l.frames.size();
    return l;
  }

  // Sends a request; returns its reply, counting the watch events sent with it.
  Reply call(FakeLink& l, OpCode type, const BodyFn& body, int32_t xid = 0) {
    xid = xid ? xid : ++l.next_xid;
    core.on_frame(l, encode_request(xid, type, body), kStart);
    Reply reply{{INT32_MIN, 0, 0}, {}};
    for (; l.read < l.frames.size(); ++l.read) {
      Reply r = parse_reply(l.frames[l.read]);
      if (r.is_event())
        ++events;
      else
        reply = r;
    }
    EXPECT_EQ(reply.xid(), xid);
    return reply;
  }

  ErrorCode create(FakeLink& l, const std::string& path, const wire::AclList& acl) {
    wire::CreateRequest req;
    req.path = path;
    req.acl = acl;
    return call(l, OpCode::kCreate, [=](wire::JuteWriter& w) { req.write(w, false); }).err();
  }

  ServerCore core{make_config(GetParam()), kStart};
  int events = 0;
  // Only alice's digest may do anything on /locked and below.
  const wire::AclList alice_only{{perms::kAll, {"digest", tree::digest_of("alice:secret")}}};

 private:
  std::vector<std::unique_ptr<FakeLink>> links_;
};

TEST_P(SkipAclCoreTest, EveryOpIgnoresAcls) {
  bool skip = GetParam();
  ErrorCode want = skip ? ErrorCode::kOk : ErrorCode::kNoAuth;
  FakeLink& alice = connect();
  ASSERT_EQ(call(
                alice, OpCode::kAuth,
                [](wire::JuteWriter& w) {
                  wire::AuthPacket{0, "digest", "alice:secret"}.write(w);
                },
                wire::kAuthXid)
                .err(),
            ErrorCode::kOk);
  ASSERT_EQ(create(alice, "/locked", alice_only), ErrorCode::kOk);
  ASSERT_EQ(create(alice, "/locked/a", alice_only), ErrorCode::kOk);
  FakeLink& stranger = connect();

  // Reads.
  EXPECT_EQ(call(stranger, OpCode::kGetData, path_watch("/locked/a", true)).err(), want);
  EXPECT_EQ(call(stranger, OpCode::kGetChildren, path_watch("/locked", false)).err(), want);
  EXPECT_EQ(call(stranger, OpCode::kGetChildren2, path_watch("/locked", false)).err(), want);
  Reply acl = call(stranger, OpCode::kGetAcl,
                   [](wire::JuteWriter& w) { wire::PathRequest{"/locked/a"}.write(w); });
  EXPECT_EQ(acl.err(), want);
  if (skip) {
    // Not redacted: ZooKeeper redacts digests only when the ADMIN check fails.
    wire::JuteReader r(acl.body);
    EXPECT_EQ(wire::read_acls(r), alice_only);
  }
  Reply multi_read = call(stranger, OpCode::kMultiRead, [](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(OpCode::kGetData), false, -1}.write(w);
    wire::PathWatchRequest{"/locked/a", false}.write(w);
    wire::MultiHeader{-1, true, -1}.write(w);
  });
  wire::JuteReader mr(multi_read.body);
  EXPECT_EQ(wire::MultiHeader::read(mr).err, static_cast<int32_t>(skip ? 0 : -102));

  // Writes.
  EXPECT_EQ(create(stranger, "/locked/b", alice_only), want);
  EXPECT_EQ(call(stranger, OpCode::kSetData,
                 [](wire::JuteWriter& w) {
                   wire::SetDataRequest{"/locked/a", "x", false, -1}.write(w);
                 })
                .err(),
            want);
  // An exists watch is set whatever the ACL; the event is checked against READ when it fires.
  ASSERT_EQ(call(stranger, OpCode::kExists, path_watch("/locked/a", true)).err(), ErrorCode::kOk);
  int events_before = events;
  ASSERT_EQ(call(alice, OpCode::kSetData,
                 [](wire::JuteWriter& w) {
                   wire::SetDataRequest{"/locked/a", "y", false, -1}.write(w);
                 })
                .err(),
            ErrorCode::kOk);
  call(stranger, OpCode::kPing, nullptr, -2);
  EXPECT_EQ(events - events_before, skip ? 1 : 0);
  EXPECT_EQ(call(stranger, OpCode::kSetAcl,
                 [&](wire::JuteWriter& w) {
                   wire::SetAclRequest{"/locked/a", alice_only, -1}.write(w);
                 })
                .err(),
            want);
  EXPECT_EQ(call(stranger, OpCode::kDelete,
                 [](wire::JuteWriter& w) {
                   wire::PathVersionRequest{"/locked/a", -1}.write(w);
                 })
                .err(),
            want);
  // Other checks are kept.
  EXPECT_EQ(call(stranger, OpCode::kDelete,
                 [](wire::JuteWriter& w) {
                   wire::PathVersionRequest{"/none", -1}.write(w);
                 })
                .err(),
            ErrorCode::kNoNode);
}

INSTANTIATE_TEST_SUITE_P(DefaultAndSkipAcl, SkipAclCoreTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "SkipAcl" : "Default"; });

}  // namespace
}  // namespace corral::server
