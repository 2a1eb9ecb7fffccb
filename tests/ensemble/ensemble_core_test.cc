// ServerCore as a member of an ensemble, with a fake Replication standing in for ZAB: the
// leader prepares and proposes writes and answers them once they come back committed;
// learners forward writes (and new sessions) to the leader; sync waits for the ensemble and
// the tree; stopping to serve closes every connection; only the leader expires sessions;
// replace_state swaps the whole state.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/server/replication.h"
#include "ensemble/server/server_core.h"
#include "ensemble/session/session_tracker.h"
#include "ensemble/tree/acl.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"
#include "ensemble/tree/txn_prep.h"
#include "ensemble/zab/relay.h"
#include "tests/ensemble/ensemble_core_fixture.h"
#include "tests/ensemble/fake_link.h"
#include "wire/jute.h"
#include "wire/protocol.h"
#include "wire/records.h"

namespace corral::server {
namespace {

using namespace test;

using wire::CreateMode;
using wire::ErrorCode;
using wire::OpCode;
namespace perms = wire::perms;

/// Everything for anyone.
const wire::AclList kOpenAcl{{perms::kAll, {"world", "anyone"}}};

/// The bytes `body` writes: a request's body after its header.
std::string bytes_of(const BodyFn& body) {
  std::string out;
  wire::JuteWriter w(out);
  body(w);
  return out;
}

/// A CreateRequest's body for create2.
BodyFn create_body(const std::string& path, const std::string& data,
                   CreateMode mode = CreateMode::kPersistent, const wire::AclList& acl = kOpenAcl) {
  wire::CreateRequest req;
  req.path = path;
  req.data = data;
  req.acl = acl;
  req.flags = static_cast<int32_t>(mode);
  return [req](wire::JuteWriter& w) { req.write(w, false); };
}

/// A SetDataRequest's body (any version).
BodyFn set_data_body(const std::string& path, const std::string& data) {
  return [=](wire::JuteWriter& w) { wire::SetDataRequest{path, data, false, -1}.write(w); };
}

/// A PathWatchRequest's body (getData, exists) without a watch.
BodyFn path_body(const std::string& path) {
  return [=](wire::JuteWriter& w) { wire::PathWatchRequest{path, false}.write(w); };
}

/// A PathRequest's body (sync).
BodyFn sync_body(const std::string& path) {
  return [=](wire::JuteWriter& w) { wire::PathRequest{path}.write(w); };
}

/// The Stat of a create2 reply, checking its path.
wire::Stat create2_stat(const Reply& rep, const std::string& path) {
  wire::JuteReader r(rep.body);
  EXPECT_EQ(r.string(), path);
  wire::Stat s = wire::Stat::read(r);
  EXPECT_TRUE(r.at_end());
  return s;
}

/// The Stat of a setData or exists reply.
wire::Stat stat_of(const Reply& rep) {
  wire::JuteReader r(rep.body);
  wire::Stat s = wire::Stat::read(r);
  EXPECT_TRUE(r.at_end());
  return s;
}

/// The data of a getData reply.
std::string data_of(const Reply& rep) {
  wire::JuteReader r(rep.body);
  return r.buffer();
}

/// The path of a sync reply.
std::string path_of(const Reply& rep) {
  wire::JuteReader r(rep.body);
  std::string p = r.string();
  EXPECT_TRUE(r.at_end());
  return p;
}

// --- the leader --------------------------------------------------------------------------------

TEST_F(EnsembleCoreTest, LeaderHandshakeIsProposedAndAnsweredOnceCommitted) {
  FakeLink& l = attach(leader);
  leader.on_frame(l, connect_request(100000), now);
  const tree::Txn& txn = proposal();
  EXPECT_EQ(txn.type, OpCode::kCreateSession);
  EXPECT_EQ(txn.zxid, zx(kEpoch, 1));
  EXPECT_EQ(txn.cxid, 0);
  EXPECT_EQ(static_cast<uint64_t>(txn.session_id) >> 56, 1u);  // the leader's myid
  EXPECT_EQ(txn.session_timeout_ms, 40000);                    // clamped
  EXPECT_EQ(txn.session_passwd.size(), 16u);
  // Not applied, not answered.
  EXPECT_TRUE(l.frames.empty());
  EXPECT_EQ(l.session_id, 0);
  EXPECT_FALSE(alive(leader, txn.session_id));
  EXPECT_EQ(leader.last_zxid(), 0);
  EXPECT_TRUE(learner_repl.forwarded.empty());

  tree::Txn copy = txn;
  EXPECT_EQ(commit(), 1u);
  ASSERT_EQ(l.frames.size(), 1u);
  wire::ConnectResponse rsp = parse_connect_response(l.frames[0]);
  EXPECT_EQ(rsp.session_id, copy.session_id);
  EXPECT_EQ(rsp.passwd, copy.session_passwd);
  EXPECT_EQ(rsp.timeout_ms, 40000);
  EXPECT_EQ(l.session_id, copy.session_id);
  EXPECT_TRUE(alive(leader, copy.session_id));
  EXPECT_TRUE(alive(learner, copy.session_id));  // sessions are global
  EXPECT_EQ(leader.last_zxid(), zx(kEpoch, 1));
}

TEST_F(EnsembleCoreTest, LeaderProposesAWriteAndAnswersItOnceCommitted) {
  FakeLink& l = connect_leader();
  int32_t xid = send(leader, l, OpCode::kCreate2, create_body("/a", "x"));
  const tree::Txn& txn = proposal();
  EXPECT_EQ(txn.type, OpCode::kCreate2);
  EXPECT_EQ(txn.zxid, zx(kEpoch, 2));
  EXPECT_EQ(txn.session_id, l.session_id);
  EXPECT_EQ(txn.cxid, xid);
  EXPECT_EQ(txn.time_ms, now);
  ASSERT_EQ(txn.ops.size(), 1u);
  EXPECT_EQ(txn.ops[0].path, "/a");
  EXPECT_EQ(txn.ops[0].data, "x");
  // Proposed, not applied: no node, no answer.
  EXPECT_EQ(leader.tree().find("/a"), nullptr);
  EXPECT_EQ(leader.last_zxid(), zx(kEpoch, 1));
  EXPECT_TRUE(received(l).empty());

  // A write pipelined behind it is prepared against the pending create.
  int32_t child_xid = send(leader, l, OpCode::kCreate2, create_body("/a/b", ""));
  const tree::Txn& child = proposal(2);
  EXPECT_EQ(child.type, OpCode::kCreate2) << "prepared without seeing the pending parent";
  EXPECT_EQ(child.zxid, zx(kEpoch, 3));
  EXPECT_TRUE(received(l).empty());

  // The driver commits the first: its reply comes, with the txn's zxid.
  tree::Txn first = leader_repl.proposed[1];
  leader.apply_committed(first);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(rep.header.zxid, first.zxid);
  wire::Stat s = create2_stat(rep, "/a");
  EXPECT_EQ(s.czxid, first.zxid);
  EXPECT_EQ(s.mzxid, first.zxid);
  EXPECT_EQ(s.pzxid, first.zxid);
  EXPECT_EQ(s.ctime, first.time_ms);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.data_length, 1);
  EXPECT_EQ(s.ephemeral_owner, 0);
  ASSERT_NE(leader.tree().find("/a"), nullptr);
  EXPECT_EQ(leader.tree().find("/a")->stat(), s);

