// ServerCore's admission: a connection stops being read at its own limit of outstanding
// requests, and every connection with requests outstanding stops while the server as a whole
// is at globalOutstandingLimit (ZooKeeper's ServerCnxn throttle); an idle connection is still
// read; throttled connections are woken once the server is under the limit again.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/server/server_core.h"
#include "ensemble/server/txn_log.h"
#include "tests/ensemble/fake_link.h"
#include "wire/records.h"

namespace corral::server {
namespace {

using namespace test;
using wire::OpCode;

constexpr int64_t kStart = 1'700'000'000'000;

/// A log whose Txns become durable, oldest first, when the test says.
class FakeLog : public TxnLog {
 public:
  void append(tree::SharedTxn, std::function<void()> durable) override {
    pending.push_back(std::move(durable));
  }
  void complete(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      auto durable = std::move(pending.front());
      pending.pop_front();
      durable();
    }
  }
  std::deque<std::function<void()>> pending;
};

class ThrottleTest : public ::testing::Test {
 protected:
  ThrottleTest() { core.set_log(&log); }

  static ServerConfig make_config() {
    ServerConfig c;
    c.global_outstanding_limit = 10;
    c.connection_outstanding_limit = 6;
    return c;
  }

  FakeLink& connect() {
    links_.push_back(std::make_unique<FakeLink>(next_id_++, "127.0.0.1"));
    FakeLink& l = *links_.back();
    core.attach(l, kStart);
    core.on_frame(l, connect_request(30000), kStart);
    log.complete(1);
    EXPECT_EQ(l.frames.size(), 1u);
    return l;
  }

  void create(FakeLink& l) {
    wire::CreateRequest req;
    req.path = "/n" + std::to_string(next_node_++);
    req.acl = {{wire::perms::kAll, {"world", "anyone"}}};
    core.on_frame(l,
                  encode_request(++l.next_xid, OpCode::kCreate,
                                 [&](wire::JuteWriter& w) { req.write(w, false); }),
                  kStart);
  }
  void ping(FakeLink& l) {
    core.on_frame(l, encode_request(++l.next_xid, OpCode::kPing, nullptr), kStart);
  }

  FakeLog log;
  ServerCore core{make_config(), kStart};
  std::vector<std::unique_ptr<FakeLink>> links_;
  uint64_t next_id_ = 1;
  int next_node_ = 0;
};

TEST_F(ThrottleTest, ConnectionLimitStopsOnlyThatConnection) {
  FakeLink& a = connect();
  FakeLink& b = connect();
  for (int i = 0; i < 5; ++i) create(a);
  EXPECT_TRUE(core.accepts(a));
  create(a);
  EXPECT_FALSE(core.accepts(a));  // 6 of its own
  EXPECT_TRUE(core.accepts(b));
  EXPECT_EQ(core.global_outstanding(), 6u);
  log.complete(1);
  EXPECT_TRUE(core.accepts(a));
  EXPECT_EQ(a.wake_calls, 1);
  EXPECT_EQ(b.wake_calls, 0);
}

TEST_F(ThrottleTest, GlobalLimitStopsBusyConnectionsAndWakesThem) {
  FakeLink& a = connect();
  FakeLink& b = connect();
  FakeLink& idle = connect();
  for (int i = 0; i < 5; ++i) create(a);
  for (int i = 0; i < 5; ++i) create(b);
  EXPECT_EQ(core.global_outstanding(), 10u);
  EXPECT_FALSE(core.accepts(a));
  EXPECT_FALSE(core.accepts(b));
  // Nothing outstanding of its own: still read, so a new or idle client is served.
  EXPECT_TRUE(core.accepts(idle));
  log.complete(1);  // a's oldest write: 9 outstanding
  EXPECT_EQ(a.wake_calls, 1);
  EXPECT_EQ(b.wake_calls, 1);
  EXPECT_EQ(idle.wake_calls, 0);
  EXPECT_TRUE(core.accepts(a));
  log.complete(9);
  EXPECT_EQ(a.wake_calls, 1);  // woken once, when it became readable
  EXPECT_EQ(core.global_outstanding(), 0u);
}

TEST_F(ThrottleTest, HeldFramesCountAndGoWithTheirConnection) {
  FakeLink& a = connect();
  FakeLink& b = connect();
  create(a);
  for (int i = 0; i < 4; ++i) ping(a);  // held behind the create
  for (int i = 0; i < 5; ++i) create(b);
  EXPECT_EQ(core.global_outstanding(), 10u);
  EXPECT_FALSE(core.accepts(b));
  core.detach(a);  // its write stays in the log; its held pings are gone
  EXPECT_EQ(core.global_outstanding(), 6u);
  log.complete(1);  // a's create: no link to answer, the server is under the limit
  EXPECT_EQ(b.wake_calls, 1);
  EXPECT_EQ(core.outstanding_requests(), 5u);
}

}  // namespace
}  // namespace corral::server
