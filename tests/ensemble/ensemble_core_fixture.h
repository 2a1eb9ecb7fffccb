// What the ensemble tests of ServerCore share: a fake Replication standing in for ZAB, and a
// fixture with a leader core and a learner core where the test plays the ensemble driver.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/server/replication.h"
#include "ensemble/server/server_core.h"
#include "ensemble/tree/txn.h"
#include "ensemble/zab/relay.h"
#include "tests/ensemble/fake_link.h"
#include "wire/protocol.h"

namespace corral::server::test {

/// The wall clock when the test starts.
inline constexpr int64_t kStart = 1'700'000'000'000;
/// The epoch the leader proposes in.
inline constexpr int64_t kEpoch = 5;

/// zxid of `counter` in `epoch`.
inline int64_t zx(int64_t epoch, int64_t counter) { return epoch << 32 | counter; }

/// The ensemble as a core sees it, recording everything the core asks of it.
class FakeReplication : public Replication {
 public:
  FakeReplication(bool leads, int64_t epoch) : leading(leads), epoch_number(epoch) {}

  bool serving() const override { return is_serving; }
  bool read_only() const override { return is_read_only; }
  bool leads() const override { return leading; }
  int64_t next_zxid() const override { return epoch_number << 32 | (counter + 1); }
  void propose(tree::Txn txn) override {
    EXPECT_TRUE(leading) << "a learner proposed";
    EXPECT_EQ(txn.zxid, next_zxid()) << "a txn proposed out of order";
    proposed.push_back(std::move(txn));
    ++counter;
  }
  void forward(zab::Relay request) override {
    EXPECT_FALSE(leading) << "the leader forwarded";
    forwarded.push_back(std::move(request));
  }
  void sync(std::function<void(int64_t zxid)> done) override { syncs.push_back(std::move(done)); }
  bool revalidate(int64_t session_id, std::string passwd,
                  std::function<void(bool valid, int64_t zxid)> done) override {
    EXPECT_FALSE(leading) << "the leader asked itself to revalidate";
    if (!leader_reachable) return false;
    revalidations.push_back({session_id, std::move(passwd), std::move(done)});
    return true;
  }
  std::string mode() const override { return leading ? "leader" : "follower"; }
  int synced_followers() const override { return 0; }
  int synced_observers() const override { return 0; }
  int learners() const override { return 0; }
  int64_t leader_id() const override { return leading ? 1 : -1; }
  int64_t serving_ms() const override { return 0; }
  int64_t epoch() const override { return epoch_number; }

  /// A revalidation the core asked for.
  struct Revalidation {
    int64_t session_id;
    std::string passwd;
    std::function<void(bool, int64_t)> done;
  };

  /// What serving(), read_only() and leads() answer.
  bool is_serving = true;
  bool is_read_only = false;
  bool leading;
  /// The zxids next_zxid() hands out: epoch_number << 32 | counter + 1.
  int64_t epoch_number;
  int64_t counter = 0;
  /// Txns proposed, relays forwarded, and sync callbacks, in the order the core gave them.
  std::vector<tree::Txn> proposed;
  std::vector<zab::Relay> forwarded;
  std::vector<std::function<void(int64_t)>> syncs;
  /// What revalidate() answers: false stands for a connection to the leader that is down.
  bool leader_reachable = true;
  /// Revalidations asked for, in order.
  std::vector<Revalidation> revalidations;
};

/// A leader and a learner core, each with its FakeReplication. The test plays the ZAB
/// driver: relay() hands the learner's forwarded requests to the leader, revalidate() has
/// the leader answer the learner's revalidations, commit() hands the leader's proposals back
/// to both cores in zxid order.
class EnsembleCoreTest : public ::testing::Test {
 protected:
  EnsembleCoreTest() {
    leader.set_replication(&leader_repl);
    learner.set_replication(&learner_repl);
  }

  /// A config with timeouts in [4000, 40000] ms and TTL nodes enabled.
  static ServerConfig make_config(int64_t my_id) {
    ServerConfig c;
    c.tick_ms = 2000;  // session timeouts within [4000, 40000]
    c.my_id = my_id;
    c.container_check_interval_ms = 100;
    c.extended_types_enabled = true;
    return c;
  }

  /// A new connection to `core`.
  FakeLink& attach(ServerCore& core) {
    links_.push_back(std::make_unique<FakeLink>(next_link_id_++, "127.0.0.1"));
    core.attach(*links_.back(), now);
    return *links_.back();
  }

  /// Sends a request; returns its xid.
  int32_t send(ServerCore& core, FakeLink& l, wire::OpCode type, const BodyFn& body = nullptr) {
    int32_t xid = ++l.next_xid;
    core.on_frame(l, encode_request(xid, type, body), now);
    return xid;
  }