  tree::Txn second = leader_repl.proposed[2];
  leader.apply_committed(second);
  Reply rep2 = only_reply(l);
  EXPECT_EQ(rep2.xid(), child_xid);
  EXPECT_EQ(rep2.header.zxid, zx(kEpoch, 3));
  EXPECT_EQ(create2_stat(rep2, "/a/b").czxid, zx(kEpoch, 3));
  EXPECT_EQ(leader.tree().find("/a")->stat().pzxid, zx(kEpoch, 3));
}

TEST_F(EnsembleCoreTest, LeaderProposesAFailingWriteAsAnErrorTxn) {
  FakeLink& l = connect_leader();
  ASSERT_EQ(send(leader, l, OpCode::kCreate2, create_body("/a", "")), 1);
  EXPECT_EQ(commit(), 1u);
  received(l);
  int32_t xid = send(leader, l, OpCode::kCreate2, create_body("/a", ""));
  const tree::Txn& txn = proposal();
  EXPECT_EQ(txn.type, OpCode::kError);
  EXPECT_EQ(txn.err, ErrorCode::kNodeExists);
  EXPECT_TRUE(received(l).empty());
  EXPECT_EQ(commit(), 1u);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kNodeExists);
  EXPECT_EQ(rep.header.zxid, zx(kEpoch, 3));  // error txns take a zxid too
  EXPECT_TRUE(rep.body.empty());
}

TEST_F(EnsembleCoreTest, LeaderReadsAreAnsweredFromItsTree) {
  FakeLink& l = connect_leader();
  size_t proposed = leader_repl.proposed.size();
  int32_t xid = send(leader, l, OpCode::kExists, path_body("/zookeeper"));
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(leader_repl.proposed.size(), proposed);
  EXPECT_TRUE(leader_repl.syncs.empty());
}

// --- learners forward --------------------------------------------------------------------------

TEST_F(EnsembleCoreTest, LearnerForwardsANewSessionAndAnswersOnceCommitted) {
  FakeLink& l = attach(learner);
  learner.on_frame(l, connect_request(1000), now);
  const zab::Relay& r = forwarded();
  EXPECT_EQ(r.kind, zab::RelayKind::kRequest);
  EXPECT_EQ(r.type, static_cast<int32_t>(OpCode::kCreateSession));
  EXPECT_EQ(static_cast<uint64_t>(r.session_id) >> 56, 2u);  // the learner's myid
  EXPECT_EQ(r.cxid, 0);
  EXPECT_EQ(r.timeout_ms, 4000);  // clamped on the learner
  EXPECT_EQ(r.passwd.size(), 16u);
  EXPECT_TRUE(r.body.empty());
  // Nothing answered, proposed or applied on the learner.
  EXPECT_TRUE(l.frames.empty());
  EXPECT_TRUE(learner_repl.proposed.empty());
  EXPECT_FALSE(alive(learner, r.session_id));
  EXPECT_EQ(l.session_id, 0);

  zab::Relay request = r;
  EXPECT_EQ(relay(), 1u);
  const tree::Txn& txn = proposal();
  EXPECT_EQ(txn.type, OpCode::kCreateSession);
  EXPECT_EQ(txn.session_id, request.session_id);
  EXPECT_EQ(txn.session_timeout_ms, 4000);
  EXPECT_EQ(txn.session_passwd, request.passwd);
  EXPECT_TRUE(l.frames.empty());

  EXPECT_EQ(commit(), 1u);
  ASSERT_EQ(l.frames.size(), 1u);
  wire::ConnectResponse rsp = parse_connect_response(l.frames[0]);
  EXPECT_EQ(rsp.session_id, request.session_id);
  EXPECT_EQ(rsp.timeout_ms, 4000);
  EXPECT_EQ(rsp.passwd, request.passwd);
  EXPECT_EQ(l.session_id, request.session_id);
  EXPECT_EQ(l.close_calls, 0);
  EXPECT_TRUE(alive(learner, request.session_id));
  EXPECT_TRUE(alive(leader, request.session_id));
  l.read = l.frames.size();

  // Reads are the learner's own.
  send(learner, l, OpCode::kPing);
  EXPECT_EQ(only_reply(l).err(), ErrorCode::kOk);
  EXPECT_EQ(relay(), 0u);
}

