// ServerCore with a TxnLog: writes are logged before they apply, a session's
// writes pipeline, and its other requests wait for the writes sent before them.
// The log here is in memory and makes Txns durable only when the test says.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/server/server_core.h"
#include "ensemble/server/txn_log.h"
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

/// A log that queues Txns and makes them durable, in order, when told to.
class FakeLog : public TxnLog {
 public:
  void append(tree::SharedTxn txn, std::function<void()> durable) override {
    pending.emplace_back(std::move(txn), std::move(durable));
  }
  /// Makes the `n` oldest Txns durable, one after the other. Txns appended by
  /// their callbacks are not among them.
  void complete(size_t n = 1) {
    ASSERT_LE(n, pending.size());
    std::deque<std::pair<tree::SharedTxn, std::function<void()>>> batch;
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(pending.front()));
      pending.pop_front();
    }
    for (auto& [txn, durable] : batch) durable();
  }
  size_t size() const { return pending.size(); }

  std::deque<std::pair<tree::SharedTxn, std::function<void()>>> pending;
};

wire::WatcherEvent parse_event(const Reply& rep) {
  EXPECT_TRUE(rep.is_event());
  wire::JuteReader r(rep.body);
  return wire::WatcherEvent::read(r);
}

// The data of a getData reply.
std::string data_of(const Reply& rep) {
  wire::JuteReader r(rep.body);
  return r.buffer();
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() { core.set_log(&log); }

  static ServerConfig make_config() {
    ServerConfig c;
    c.tick_ms = 2000;
    c.my_id = 3;
    c.container_check_interval_ms = 100;
    c.extended_types_enabled = true;
    return c;
  }

  FakeLink& attach() {
    links_.push_back(std::make_unique<FakeLink>(next_link_id_++, "127.0.0.1"));
    core.attach(*links_.back(), now);
    return *links_.back();
  }

  // A link with an established session (its createSession made durable).
  FakeLink& connect() {
    FakeLink& l = attach();
    core.on_frame(l, connect_request(30000), now);
    EXPECT_EQ(log.size(), 1u);
    log.complete(1);
    EXPECT_EQ(l.frames.size(), 1u);
    EXPECT_NE(parse_connect_response(l.frames[0]).session_id, 0);
    l.read = l.frames.size();
    return l;
  }

  // Sends a request without waiting for anything; returns its xid.
  int32_t send(FakeLink& l, OpCode type, const BodyFn& body = nullptr) {
    int32_t xid = ++l.next_xid;
    core.on_frame(l, encode_request(xid, type, body), now);
    return xid;
  }
  int32_t send_create(FakeLink& l, const std::string& path, const std::string& data = "",
                      CreateMode mode = CreateMode::kPersistent, wire::AclList acl = kOpenAcl) {
    wire::CreateRequest req;
    req.path = path;
    req.data = data;
    req.acl = std::move(acl);
    req.flags = static_cast<int32_t>(mode);
    return send(l, OpCode::kCreate2, [=](wire::JuteWriter& w) { req.write(w, false); });
  }
  int32_t send_get_data(FakeLink& l, const std::string& path, bool watch = false) {
    return send(l, OpCode::kGetData, [=](wire::JuteWriter& w) {
      wire::PathWatchRequest{path, watch}.write(w);
    });
  }
  int32_t send_set_data(FakeLink& l, const std::string& path, const std::string& data) {
    return send(l, OpCode::kSetData, [=](wire::JuteWriter& w) {
      wire::SetDataRequest{path, data, false, -1}.write(w);
    });
  }
  void send_auth(FakeLink& l, const std::string& scheme, const std::string& secret) {
    core.on_frame(l,
                  encode_request(wire::kAuthXid, OpCode::kAuth,
                                 [=](wire::JuteWriter& w) {
                                   wire::AuthPacket{0, scheme, secret}.write(w);
                                 }),
                  now);
  }

  // Frames sent to `l` since the last look.
  std::vector<Reply> received(FakeLink& l) {
    std::vector<Reply> out;
    for (; l.read < l.frames.size(); ++l.read) out.push_back(parse_reply(l.frames[l.read]));
    return out;
  }

  static std::vector<int32_t> xids(const std::vector<Reply>& replies) {
    std::vector<int32_t> out;
    for (const auto& r : replies) out.push_back(r.xid());
    return out;
  }

  // Sends one request and completes whatever it logged; returns its reply.
  Reply call_through(FakeLink& l, const std::function<int32_t()>& send_fn) {
    int32_t xid = send_fn();
    log.complete(log.size());
    auto replies = received(l);
    EXPECT_EQ(replies.size(), 1u);
    if (replies.empty()) return {};
    EXPECT_EQ(replies.back().xid(), xid);
    return replies.back();
  }

  bool node_exists(const std::string& path) { return core.tree().find(path) != nullptr; }

  FakeLog log;
  ServerCore core{make_config(), kStart};
  int64_t now = kStart;

 private:
  std::vector<std::unique_ptr<FakeLink>> links_;
  uint64_t next_link_id_ = 1;
};