  /// Frames sent to `l` since the last look, decoded as replies.
  std::vector<Reply> received(FakeLink& l) {
    std::vector<Reply> out;
    for (; l.read < l.frames.size(); ++l.read) out.push_back(parse_reply(l.frames[l.read]));
    return out;
  }

  /// The one reply sent to `l` since the last look.
  Reply only_reply(FakeLink& l) {
    auto got = received(l);
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? Reply{{INT32_MIN, 0, 0}, {}} : got.front();
  }

  /// Hands the learner's relays not handed over yet to the leader; returns how many.
  size_t relay() {
    size_t n = 0;
    for (; relayed_ < learner_repl.forwarded.size(); ++relayed_, ++n)
      leader.on_forwarded(learner_repl.forwarded[relayed_], now);
    return n;
  }

  /// Answers the learner's revalidations not answered yet from the leader's core, as the
  /// ensemble driver does; returns how many.
  size_t revalidate() {
    size_t n = 0;
    for (; revalidated_ < learner_repl.revalidations.size(); ++revalidated_, ++n) {
      auto& r = learner_repl.revalidations[revalidated_];
      bool valid = leader.revalidate_session(r.session_id, r.passwd, now);
      r.done(valid, leader.last_zxid());
    }
    return n;
  }

  /// Applies the leader's proposals not committed yet on the leader and, unless
  /// learner_lags, on the learner; returns how many.
  size_t commit() {
    size_t n = 0;
    while (committed_ < leader_repl.proposed.size()) {
      leader.apply_committed(leader_repl.proposed[committed_++]);
      ++n;
      if (!learner_lags) catch_up_learner();
    }
    return n;
  }

  /// Applies on the learner what the leader committed and it has not; returns how many.
  size_t catch_up_learner() {
    size_t n = 0;
    for (; learner_applied_ < committed_; ++learner_applied_, ++n)
      learner.apply_committed(leader_repl.proposed[learner_applied_]);
    return n;
  }

  /// The newest proposal, after checking there are `n` not yet committed.
  const tree::Txn& proposal(size_t n = 1) {
    EXPECT_EQ(leader_repl.proposed.size(), committed_ + n);
    return leader_repl.proposed.back();
  }

  /// The newest relay, after checking there are `n` not yet handed to the leader.
  const zab::Relay& forwarded(size_t n = 1) {
    EXPECT_EQ(learner_repl.forwarded.size(), relayed_ + n);
    return learner_repl.forwarded.back();
  }

  /// A client with a session on the leader.
  FakeLink& connect_leader(int32_t timeout_ms = 30000) {
    FakeLink& l = attach(leader);
    leader.on_frame(l, connect_request(timeout_ms), now);
    EXPECT_EQ(commit(), 1u);
    EXPECT_EQ(l.frames.size(), 1u);
    EXPECT_NE(l.session_id, 0);
    l.read = l.frames.size();
    return l;
  }

  /// A client with a session on the learner (created through the leader).
  FakeLink& connect_learner(int32_t timeout_ms = 30000) {
    FakeLink& l = attach(learner);
    learner.on_frame(l, connect_request(timeout_ms), now);
    EXPECT_EQ(relay(), 1u);
    EXPECT_EQ(commit(), 1u);
    EXPECT_EQ(l.frames.size(), 1u);
    EXPECT_NE(l.session_id, 0);
    l.read = l.frames.size();
    return l;
  }

  /// A write of a learner client all the way through: forwarded, proposed, committed.
  Reply learner_write(FakeLink& l, wire::OpCode type, const BodyFn& body) {
    int32_t xid = send(learner, l, type, body);
    EXPECT_EQ(relay(), 1u);
    EXPECT_EQ(commit(), 1u);
    Reply rep = only_reply(l);
    EXPECT_EQ(rep.xid(), xid);
    return rep;
  }

  /// True while `core` tracks `session`.
  bool alive(const ServerCore& core, int64_t session) {
    return core.sessions().sessions().count(session) > 0;
  }

  int64_t now = kStart;
  /// While set, commit() leaves the learner behind (its commits are still on the way).
  bool learner_lags = false;
  FakeReplication leader_repl{/*leads=*/true, kEpoch};
  FakeReplication learner_repl{/*leads=*/false, kEpoch};
  ServerCore leader{make_config(1), kStart};
  ServerCore learner{make_config(2), kStart};

 private:
  std::vector<std::unique_ptr<FakeLink>> links_;
  uint64_t next_link_id_ = 1;
  size_t relayed_ = 0;
  size_t revalidated_ = 0;
  size_t committed_ = 0;
  size_t learner_applied_ = 0;
};

}  // namespace corral::server::test