TEST_F(EnsembleCoreTest, LearnerForwardsACreateWithItsBytesAndIdentities) {
  FakeLink& l = connect_learner();
  // A digest identity added on the learner goes with the request.
  l.read = l.frames.size();
  learner.on_frame(l,
                   encode_request(wire::kAuthXid, OpCode::kAuth,
                                  [](wire::JuteWriter& w) {
                                    wire::AuthPacket{0, "digest", "bob:secret"}.write(w);
                                  }),
                   now);
  ASSERT_EQ(only_reply(l).err(), ErrorCode::kOk);
  const tree::AuthIds want_auth{{"ip", "127.0.0.1"}, {"digest", tree::digest_of("bob:secret")}};
  ASSERT_EQ(l.auth, want_auth);

  // An "auth" ACL, which only the forwarded identities can fill in.
  BodyFn body = create_body("/f", "data", CreateMode::kPersistent, {{perms::kAll, {"auth", ""}}});
  int64_t last = learner.last_zxid();
  int32_t xid = send(learner, l, OpCode::kCreate2, body);
  const zab::Relay& r = forwarded();
  EXPECT_EQ(r.kind, zab::RelayKind::kRequest);
  EXPECT_EQ(r.session_id, l.session_id);
  EXPECT_EQ(r.cxid, xid);
  EXPECT_EQ(r.type, static_cast<int32_t>(OpCode::kCreate2));
  EXPECT_EQ(r.body, bytes_of(body));
  EXPECT_EQ(r.auth, want_auth);
  // Nothing applied or proposed here, nothing answered.
  EXPECT_TRUE(learner_repl.proposed.empty());
  EXPECT_EQ(learner.tree().find("/f"), nullptr);
  EXPECT_EQ(learner.last_zxid(), last);
  EXPECT_TRUE(received(l).empty());

  EXPECT_EQ(relay(), 1u);
  const tree::Txn& txn = proposal();
  EXPECT_EQ(txn.type, OpCode::kCreate2);
  EXPECT_EQ(txn.session_id, l.session_id);
  EXPECT_EQ(txn.cxid, xid);
  ASSERT_EQ(txn.ops.size(), 1u);
  EXPECT_EQ(txn.ops[0].acl,
            (wire::AclList{{perms::kAll, {"digest", tree::digest_of("bob:secret")}}}));
  int64_t zxid = txn.zxid;
  EXPECT_TRUE(received(l).empty());

  EXPECT_EQ(commit(), 1u);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(rep.header.zxid, zxid);
  wire::Stat s = create2_stat(rep, "/f");
  EXPECT_EQ(s.czxid, zxid);
  EXPECT_EQ(s.data_length, 4);
  ASSERT_NE(learner.tree().find("/f"), nullptr);
  EXPECT_EQ(learner.tree().find("/f")->stat(), leader.tree().find("/f")->stat());
}

TEST_F(EnsembleCoreTest, LearnerAnswersAForwardedWriteThatFailed) {
  FakeLink& l = connect_learner();
  ASSERT_EQ(learner_write(l, OpCode::kCreate2, create_body("/f", "")).err(), ErrorCode::kOk);
  Reply rep = learner_write(l, OpCode::kCreate2, create_body("/f", ""));
  EXPECT_EQ(rep.err(), ErrorCode::kNodeExists);
  EXPECT_EQ(rep.header.zxid, learner.last_zxid());
  rep = learner_write(l, OpCode::kSetData, set_data_body("/missing", "x"));
  EXPECT_EQ(rep.err(), ErrorCode::kNoNode);
}

TEST_F(EnsembleCoreTest, LearnerForwardsSetData) {
  FakeLink& l = connect_learner();
  ASSERT_EQ(learner_write(l, OpCode::kCreate2, create_body("/s", "old")).err(), ErrorCode::kOk);
  BodyFn body = set_data_body("/s", "new");
  int32_t xid = send(learner, l, OpCode::kSetData, body);
  const zab::Relay& r = forwarded();
  EXPECT_EQ(r.kind, zab::RelayKind::kRequest);
  EXPECT_EQ(r.session_id, l.session_id);
  EXPECT_EQ(r.cxid, xid);
  EXPECT_EQ(r.type, static_cast<int32_t>(OpCode::kSetData));
  EXPECT_EQ(r.body, bytes_of(body));
  EXPECT_EQ(r.auth, l.auth);
  EXPECT_EQ(learner.tree().find("/s")->data, "old");
  EXPECT_TRUE(received(l).empty());

  EXPECT_EQ(relay(), 1u);
  int64_t zxid = proposal().zxid;
  EXPECT_EQ(proposal().type, OpCode::kSetData);
  EXPECT_EQ(commit(), 1u);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(rep.header.zxid, zxid);
  wire::Stat s = stat_of(rep);
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.mzxid, zxid);
  EXPECT_EQ(s.data_length, 3);
  EXPECT_EQ(learner.tree().find("/s")->data, "new");
}