// (1) A read between two writes sees the first and not the second, and every
// reply comes in request order.
TEST_F(PipelineTest, ReadBetweenWritesIsAnsweredInOrder) {
  FakeLink& l = connect();
  int32_t w1 = send_create(l, "/n", "one");
  int32_t r1 = send_get_data(l, "/n");
  int32_t w2 = send_set_data(l, "/n", "two");
  EXPECT_EQ(log.size(), 2u);  // W2 passed the held read into the log
  EXPECT_TRUE(received(l).empty());

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w1, r1}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kOk);
  ASSERT_EQ(replies[1].err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(replies[1]), "one");

  log.complete(1);
  replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w2}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kOk);
  EXPECT_EQ(core.tree().find("/n")->data, "two");
}

// (2) Writes go to the log without waiting for each other.
TEST_F(PipelineTest, WritesPipeline) {
  FakeLink& l = connect();
  std::vector<int32_t> sent;
  for (int i = 0; i < 500; ++i) sent.push_back(send_create(l, "/n" + std::to_string(i)));
  EXPECT_EQ(log.size(), 500u);
  EXPECT_TRUE(received(l).empty());
  EXPECT_EQ(l.writes_submitted - l.writes_completed, 500u);

  log.complete(500);
  auto replies = received(l);
  EXPECT_EQ(xids(replies), sent);
  int64_t prev = 0;
  for (const auto& r : replies) {
    EXPECT_EQ(r.err(), ErrorCode::kOk);
    EXPECT_GT(r.header.zxid, prev);
    prev = r.header.zxid;
  }
  EXPECT_EQ(prev, core.last_zxid());
  EXPECT_TRUE(node_exists("/n499"));
}

// (3) Another session's reads do not wait for, nor see, writes still in the log.
TEST_F(PipelineTest, OtherLinkReadsAppliedState) {
  FakeLink& writer = connect();
  FakeLink& reader = connect();
  int64_t applied = core.last_zxid();
  send_create(writer, "/x", "data");
  ASSERT_EQ(log.size(), 1u);

  int32_t r = send_get_data(reader, "/x");
  auto replies = received(reader);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{r}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kNoNode);
  EXPECT_EQ(replies[0].header.zxid, applied);

  log.complete(1);
  EXPECT_EQ(received(writer).size(), 1u);
  EXPECT_TRUE(received(reader).empty());
  r = send_get_data(reader, "/x");
  replies = received(reader);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{r}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(replies[0]), "data");
}

// (4) A write after setAuth is checked with the identity it adds.
TEST_F(PipelineTest, SetAuthIsABarrierForLaterWrites) {
  wire::AclList alice_only{{perms::kAll, {"digest", tree::digest_of("alice:secret")}}};
  FakeLink& owner = connect();
  ASSERT_EQ(
      call_through(
          owner,
          [&] { return send_create(owner, "/secure", "", CreateMode::kPersistent, alice_only); })
          .err(),
      ErrorCode::kOk);

  FakeLink& l = connect();
  int32_t w1 = send_create(l, "/a");
  send_auth(l, "digest", "alice:secret");
  int32_t w2 = send_create(l, "/secure/c");
  EXPECT_EQ(log.size(), 1u);  // W2 waits behind the auth
  EXPECT_TRUE(received(l).empty());

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w1, wire::kAuthXid}));
  EXPECT_EQ(replies[1].err(), ErrorCode::kOk);
  ASSERT_EQ(log.size(), 1u);

  log.complete(1);
  replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w2}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kOk);
  EXPECT_TRUE(node_exists("/secure/c"));
}

