// A client reattaching to its session on a learner (ZooKeeper's Learner.validateSession and
// the leader's REVALIDATE answer): a session the learner has not applied yet is asked of the
// leader; the leader's verdict (live, password right) resumes it with the same id and
// password once the learner has caught up with the leader's zxid, else the client hears
// "expired"; without a leader the connection closes so the client tries another server.
// Sessions the learner knows are decided locally. The test plays the ensemble driver
// (ensemble_core_fixture.h), as QuorumPeer does with kRevalidate/kRevalidateReply relays.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "ensemble/server/server_core.h"
#include "tests/ensemble/ensemble_core_fixture.h"
#include "tests/ensemble/fake_link.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::server {
namespace {

using namespace test;

using wire::ErrorCode;
using wire::OpCode;

/// The session a client got from a server: its id and password.
struct Credentials {
  int64_t id = 0;
  std::string passwd;
};

class RevalidateTest : public EnsembleCoreTest {
 protected:
  /// A client creates a session on the leader; the learner may not apply it (learner_lags).
  Credentials session_on_leader(int32_t timeout_ms = 30000) {
    FakeLink& l = connect_leader(timeout_ms);
    wire::ConnectResponse rsp = parse_connect_response(l.frames.front());
    return {rsp.session_id, rsp.passwd};
  }

  /// A new connection to the learner that reattaches with `c` and asks for `timeout_ms`.
  FakeLink& reattach_learner(const Credentials& c, int32_t timeout_ms = 30000) {
    FakeLink& l = attach(learner);
    learner.on_frame(l, connect_request(timeout_ms, c.id, c.passwd), now);
    return l;
  }

  /// The ConnectResponse on `l`: its next unread frame.
  wire::ConnectResponse connect_response(FakeLink& l) {
    EXPECT_GT(l.frames.size(), l.read);
    if (l.frames.size() <= l.read) return {};
    return parse_connect_response(l.frames[l.read++]);
  }

  /// Checks `l` was told its session expired (ZooKeeper's timeout 0) and closed.
  void expect_expired(FakeLink& l) {
    EXPECT_EQ(l.frames.size(), l.read + 1);
    wire::ConnectResponse rsp = connect_response(l);
    EXPECT_EQ(rsp.session_id, 0);
    EXPECT_EQ(rsp.timeout_ms, 0);
    EXPECT_EQ(l.session_id, 0);
    EXPECT_EQ(l.close_calls, 1);
  }