TEST_F(EnsembleCoreTest, LearnerForwardsMulti) {
  FakeLink& l = connect_learner();
  ASSERT_EQ(learner_write(l, OpCode::kCreate2, create_body("/m", "")).err(), ErrorCode::kOk);
  wire::CreateRequest child;
  child.path = "/m/c";
  child.data = "c";
  child.acl = kOpenAcl;
  BodyFn body = [child](wire::JuteWriter& w) {
    wire::MultiHeader{static_cast<int32_t>(OpCode::kCreate), false, -1}.write(w);
    child.write(w, false);
    wire::MultiHeader{static_cast<int32_t>(OpCode::kSetData), false, -1}.write(w);
    wire::SetDataRequest{"/m", "v", false, 0}.write(w);
    wire::MultiHeader{static_cast<int32_t>(OpCode::kCheck), false, -1}.write(w);
    wire::PathVersionRequest{"/m", 1}.write(w);
    wire::MultiHeader{-1, true, -1}.write(w);
  };
  int32_t xid = send(learner, l, OpCode::kMulti, body);
  const zab::Relay& r = forwarded();
  EXPECT_EQ(r.kind, zab::RelayKind::kRequest);
  EXPECT_EQ(r.session_id, l.session_id);
  EXPECT_EQ(r.cxid, xid);
  EXPECT_EQ(r.type, static_cast<int32_t>(OpCode::kMulti));
  EXPECT_EQ(r.body, bytes_of(body));
  EXPECT_EQ(r.auth, l.auth);
  EXPECT_EQ(learner.tree().find("/m/c"), nullptr);
  EXPECT_TRUE(received(l).empty());

  EXPECT_EQ(relay(), 1u);
  EXPECT_EQ(proposal().type, OpCode::kMulti);
  EXPECT_EQ(proposal().ops.size(), 3u);
  int64_t zxid = proposal().zxid;
  EXPECT_EQ(commit(), 1u);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(rep.header.zxid, zxid);
  wire::JuteReader in(rep.body);
  wire::MultiHeader h = wire::MultiHeader::read(in);
  EXPECT_EQ(h.type, static_cast<int32_t>(OpCode::kCreate));
  EXPECT_EQ(in.string(), "/m/c");
  h = wire::MultiHeader::read(in);
  EXPECT_EQ(h.type, static_cast<int32_t>(OpCode::kSetData));
  wire::Stat s = wire::Stat::read(in);
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.mzxid, zxid);
  h = wire::MultiHeader::read(in);
  EXPECT_EQ(h.type, static_cast<int32_t>(OpCode::kCheck));
  h = wire::MultiHeader::read(in);
  EXPECT_TRUE(h.done);
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(learner.tree().find("/m")->data, "v");
  EXPECT_NE(learner.tree().find("/m/c"), nullptr);
}

TEST_F(EnsembleCoreTest, LearnerForwardsCloseSession) {
  FakeLink& l = connect_learner();
  ASSERT_EQ(
      learner_write(l, OpCode::kCreate2, create_body("/eph", "", CreateMode::kEphemeral)).err(),
      ErrorCode::kOk);
  int64_t session = l.session_id;
  int32_t xid = send(learner, l, OpCode::kCloseSession);
  const zab::Relay& r = forwarded();
  EXPECT_EQ(r.kind, zab::RelayKind::kRequest);
  EXPECT_EQ(r.session_id, session);
  EXPECT_EQ(r.cxid, xid);
  EXPECT_EQ(r.type, static_cast<int32_t>(OpCode::kCloseSession));
  EXPECT_TRUE(r.body.empty());  // closeSession has no body
  // Not closed before the ensemble says so.
  EXPECT_EQ(l.close_calls, 0);
  EXPECT_TRUE(alive(learner, session));
  EXPECT_NE(learner.tree().find("/eph"), nullptr);
  EXPECT_TRUE(received(l).empty());

  EXPECT_EQ(relay(), 1u);
  EXPECT_EQ(proposal().type, OpCode::kCloseSession);
  EXPECT_EQ(proposal().session_id, session);
  EXPECT_EQ(proposal().cxid, xid);
  EXPECT_EQ(commit(), 1u);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_EQ(learner.links().count(l.id), 0u);
  EXPECT_FALSE(alive(learner, session));
  EXPECT_FALSE(alive(leader, session));
  EXPECT_EQ(learner.tree().find("/eph"), nullptr);
  EXPECT_EQ(leader.tree().find("/eph"), nullptr);
}

// --- a session's requests stay in order --------------------------------------------------------

TEST_F(EnsembleCoreTest, ReadsWaitBehindAPendingForwardedWrite) {
  FakeLink& l = connect_learner();
  int32_t create = send(learner, l, OpCode::kCreate2, create_body("/r", "x"));
  int32_t get = send(learner, l, OpCode::kGetData, path_body("/r"));
  int32_t exists = send(learner, l, OpCode::kExists, path_body("/r"));
  // A later write is forwarded at once (writes pipeline), but the reads sent before it wait.
  int32_t set = send(learner, l, OpCode::kSetData, set_data_body("/r", "y"));
  EXPECT_EQ(learner_repl.forwarded.size(), 3u);  // createSession, create, setData
  EXPECT_TRUE(received(l).empty());
  EXPECT_EQ(learner.outstanding_requests(), 4u);

  EXPECT_EQ(relay(), 2u);
  // Commit only the create: its reply, then the reads held behind it, which see "x".
  leader.apply_committed(leader_repl.proposed[1]);
  learner.apply_committed(leader_repl.proposed[1]);
  auto got = received(l);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].xid(), create);
  EXPECT_EQ(got[0].err(), ErrorCode::kOk);
  EXPECT_EQ(got[1].xid(), get);
  EXPECT_EQ(got[1].err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(got[1]), "x");
  EXPECT_EQ(got[2].xid(), exists);
  EXPECT_EQ(got[2].err(), ErrorCode::kOk);

  leader.apply_committed(leader_repl.proposed[2]);
  learner.apply_committed(leader_repl.proposed[2]);
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), set);
  EXPECT_EQ(stat_of(rep).version, 1);
  EXPECT_EQ(learner.outstanding_requests(), 0u);
}

TEST_F(EnsembleCoreTest, ReadsOfOtherSessionsDoNotWait) {
  FakeLink& writer = connect_learner();
  FakeLink& reader = connect_learner();
  send(learner, writer, OpCode::kCreate2, create_body("/w", ""));
  int32_t xid = send(learner, reader, OpCode::kExists, path_body("/w"));
  Reply rep = only_reply(reader);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), ErrorCode::kNoNode);
  EXPECT_TRUE(received(writer).empty());
}

// --- sync --------------------------------------------------------------------------------------