// (4b) Requests held behind a setAuth still wait for the writes held with them.
TEST_F(PipelineTest, ReadAfterWriteHeldBehindSetAuthWaitsForIt) {
  FakeLink& l = connect();
  int32_t w1 = send_create(l, "/a");
  send_auth(l, "digest", "alice:secret");
  int32_t w2 = send_create(l, "/b", "bee");
  int32_t r = send_get_data(l, "/b");
  int32_t w3 = send_create(l, "/c");
  EXPECT_EQ(log.size(), 1u);

  log.complete(1);
  EXPECT_EQ(xids(received(l)), (std::vector<int32_t>{w1, wire::kAuthXid}));
  EXPECT_EQ(log.size(), 1u);  // W2 is in the log; W3 waits behind the read again

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w2, r}));
  ASSERT_EQ(replies[1].err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(replies[1]), "bee");

  log.complete(log.size());
  EXPECT_EQ(xids(received(l)), (std::vector<int32_t>{w3}));
}

// (5) The session is answered once createSession is durable; requests sent
// before that are held and answered in order after it.
TEST_F(PipelineTest, HandshakeWaitsForCreateSession) {
  FakeLink& l = attach();
  core.on_frame(l, connect_request(30000), now);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(l.session_id, 0);

  int32_t ping = send(l, OpCode::kPing);
  int32_t w = send_create(l, "/h", "early");
  int32_t r = send_get_data(l, "/h");
  int32_t ping2 = send(l, OpCode::kPing);
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(log.size(), 1u);  // nothing is prepped before the session exists

  log.complete(1);
  ASSERT_GE(l.frames.size(), 1u);
  wire::ConnectResponse rsp = parse_connect_response(l.frames[0]);
  EXPECT_NE(rsp.session_id, 0);
  EXPECT_EQ(l.session_id, rsp.session_id);
  l.read = 1;
  EXPECT_EQ(xids(received(l)), (std::vector<int32_t>{ping}));
  ASSERT_EQ(log.size(), 1u);  // the create

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w, r, ping2}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kOk);
  ASSERT_EQ(replies[1].err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(replies[1]), "early");
}

// (5b) Writes held during the handshake still pipeline once it is done.
TEST_F(PipelineTest, WritesHeldByHandshakePipeline) {
  FakeLink& l = attach();
  core.on_frame(l, connect_request(30000), now);
  std::vector<int32_t> sent;
  for (int i = 0; i < 3; ++i) sent.push_back(send_create(l, "/p" + std::to_string(i)));
  log.complete(1);
  l.read = 1;
  EXPECT_EQ(log.size(), 3u);
  log.complete(3);
  EXPECT_EQ(xids(received(l)), sent);
}

// (6) A write's watch events go out when it applies, before its reply.
TEST_F(PipelineTest, WatchEventsComeWhenApplied) {
  FakeLink& l = connect();
  FakeLink& other = connect();
  ASSERT_EQ(call_through(l, [&] { return send_create(l, "/w", "v0"); }).err(), ErrorCode::kOk);
  ASSERT_EQ(call_through(l, [&] { return send_get_data(l, "/w", true); }).err(), ErrorCode::kOk);
  ASSERT_EQ(call_through(other, [&] { return send_get_data(other, "/w", true); }).err(),
            ErrorCode::kOk);

  int32_t w = send_set_data(l, "/w", "v1");
  EXPECT_TRUE(received(l).empty());
  EXPECT_TRUE(received(other).empty());

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(replies.size(), 2u);
  ASSERT_TRUE(replies[0].is_event());
  wire::WatcherEvent e = parse_event(replies[0]);
  EXPECT_EQ(e.type, static_cast<int32_t>(EventType::kNodeDataChanged));
  EXPECT_EQ(e.path, "/w");
  EXPECT_EQ(replies[1].xid(), w);
  auto seen = received(other);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(parse_event(seen[0]).path, "/w");
}