  /// The leader's deadline for `session`.
  int64_t leader_deadline(int64_t session) {
    return leader.sessions().sessions().at(session).expires_at_ms;
  }
};

TEST_F(RevalidateTest, LearnerAsksTheLeaderAboutASessionItHasNotApplied) {
  learner_lags = true;
  Credentials c = session_on_leader();
  ASSERT_FALSE(alive(learner, c.id));
  FakeLink& l = reattach_learner(c, 20000);
  // A read sent right behind the handshake waits for it.
  int32_t xid = send(learner, l, OpCode::kExists, [](wire::JuteWriter& w) {
    wire::PathWatchRequest{"/", false}.write(w);
  });
  ASSERT_EQ(learner_repl.revalidations.size(), 1u);
  EXPECT_EQ(learner_repl.revalidations[0].session_id, c.id);
  EXPECT_EQ(learner_repl.revalidations[0].passwd, c.passwd);
  EXPECT_TRUE(l.frames.empty()) << "answered before the leader's verdict";

  // Valid at the leader's zxid, which the learner has not reached: still no answer.
  EXPECT_EQ(revalidate(), 1u);
  EXPECT_TRUE(l.frames.empty()) << "answered before the learner applied the session";
  EXPECT_EQ(l.close_calls, 0);

  EXPECT_EQ(catch_up_learner(), 1u);
  wire::ConnectResponse rsp = connect_response(l);
  EXPECT_EQ(rsp.session_id, c.id);
  EXPECT_EQ(rsp.passwd, c.passwd);
  EXPECT_EQ(rsp.timeout_ms, 20000);
  EXPECT_EQ(l.session_id, c.id);
  EXPECT_EQ(l.close_calls, 0);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  // The session works on the learner: its writes go to the leader under its id.
  learner_lags = false;
  catch_up_learner();
  send(learner, l, OpCode::kSync, [](wire::JuteWriter& w) { wire::PathRequest{"/"}.write(w); });
  EXPECT_EQ(learner_repl.syncs.size(), 1u);
}

TEST_F(RevalidateTest, LeaderAnswersAtOnceWhenTheLearnerIsAlreadyThere) {
  learner_lags = true;
  Credentials c = session_on_leader();
  FakeLink& l = reattach_learner(c);
  ASSERT_EQ(learner_repl.revalidations.size(), 1u);
  // The commit reaches the learner before the verdict does (the same connection brings both).
  EXPECT_EQ(catch_up_learner(), 1u);
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(revalidate(), 1u);
  EXPECT_EQ(connect_response(l).session_id, c.id);
  EXPECT_EQ(l.session_id, c.id);
}

TEST_F(RevalidateTest, WrongPasswordIsExpiredByTheLeader) {
  learner_lags = true;
  Credentials c = session_on_leader();
  Credentials wrong{c.id, std::string(16, 'x')};
  FakeLink& l = reattach_learner(wrong);
  int64_t deadline = leader_deadline(c.id);
  now += 5000;
  EXPECT_EQ(revalidate(), 1u);
  expect_expired(l);
  // A wrong password does not keep the session alive.
  EXPECT_EQ(leader_deadline(c.id), deadline);
  EXPECT_EQ(catch_up_learner(), 1u);
  EXPECT_EQ(l.frames.size(), l.read);
}

TEST_F(RevalidateTest, UnknownSessionIsExpiredByTheLeader) {
  FakeLink& l = reattach_learner({0x0300000000000042, std::string(16, '\0')});
  ASSERT_EQ(learner_repl.revalidations.size(), 1u);
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(revalidate(), 1u);
  expect_expired(l);
}

TEST_F(RevalidateTest, SessionTheLeaderIsExpiringIsInvalid) {
  learner_lags = true;
  Credentials c = session_on_leader(4000);
  FakeLink& l = reattach_learner(c);
  // The leader's clock passes the deadline: it proposes closeSession (not committed yet).
  now += 5000;
  leader.tick(now);
  ASSERT_EQ(proposal().type, OpCode::kCloseSession);
  EXPECT_EQ(revalidate(), 1u);
  expect_expired(l);
}

TEST_F(RevalidateTest, LeaderTouchesARevalidatedSession) {
  learner_lags = true;
  Credentials c = session_on_leader(10000);
  now += 8000;
  FakeLink& l = reattach_learner(c, 10000);
  EXPECT_EQ(revalidate(), 1u);
  EXPECT_EQ(leader_deadline(c.id), now + 10000);
  catch_up_learner();
  EXPECT_EQ(connect_response(l).session_id, c.id);
}

TEST_F(RevalidateTest, SessionClosedBeforeTheVerdictIsExpired) {
  learner_lags = true;
  Credentials c = session_on_leader();
  FakeLink& l = reattach_learner(c);
  // The leader expires the session and its closeSession commits before the verdict.
  leader.tick(now + 31000);
  EXPECT_EQ(commit(), 1u);
  EXPECT_EQ(revalidate(), 1u);
  expect_expired(l);
  EXPECT_EQ(catch_up_learner(), 2u);
  EXPECT_FALSE(alive(learner, c.id));
}

TEST_F(RevalidateTest, SessionClosedAfterTheVerdictClosesTheConnection) {
  learner_lags = true;
  Credentials c = session_on_leader();
  FakeLink& l = reattach_learner(c);
  EXPECT_EQ(revalidate(), 1u);
  // Closed after the verdict: the learner resumes it at the verdict's zxid, then applies the
  // closeSession like any other and drops the connection.
  leader.tick(now + 31000);
  EXPECT_EQ(commit(), 1u);
  EXPECT_EQ(catch_up_learner(), 2u);
  EXPECT_EQ(connect_response(l).session_id, c.id);
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_FALSE(alive(learner, c.id));
}

TEST_F(RevalidateTest, UnreachableLeaderClosesTheConnectionWithoutAnAnswer) {
  learner_lags = true;
  Credentials c = session_on_leader();
  learner_repl.leader_reachable = false;
  FakeLink& l = reattach_learner(c);
  EXPECT_TRUE(l.frames.empty()) << "a client told 'expired' would drop a live session";
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_EQ(l.session_id, 0);
}

TEST_F(RevalidateTest, StoppingToServeWhileWaitingClosesTheConnection) {
  learner_lags = true;
  Credentials c = session_on_leader();
  FakeLink& l = reattach_learner(c);
  learner.stop_serving();
  EXPECT_EQ(l.close_calls, 1);
  // A verdict that still arrives answers nobody.
  EXPECT_EQ(revalidate(), 1u);
  catch_up_learner();
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(l.session_id, 0);
}

TEST_F(RevalidateTest, KnownSessionIsResumedWithoutAskingTheLeader) {
  Credentials c = session_on_leader();
  FakeLink& l = reattach_learner(c);
  EXPECT_TRUE(learner_repl.revalidations.empty());
  EXPECT_EQ(connect_response(l).session_id, c.id);
  EXPECT_EQ(l.session_id, c.id);
}

TEST_F(RevalidateTest, KnownSessionWithAWrongPasswordIsExpiredWithoutAskingTheLeader) {
  Credentials c = session_on_leader();
  FakeLink& l = reattach_learner({c.id, std::string(16, 'x')});
  EXPECT_TRUE(learner_repl.revalidations.empty());
  expect_expired(l);
}

TEST_F(RevalidateTest, LeaderDecidesUnknownSessionsItself) {
  FakeLink& l = attach(leader);
  leader.on_frame(l, connect_request(30000, 0x0300000000000042, std::string(16, '\0')), now);
  EXPECT_TRUE(learner_repl.revalidations.empty());
  expect_expired(l);
}

}  // namespace
}  // namespace corral::server