TEST_F(EnsembleCoreTest, SyncWaitsForTheEnsembleAndForTheTree) {
  FakeLink& a = connect_learner();
  FakeLink& b = connect_learner();
  int32_t sync = send(learner, a, OpCode::kSync, sync_body("/s"));
  ASSERT_EQ(learner_repl.syncs.size(), 1u);
  EXPECT_EQ(relay(), 0u);  // a sync is not a write
  // A read behind the sync waits for it.
  int32_t get = send(learner, a, OpCode::kGetData, path_body("/s"));
  EXPECT_TRUE(received(a).empty());

  // Meanwhile another client's write is committed by the leader, not yet seen here.
  int32_t create = send(learner, b, OpCode::kCreate2, create_body("/s", "fresh"));
  EXPECT_EQ(relay(), 1u);
  tree::Txn txn = proposal();

  // The leader answers the sync with that zxid: still no reply, the tree is behind it.
  learner_repl.syncs[0](txn.zxid);
  EXPECT_TRUE(received(a).empty());
  leader.apply_committed(txn);
  EXPECT_TRUE(received(a).empty());

  // Once the learner applies it, the sync is answered, then the read (which sees it).
  learner.apply_committed(txn);
  Reply created = only_reply(b);
  EXPECT_EQ(created.xid(), create);
  auto got = received(a);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].xid(), sync);
  EXPECT_EQ(got[0].err(), ErrorCode::kOk);
  EXPECT_EQ(got[0].header.zxid, txn.zxid);
  EXPECT_EQ(path_of(got[0]), "/s");
  EXPECT_EQ(got[1].xid(), get);
  EXPECT_EQ(got[1].err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(got[1]), "fresh");
}

TEST_F(EnsembleCoreTest, SyncWaitsForTheEnsembleEvenWhenTheTreeIsThere) {
  FakeLink& a = connect_learner();
  int64_t zxid = learner.last_zxid();
  int32_t sync = send(learner, a, OpCode::kSync, sync_body("/"));
  ASSERT_EQ(learner_repl.syncs.size(), 1u);
  EXPECT_TRUE(received(a).empty());  // the tree is there, the ensemble has not answered
  learner_repl.syncs[0](zxid);
  Reply rep = only_reply(a);
  EXPECT_EQ(rep.xid(), sync);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(path_of(rep), "/");

  // An older zxid is already applied too.
  sync = send(learner, a, OpCode::kSync, sync_body("/x"));
  ASSERT_EQ(learner_repl.syncs.size(), 2u);
  learner_repl.syncs[1](0);
  rep = only_reply(a);
  EXPECT_EQ(rep.xid(), sync);
  EXPECT_EQ(path_of(rep), "/x");
}

TEST_F(EnsembleCoreTest, SyncOnTheLeaderAlsoAsksTheEnsemble) {
  FakeLink& l = connect_leader();
  int32_t sync = send(leader, l, OpCode::kSync, sync_body("/"));
  ASSERT_EQ(leader_repl.syncs.size(), 1u);
  EXPECT_TRUE(received(l).empty());
  leader_repl.syncs[0](leader.last_zxid());
  EXPECT_EQ(only_reply(l).xid(), sync);
}

TEST_F(EnsembleCoreTest, SyncsWaitingForDifferentZxidsAreAnsweredInTurn) {
  FakeLink& a = connect_learner();
  FakeLink& b = connect_learner();
  FakeLink& w = connect_learner();
  send(learner, w, OpCode::kCreate2, create_body("/1", ""));
  send(learner, w, OpCode::kCreate2, create_body("/2", ""));
  EXPECT_EQ(relay(), 2u);
  int64_t z1 = leader_repl.proposed[leader_repl.proposed.size() - 2].zxid;
  int64_t z2 = leader_repl.proposed.back().zxid;
  int32_t sync_a = send(learner, a, OpCode::kSync, sync_body("/a"));
  int32_t sync_b = send(learner, b, OpCode::kSync, sync_body("/b"));
  learner_repl.syncs[1](z2);  // b's answer comes first, for the later zxid
  learner_repl.syncs[0](z1);
  EXPECT_TRUE(received(a).empty());
  EXPECT_TRUE(received(b).empty());
  EXPECT_EQ(commit(), 2u);
  EXPECT_EQ(only_reply(a).xid(), sync_a);
  EXPECT_EQ(only_reply(b).xid(), sync_b);
  EXPECT_EQ(received(w).size(), 2u);
}

// --- stopping to serve -------------------------------------------------------------------------

TEST_F(EnsembleCoreTest, StopServingClosesEveryLinkAndDropsPendingRequests) {
  FakeLink& a = connect_learner();
  FakeLink& b = connect_learner();
  FakeLink& idle = connect_learner();
  send(learner, a, OpCode::kCreate2, create_body("/p", ""));  // forwarded, not committed
  send(learner, a, OpCode::kGetData, path_body("/p"));        // held behind it
  send(learner, b, OpCode::kSync, sync_body("/"));            // waiting for the ensemble
  FakeLink& handshaking = attach(learner);
  learner.on_frame(handshaking, connect_request(30000), now);
  ASSERT_EQ(learner_repl.syncs.size(), 1u);
  int64_t new_session = forwarded(2).session_id;

  learner.stop_serving();
  for (FakeLink* l : {&a, &b, &idle, &handshaking}) {
    EXPECT_EQ(l->close_calls, 1) << l->id;
    EXPECT_TRUE(l->closing) << l->id;
  }
  EXPECT_TRUE(learner.links().empty());
  EXPECT_EQ(learner.outstanding_requests(), 0u);
  std::vector<size_t> frames;
  for (FakeLink* l : {&a, &b, &idle, &handshaking}) frames.push_back(l->frames.size());

  // What was in flight still commits (the tree follows the leader) but answers nobody.
  EXPECT_EQ(relay(), 2u);
  EXPECT_EQ(commit(), 2u);
  learner_repl.syncs[0](learner.last_zxid());
  EXPECT_NE(learner.tree().find("/p"), nullptr);
  EXPECT_TRUE(alive(learner, new_session));
  // Frames from closed links are ignored.
  send(learner, a, OpCode::kPing);
  learner.on_frame(idle, encode_request(9, OpCode::kCreate2, create_body("/q", "")), now);
  size_t i = 0;
  for (FakeLink* l : {&a, &b, &idle, &handshaking}) {
    EXPECT_EQ(l->frames.size(), frames[i++]) << l->id;
    EXPECT_EQ(l->close_calls, 1) << l->id;
  }
  EXPECT_EQ(handshaking.session_id, 0);
  EXPECT_EQ(relay(), 0u);
}