// (7) A link stops being read with 1000 requests outstanding and is woken when
// it drops below.
TEST_F(PipelineTest, BackpressureOnOutstandingRequests) {
  FakeLink& l = connect();
  for (int i = 0; i < 999; ++i) send_create(l, "/n" + std::to_string(i));
  EXPECT_TRUE(core.accepts(l));
  send_create(l, "/n999");
  EXPECT_FALSE(core.accepts(l));
  EXPECT_EQ(core.outstanding_requests(), 1000u);
  EXPECT_EQ(l.wake_calls, 0);

  log.complete(1);
  EXPECT_TRUE(core.accepts(l));
  EXPECT_EQ(l.wake_calls, 1);
  log.complete(log.size());
  EXPECT_EQ(l.wake_calls, 1);  // only when it was full
  EXPECT_EQ(received(l).size(), 1000u);

  // Held reads count too.
  send_create(l, "/m");
  for (int i = 0; i < 998; ++i) send(l, OpCode::kPing);
  EXPECT_TRUE(core.accepts(l));
  send(l, OpCode::kPing);
  EXPECT_FALSE(core.accepts(l));
  EXPECT_EQ(core.outstanding_requests(), 1000u);  // one write, 999 held pings
  log.complete(1);
  EXPECT_TRUE(core.accepts(l));
  EXPECT_EQ(core.outstanding_requests(), 0u);
  EXPECT_EQ(l.wake_calls, 2);
  EXPECT_EQ(received(l).size(), 1000u);
}

// (8) closeSession waits for the write before it, answers, then closes.
TEST_F(PipelineTest, CloseSessionAfterPendingWrite) {
  FakeLink& l = connect();
  int64_t sid = l.session_id;
  int32_t w = send_create(l, "/e", "", CreateMode::kEphemeral);
  int32_t c = send(l, OpCode::kCloseSession);
  EXPECT_EQ(log.size(), 1u);

  log.complete(1);
  EXPECT_EQ(xids(received(l)), (std::vector<int32_t>{w}));
  EXPECT_TRUE(node_exists("/e"));
  EXPECT_EQ(l.close_calls, 0);
  ASSERT_EQ(log.size(), 1u);  // the closeSession

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{c}));
  EXPECT_EQ(replies[0].err(), ErrorCode::kOk);
  EXPECT_EQ(replies[0].header.zxid, core.last_zxid());
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_FALSE(node_exists("/e"));
  EXPECT_EQ(core.sessions().sessions().count(sid), 0u);
  EXPECT_EQ(core.links().count(l.id), 0u);
}

// (9) A write whose link went away still applies; nobody is answered.
TEST_F(PipelineTest, WriteOfDetachedLinkStillApplies) {
  FakeLink& l = connect();
  send_create(l, "/d");
  send_get_data(l, "/d");
  core.detach(l);
  size_t frames = l.frames.size();

  log.complete(1);
  EXPECT_TRUE(node_exists("/d"));
  EXPECT_EQ(l.frames.size(), frames);
  EXPECT_TRUE(core.sessions().sessions().count(l.session_id) > 0);
}

// (10) Replies carry the last zxid applied, never one still in the log.
TEST_F(PipelineTest, ReplyZxidIsLastApplied) {
  FakeLink& l = connect();
  FakeLink& other = connect();
  Reply first = call_through(l, [&] { return send_create(l, "/z1"); });
  int64_t z1 = first.header.zxid;
  EXPECT_EQ(z1, core.last_zxid());

  int32_t w2 = send_create(l, "/z2");
  int32_t w3 = send_create(l, "/z3");
  ASSERT_EQ(log.size(), 2u);
  int64_t z2 = log.pending[0].first->zxid;
  int64_t z3 = log.pending[1].first->zxid;
  EXPECT_GT(z2, z1);
  EXPECT_GT(z3, z2);

  send(other, OpCode::kPing);
  send_get_data(other, "/z1");
  for (const auto& r : received(other)) EXPECT_EQ(r.header.zxid, z1);
  EXPECT_EQ(core.last_zxid(), z1);

  log.complete(1);
  auto replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w2}));
  EXPECT_EQ(replies[0].header.zxid, z2);
  send(other, OpCode::kPing);
  EXPECT_EQ(received(other).back().header.zxid, z2);

  log.complete(1);
  replies = received(l);
  ASSERT_EQ(xids(replies), (std::vector<int32_t>{w3}));
  EXPECT_EQ(replies[0].header.zxid, z3);
  EXPECT_EQ(core.last_zxid(), z3);
}

}  // namespace
}  // namespace corral::server