TEST_F(EnsembleCoreTest, LeaderStopServingForgetsItsProposals) {
  FakeLink& l = connect_leader();
  send(leader, l, OpCode::kCreate2, create_body("/kept", ""));
  send(leader, l, OpCode::kCreate2, create_body("/lost", ""));
  ASSERT_EQ(leader_repl.proposed.size(), 3u);
  tree::Txn kept = leader_repl.proposed[1];
  tree::Txn lost = leader_repl.proposed[2];
  EXPECT_EQ(lost.type, OpCode::kCreate2);

  leader.stop_serving();
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_TRUE(leader.links().empty());
  size_t frames = l.frames.size();
  // One proposal commits after all (a new leader kept it): applied, answered to nobody.
  leader.apply_committed(kept);
  EXPECT_EQ(l.frames.size(), frames);
  EXPECT_NE(leader.tree().find("/kept"), nullptr);

  // The other never commits. Leading again in a new epoch, prep does not remember it.
  leader_repl.epoch_number = kEpoch + 1;
  leader_repl.counter = 0;
  FakeLink& again = attach(leader);
  leader.on_frame(again, connect_request(30000), now);
  leader.apply_committed(leader_repl.proposed.back());
  ASSERT_NE(again.session_id, 0);
  again.read = again.frames.size();
  send(leader, again, OpCode::kCreate2, create_body("/lost", ""));
  EXPECT_EQ(leader_repl.proposed.back().type, OpCode::kCreate2)
      << "prep still counts a proposal that was dropped";
  EXPECT_EQ(leader_repl.proposed.back().zxid, zx(kEpoch + 1, 2));
}

TEST_F(EnsembleCoreTest, HandshakeWhileNotServingIsParkedThenClosedAfterASecond) {
  for (ServerCore* core : {&learner, &leader}) {
    FakeReplication& repl = core == &leader ? leader_repl : learner_repl;
    repl.is_serving = false;
    FakeLink& l = attach(*core);
    core->on_frame(l, connect_request(30000), now);
    // A client that does not allow a read-only server waits too, in read-only mode.
    repl.is_read_only = true;
    FakeLink& rw = attach(*core);
    core->on_frame(rw, connect_request(30000), now);
    repl.is_read_only = false;
    for (FakeLink* link : {&l, &rw}) {
      EXPECT_EQ(link->close_calls, 0);
      EXPECT_TRUE(link->frames.empty());
      EXPECT_EQ(link->session_id, 0);
    }
    EXPECT_TRUE(repl.forwarded.empty());
    EXPECT_TRUE(repl.proposed.empty());
    core->tick(now + 999);
    EXPECT_EQ(l.close_calls, 0);
    core->tick(now + 1000);
    for (FakeLink* link : {&l, &rw}) {
      EXPECT_EQ(link->close_calls, 1);
      EXPECT_TRUE(link->closing);
      EXPECT_TRUE(link->frames.empty());
    }
    EXPECT_TRUE(core->sessions().sessions().empty());
    repl.is_serving = true;
    core->resume_parked_handshakes(now + 1000);  // nothing parked any more
    EXPECT_TRUE(repl.forwarded.empty());
    EXPECT_TRUE(repl.proposed.empty());
  }
  // Serving again, handshakes go through at once.
  FakeLink& l = connect_learner();
  EXPECT_EQ(l.close_calls, 0);
}

TEST_F(EnsembleCoreTest, ParkedHandshakeProceedsWhenTheServerServesAgain) {
  learner_repl.is_serving = false;
  FakeLink& l = attach(learner);
  learner.on_frame(l, connect_request(30000), now);
  // A request pipelined behind the handshake waits for the session, not taken as a handshake.
  int32_t xid = send(learner, l, OpCode::kExists, path_body("/"));
  EXPECT_TRUE(learner_repl.forwarded.empty());
  learner_repl.is_serving = true;
  learner.resume_parked_handshakes(now);
  EXPECT_EQ(forwarded().type, static_cast<int32_t>(OpCode::kCreateSession));
  EXPECT_TRUE(l.frames.empty()) << "the exists must wait for the session";
  EXPECT_EQ(relay(), 1u);
  EXPECT_EQ(commit(), 1u);
  ASSERT_EQ(l.frames.size(), 2u);
  EXPECT_NE(l.session_id, 0);
  l.read = 1;
  Reply rep = only_reply(l);
  EXPECT_EQ(rep.xid(), xid);
  EXPECT_EQ(rep.err(), wire::ErrorCode::kOk);
}

// --- closing sessions and expiry ---------------------------------------------------------------

TEST_F(EnsembleCoreTest, CloseSessionAskedElsewhereClosesTheLinkHere) {
  FakeLink& l = connect_learner();
  FakeLink& other = connect_learner();
  ASSERT_EQ(
      learner_write(l, OpCode::kCreate2, create_body("/eph", "", CreateMode::kEphemeral)).err(),
      ErrorCode::kOk);
  int64_t session = l.session_id;
  // Another server forwarded the session's closeSession (the client moved there and closed).
  zab::Relay close;
  close.kind = zab::RelayKind::kRequest;
  close.from = 3;
  close.session_id = session;
  close.cxid = 77;
  close.type = static_cast<int32_t>(OpCode::kCloseSession);
  leader.on_forwarded(close, now);
  EXPECT_EQ(proposal().type, OpCode::kCloseSession);
  EXPECT_EQ(proposal().cxid, 77);
  EXPECT_EQ(l.close_calls, 0);

  size_t frames = l.frames.size();
  EXPECT_EQ(commit(), 1u);
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_TRUE(l.closing);
  EXPECT_EQ(l.frames.size(), frames);  // nobody here asked: no reply
  EXPECT_EQ(learner.links().count(l.id), 0u);
  EXPECT_FALSE(alive(learner, session));
  EXPECT_EQ(learner.tree().find("/eph"), nullptr);
  // The other session is untouched.
  EXPECT_EQ(other.close_calls, 0);
  EXPECT_EQ(learner.links().count(other.id), 1u);
  send(learner, other, OpCode::kPing);
  EXPECT_EQ(only_reply(other).err(), ErrorCode::kOk);
}

TEST_F(EnsembleCoreTest, OnlyTheLeaderExpiresSessions) {
  FakeLink& l = connect_learner(4000);
  FakeLink& keeper = connect_learner(40000);
  ASSERT_EQ(
      learner_write(l, OpCode::kCreate2, create_body("/eph", "", CreateMode::kEphemeral)).err(),
      ErrorCode::kOk);
  // An empty container that had a child: due for removal.
  ASSERT_EQ(learner_write(keeper, OpCode::kCreateContainer,
                          [](wire::JuteWriter& w) {
                            wire::CreateRequest req;
                            req.path = "/box";
                            req.acl = kOpenAcl;
                            req.flags = static_cast<int32_t>(CreateMode::kContainer);
                            req.write(w, false);
                          })
                .err(),
            ErrorCode::kOk);
  ASSERT_EQ(learner_write(keeper, OpCode::kCreate2, create_body("/box/c", "")).err(),
            ErrorCode::kOk);
  ASSERT_EQ(learner_write(keeper, OpCode::kDelete,
                          [](wire::JuteWriter& w) {
                            wire::PathVersionRequest{"/box/c", -1}.write(w);
                          })
                .err(),
            ErrorCode::kOk);
  int64_t session = l.session_id;

  now += 10000;
  learner.tick(now);
  EXPECT_TRUE(learner_repl.proposed.empty());
  EXPECT_EQ(relay(), 0u);
  EXPECT_TRUE(alive(learner, session));
  EXPECT_FALSE(learner.sessions().sessions().at(session).closing);
  EXPECT_EQ(l.close_calls, 0);

  // The leader has heard from neither session for 10 s: the short one expires.
  leader.touch_sessions({keeper.session_id}, now);
  leader.tick(now);
  ASSERT_EQ(leader_repl.proposed.size(), 8u);
  std::multiset<OpCode> types{leader_repl.proposed[6].type, leader_repl.proposed[7].type};
  EXPECT_EQ(types, (std::multiset<OpCode>{OpCode::kCloseSession, OpCode::kDeleteContainer}));
  for (size_t i = 6; i < 8; ++i) {
    if (leader_repl.proposed[i].type == OpCode::kCloseSession) {
      EXPECT_EQ(leader_repl.proposed[i].session_id, session);
    }
  }
  EXPECT_EQ(l.close_calls, 0);  // not before it commits

  size_t frames = l.frames.size();
  EXPECT_EQ(commit(), 2u);
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_EQ(l.frames.size(), frames);
  EXPECT_FALSE(alive(learner, session));
  EXPECT_FALSE(alive(leader, session));
  EXPECT_EQ(learner.tree().find("/eph"), nullptr);
  EXPECT_EQ(learner.tree().find("/box"), nullptr);
  EXPECT_EQ(keeper.close_calls, 0);
  EXPECT_TRUE(alive(learner, keeper.session_id));
}

TEST_F(EnsembleCoreTest, ALearnerThatStartsLeadingExpiresSessions) {
  FakeLink& l = connect_learner(4000);
  int64_t session = l.session_id;
  now += 60000;
  learner.tick(now);
  EXPECT_TRUE(alive(learner, session));

  // Elected: timeouts restart now, then run out.
  learner_repl.leading = true;
  learner.restart_session_timeouts(now);
  learner.tick(now + 3000);
  EXPECT_TRUE(learner_repl.proposed.empty());
  learner.tick(now + 4000);
  ASSERT_EQ(learner_repl.proposed.size(), 1u);
  EXPECT_EQ(learner_repl.proposed[0].type, OpCode::kCloseSession);
  EXPECT_EQ(learner_repl.proposed[0].session_id, session);
  EXPECT_EQ(learner_repl.proposed[0].zxid, zx(kEpoch, 1));
  learner.apply_committed(learner_repl.proposed[0]);
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_FALSE(alive(learner, session));
}

TEST_F(EnsembleCoreTest, LearnerReportsTheSessionsActiveOnIt) {
  FakeLink& a = connect_learner();
  FakeLink& b = connect_learner();
  EXPECT_TRUE(learner.take_touched_sessions().empty());
  send(learner, a, OpCode::kPing);
  send(learner, a, OpCode::kExists, path_body("/"));
  send(learner, b, OpCode::kPing);
  auto touched = learner.take_touched_sessions();
  EXPECT_EQ(std::set<int64_t>(touched.begin(), touched.end()),
            (std::set<int64_t>{a.session_id, b.session_id}));
  EXPECT_EQ(touched.size(), 2u);
  EXPECT_TRUE(learner.take_touched_sessions().empty());
}

// --- replacing the state -----------------------------------------------------------------------

TEST_F(EnsembleCoreTest, ReplaceStateSwapsTreeAndSessions) {
  FakeLink& l = connect_learner();
  ASSERT_EQ(learner_write(l, OpCode::kCreate2, create_body("/old", "")).err(), ErrorCode::kOk);
  int64_t old_session = l.session_id;
  std::string old_passwd = learner.sessions().sessions().at(old_session).passwd;
  send(learner, l, OpCode::kCreate2, create_body("/pending", ""));  // in flight
  uint64_t generation = learner.state_generation();

  // The leader's state, as a snapshot would bring it.
  tree::DataTree tree;
  tree::TxnPrep prep(tree, true);
  tree::AuthIds ids{{"ip", "127.0.0.1"}};
  wire::CreateRequest req;
  req.path = "/new";
  req.data = "n";
  req.acl = kOpenAcl;
  tree.apply(prep.prepare({0, 1, zx(9, 1), now, &ids}, {OpCode::kCreate2, req}));
  req.path = "/new/child";
  tree.apply(prep.prepare({0, 2, zx(9, 2), now, &ids}, {OpCode::kCreate2, req}));
  ASSERT_EQ(tree.last_zxid(), zx(9, 2));
  const int64_t kept = 0x0100000000000042;
  std::vector<session::Session> live{{kept, 20000, std::string(16, 'k'), 0, false}};

  learner.replace_state(std::move(tree), live, now);
  EXPECT_EQ(learner.state_generation(), generation + 1);
  EXPECT_EQ(learner.last_zxid(), zx(9, 2));
  EXPECT_NE(learner.tree().find("/new/child"), nullptr);
  EXPECT_EQ(learner.tree().find("/old"), nullptr);
  ASSERT_EQ(learner.sessions().sessions().size(), 1u);
  EXPECT_TRUE(alive(learner, kept));
  EXPECT_EQ(learner.sessions().sessions().at(kept).timeout_ms, 20000);
  EXPECT_FALSE(alive(learner, old_session));
  // Its connections closed, what they had in flight dropped.
  EXPECT_EQ(l.close_calls, 1);
  EXPECT_TRUE(learner.links().empty());
  EXPECT_EQ(learner.outstanding_requests(), 0u);

  // A client of a session in the new state reattaches here at once.
  FakeLink& back = attach(learner);
  learner.on_frame(back, connect_request(20000, kept, std::string(16, 'k'), zx(9, 2)), now);
  ASSERT_EQ(back.frames.size(), 1u);
  wire::ConnectResponse rsp = parse_connect_response(back.frames[0]);
  EXPECT_EQ(rsp.session_id, kept);
  EXPECT_EQ(back.session_id, kept);
  back.read = back.frames.size();
  send(learner, back, OpCode::kGetData, path_body("/new"));
  Reply rep = only_reply(back);
  EXPECT_EQ(rep.err(), ErrorCode::kOk);
  EXPECT_EQ(data_of(rep), "n");
  EXPECT_EQ(rep.header.zxid, zx(9, 2));
  // A session only the old state had is gone. Unknown here, it is asked of the leader; this
  // fake leader (still in the old state) vouches for it, but at a zxid this learner is past,
  // so the learner's own tracker has the last word.
  FakeLink& gone = attach(learner);
  learner.on_frame(gone, connect_request(20000, old_session, old_passwd), now);
  EXPECT_TRUE(gone.frames.empty());
  EXPECT_EQ(revalidate(), 1u);
  ASSERT_EQ(gone.frames.size(), 1u);
  EXPECT_EQ(parse_connect_response(gone.frames[0]).timeout_ms, 0);
  EXPECT_EQ(gone.close_calls, 1);

  // Every replacement bumps the generation.
  learner.replace_state(tree::DataTree(), {}, now);
  EXPECT_EQ(learner.state_generation(), generation + 2);
  EXPECT_EQ(learner.last_zxid(), 0);
  EXPECT_TRUE(learner.sessions().sessions().empty());
  EXPECT_EQ(back.close_calls, 1);
}

// --- a forwarded write of a session that is gone -----------------------------------------------

TEST_F(EnsembleCoreTest, ForwardedWriteOfAnExpiredSessionWritesNothing) {
  FakeLink& l = connect_learner(4000);
  int64_t session = l.session_id;
  // The client creates an ephemeral while the leader expires its session: the leader
  // proposes the closeSession before the forwarded create reaches it.
  send(learner, l, OpCode::kCreate2, create_body("/orphan", "", CreateMode::kEphemeral));
  now += 10000;
  leader.tick(now);
  ASSERT_EQ(proposal().type, OpCode::kCloseSession);
  EXPECT_EQ(relay(), 1u);  // the create arrives at the leader after the session is closing
  ASSERT_EQ(leader_repl.proposed.size(), 3u);
  const tree::Txn& create = leader_repl.proposed[2];
  EXPECT_EQ(create.type, OpCode::kError)
      << "a write of a closing session was prepared as a " << static_cast<int>(create.type);
  EXPECT_EQ(create.err, ErrorCode::kSessionExpired);
  EXPECT_EQ(commit(), 2u);
  // Whatever was proposed, no ephemeral may outlive its session.
  EXPECT_EQ(leader.tree().find("/orphan"), nullptr);
  EXPECT_TRUE(leader.tree().ephemerals(session).empty());
  EXPECT_EQ(learner.tree().find("/orphan"), nullptr);

  // Same for a session the leader has already removed.
  zab::Relay late;
  late.kind = zab::RelayKind::kRequest;
  late.session_id = session;
  late.cxid = 99;
  late.type = static_cast<int32_t>(OpCode::kCreate2);
  late.body = bytes_of(create_body("/late", "", CreateMode::kEphemeral));
  late.auth = {{"ip", "127.0.0.1"}};
  ASSERT_FALSE(alive(leader, session));
  leader.on_forwarded(late, now);
  commit();
  EXPECT_EQ(leader.tree().find("/late"), nullptr);
  EXPECT_TRUE(leader.tree().ephemerals(session).empty());
}

}  // namespace
}  // namespace corral::server
