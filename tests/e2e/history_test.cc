// The history checker on small hand-made histories: ones that follow ZooKeeper's guarantees
// pass, and for each rule one that breaks it fails (with a message naming the culprit).
#include "tests/e2e/history.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = HistoryOp::Clock;

const Clock::time_point kT0 = Clock::now();

// Builds histories with times in milliseconds after kT0.
struct Builder {
  std::vector<HistoryOp> ops;

  Builder& write(int client, OpKind kind, const std::string& path, const std::string& value,
                 int invoke_ms, int complete_ms, Outcome outcome, int64_t zxid) {
    HistoryOp op;
    op.client = client;
    op.kind = kind;
    op.path = path;
    op.value = value;
    op.invoke = kT0 + std::chrono::milliseconds(invoke_ms);
    op.complete = kT0 + std::chrono::milliseconds(complete_ms);
    op.outcome = outcome;
    op.zxid = outcome == Outcome::kOk ? zxid : 0;
    op.rc = outcome == Outcome::kOk ? 0 : -4;
    ops.push_back(op);
    return *this;
  }
  Builder& set(int c, const std::string& p, const std::string& v, int i, int e, int64_t z) {
    return write(c, OpKind::kSet, p, v, i, e, Outcome::kOk, z);
  }
  Builder& create(int c, const std::string& p, const std::string& v, int i, int e, int64_t z) {
    return write(c, OpKind::kCreate, p, v, i, e, Outcome::kOk, z);
  }
  // A read that found `value` with `mzxid`; value "" with mzxid 0 means "absent".
  Builder& get(int client, const std::string& path, const std::string& value, int64_t mzxid,
               int invoke_ms, int complete_ms, bool synced = false) {
    HistoryOp op;
    op.client = client;
    op.kind = OpKind::kGet;
    op.path = path;
    op.value = value;
    op.found = mzxid != 0;
    op.zxid = mzxid;
    op.synced = synced;
    op.invoke = kT0 + std::chrono::milliseconds(invoke_ms);
    op.complete = kT0 + std::chrono::milliseconds(complete_ms);
    op.outcome = Outcome::kOk;
    ops.push_back(op);
    return *this;
  }
  HistoryChecker checker() const { return HistoryChecker(ops); }
};

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (auto& m : v) s += m + "\n";
  return s;
}

// Three clients, overlapping writes applied in an order that differs from their invocation
// order (allowed: they overlap), a stale plain read by another client (allowed), a synced
// read that is fresh, a write with a lost answer that reads show took effect.
Builder good_history() {
  Builder b;
  b.create(0, "/a", "a0", 0, 5, 0x100000001)
      .set(1, "/a", "a1", 10, 30, 0x100000003)        // overlaps the next one
      .set(2, "/a", "a2", 12, 20, 0x100000002)        // invoked later, applied earlier
      .get(3, "/a", "a0", 0x100000001, 31, 32)        // stale for client 3: allowed
      .get(3, "/a", "a1", 0x100000003, 33, 34, true)  // synced: fresh
      .write(1, OpKind::kSet, "/a", "a3", 40, 41, Outcome::kUnknown, 0)
      .get(2, "/a", "a3", 0x100000004, 50, 51)  // the unknown write took effect
      .set(2, "/a", "a4", 52, 53, 0x100000005)
      .write(1, OpKind::kSet, "/a", "lost", 60, 61, Outcome::kUnknown, 0)  // never applied
      .write(2, OpKind::kCreate, "/a", "dup", 70, 71, Outcome::kFailed, 0)
      .get(1, "/a", "a4", 0x100000005, 80, 81, true);
  return b;
}

TEST(HistoryChecker, GoodHistoryPasses) {
  Builder b = good_history();
  HistoryChecker c = b.checker();
  EXPECT_EQ(joined(c.check()), "");
  ServerState s{{"/a", {true, "a4", 0x100000005, "stat"}}};
  EXPECT_EQ(joined(c.final_state({s, s, s})), "");
  HistoryStats st = c.stats();
  EXPECT_EQ(st.ops, 11u);
  EXPECT_EQ(st.writes_ok, 4u);
  EXPECT_EQ(st.writes_unknown, 2u);
  EXPECT_EQ(st.unknown_applied, 1u);
  EXPECT_EQ(st.writes_failed, 1u);
  EXPECT_EQ(st.reads_synced, 2u);
}

TEST(HistoryChecker, History) {
  History h;
  size_t w = h.invoke(1, OpKind::kSet, "/x", "v");
  size_t r = h.invoke(2, OpKind::kGet, "/x", "ignored", true);
  h.complete_write(w, Outcome::kOk, 0, 7);
  h.complete_read(r, Outcome::kOk, 0, true, "v", 7);
  auto ops = h.ops();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].zxid, 7);
  EXPECT_EQ(ops[1].value, "v");
  EXPECT_TRUE(ops[1].synced);
  EXPECT_LE(ops[0].invoke, ops[0].complete);
  EXPECT_EQ(joined(HistoryChecker(ops).check()), "");
}

// (a)
TEST(HistoryChecker, DuplicateZxidFails) {
  Builder b;
  b.set(1, "/a", "x", 0, 10, 5).set(2, "/b", "y", 0, 10, 5);
  auto v = b.checker().unique_zxids();
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("same zxid"), std::string::npos) << v[0];
}

TEST(HistoryChecker, AcknowledgedWriteWithoutZxidFails) {
  Builder b;
  b.set(1, "/a", "x", 0, 10, 0);
  EXPECT_EQ(b.checker().unique_zxids().size(), 1u);
}

// (b)
TEST(HistoryChecker, WriteOrderAgainstRealTimeFails) {
  Builder b;
  b.set(1, "/a", "x", 0, 10, 9).set(2, "/b", "y", 20, 30, 8);  // later, smaller zxid
  auto v = b.checker().write_order();
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("#1 c2"), std::string::npos) << v[0];
  EXPECT_NE(v[0].find("#0 c1"), std::string::npos) << v[0];
}

TEST(HistoryChecker, WriteOrderOfAnAppliedUnknownWriteFails) {
  Builder b;
  b.set(1, "/a", "x", 0, 10, 9)
      .write(2, OpKind::kSet, "/a", "y", 20, 30, Outcome::kUnknown, 0)
      .get(3, "/a", "y", 8, 40, 41);  // shows it applied with a zxid below the earlier write's
  auto v = b.checker().write_order();
  EXPECT_EQ(v.size(), 1u) << joined(v);
}

// (c) what a read returns
TEST(HistoryChecker, ReadOfUnwrittenValueFails) {
  Builder b;
  b.set(1, "/a", "x", 0, 10, 9).get(2, "/a", "nobody", 9, 20, 21);
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

TEST(HistoryChecker, ReadWithWrongZxidFails) {
  Builder b;
  b.set(1, "/a", "x", 0, 10, 9).get(2, "/a", "x", 11, 20, 21);
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

TEST(HistoryChecker, ReadOfFailedWriteFails) {
  Builder b;
  b.write(1, OpKind::kCreate, "/a", "x", 0, 10, Outcome::kFailed, 0).get(2, "/a", "x", 9, 20, 21);
  auto v = b.checker().reads();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("failed write"), std::string::npos) << v[0];
}

TEST(HistoryChecker, ReadFromTheFutureFails) {
  Builder b;
  b.get(2, "/a", "x", 9, 0, 5).set(1, "/a", "x", 10, 20, 9);
  auto v = b.checker().reads();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("invoked after"), std::string::npos) << v[0];
}

TEST(HistoryChecker, UnknownWriteSeenWithTwoZxidsFails) {
  Builder b;
  b.write(1, OpKind::kSet, "/a", "x", 0, 10, Outcome::kUnknown, 0)
      .get(2, "/a", "x", 9, 20, 21)
      .get(3, "/a", "x", 12, 20, 21);
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

// (c) synced reads are fresh; plain reads need not be
TEST(HistoryChecker, StaleSyncedReadFails) {
  Builder b;
  b.create(1, "/a", "x", 0, 5, 3).set(1, "/a", "y", 6, 10, 5).get(2, "/a", "x", 3, 20, 25, true);
  auto v = b.checker().reads();
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("stale after sync"), std::string::npos) << v[0];
}

TEST(HistoryChecker, SyncedReadOfAbsentNodeAfterCreateFails) {
  Builder b;
  b.create(1, "/a", "x", 0, 5, 3).get(2, "/a", "", 0, 20, 25, true);
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

TEST(HistoryChecker, SyncedReadConcurrentWithWritePasses) {
  Builder b;
  // The set overlaps the synced read: either value is fine.
  b.create(1, "/a", "x", 0, 5, 3).set(1, "/a", "y", 18, 30, 5).get(2, "/a", "x", 3, 20, 25, true);
  EXPECT_EQ(joined(b.checker().check()), "");
}

TEST(HistoryChecker, StalePlainReadByAnotherClientPasses) {
  Builder b;
  b.create(1, "/a", "x", 0, 5, 3).set(1, "/a", "y", 6, 10, 5).get(2, "/a", "x", 3, 20, 25);
  EXPECT_EQ(joined(b.checker().check()), "");
}

// (c) session order
TEST(HistoryChecker, ReadOlderThanOwnWriteFails) {
  Builder b;
  b.create(1, "/a", "x", 0, 5, 3).set(1, "/a", "y", 6, 10, 5).get(1, "/a", "x", 3, 20, 25);
  auto v = b.checker().reads();
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("older than its session saw"), std::string::npos) << v[0];
}

TEST(HistoryChecker, ReadGoingBackwardsFails) {
  Builder b;
  b.create(1, "/a", "x", 0, 5, 3)
      .set(1, "/a", "y", 6, 10, 5)
      .get(2, "/a", "y", 5, 20, 25)
      .get(2, "/a", "x", 3, 30, 35);  // client 2 saw y before
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

TEST(HistoryChecker, ReadOlderThanOtherPathSeenFails) {
  Builder b;
  // Client 2 saw zxid 7 on /b, so its server had applied the set of /a at zxid 5 too.
  b.create(1, "/a", "x", 0, 5, 3)
      .set(1, "/a", "y", 6, 10, 5)
      .create(1, "/b", "b", 11, 15, 7)
      .get(2, "/b", "b", 7, 20, 25)
      .get(2, "/a", "x", 3, 30, 35);
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

TEST(HistoryChecker, AbsentAfterSessionSawCreateFails) {
  Builder b;
  b.create(1, "/a", "x", 0, 5, 3).get(1, "/a", "", 0, 20, 25);
  EXPECT_EQ(b.checker().reads().size(), 1u);
}

TEST(HistoryChecker, WriteBelowWhatSessionSawFails) {
  Builder b;
  // Client 1's set of /b has an unknown answer, and client 2 reads it (zxid 7); client 2's
  // own write must come after that. (b) alone cannot tell: the set never completed.
  b.write(1, OpKind::kSet, "/b", "b", 0, 100, Outcome::kUnknown, 0)
      .get(2, "/b", "b", 7, 10, 15)
      .set(2, "/a", "x", 20, 25, 6);
  HistoryChecker c = b.checker();
  EXPECT_EQ(c.write_order().size(), 0u);
  auto v = c.reads();
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("not above what its session saw"), std::string::npos) << v[0];
}

// (d)
TEST(HistoryChecker, FinalStateMissingNodeFails) {
  HistoryChecker c = good_history().checker();
  ServerState ok{{"/a", {true, "a4", 0x100000005, ""}}};
  auto v = c.final_state({ok, ServerState{}});
  EXPECT_EQ(v.size(), 2u) << joined(v);  // missing, and the servers disagree
}

TEST(HistoryChecker, FinalStateStaleNodeFails) {
  HistoryChecker c = good_history().checker();
  ServerState stale{{"/a", {true, "a1", 0x100000003, ""}}};
  auto v = c.final_state({stale});
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("older than acknowledged"), std::string::npos) << v[0];
}

TEST(HistoryChecker, FinalStateUnexplainedValueFails) {
  HistoryChecker c = good_history().checker();
  ServerState odd{{"/a", {true, "garbage", 0x100000009, ""}}};
  EXPECT_EQ(c.final_state({odd}).size(), 1u);
}

TEST(HistoryChecker, FinalStateLaterUnknownWritePasses) {
  Builder b = good_history();
  b.write(3, OpKind::kSet, "/a", "late", 90, 91, Outcome::kUnknown, 0);
  ServerState s{{"/a", {true, "late", 0x100000006, ""}}};
  EXPECT_EQ(joined(b.checker().final_state({s, s})), "");
}

TEST(HistoryChecker, FinalStateOnlyUnderPrefix) {
  Builder b = good_history();
  b.create(1, "/other", "o", 90, 91, 0x100000006);
  ServerState s{{"/other", {true, "o", 0x100000006, ""}}};
  EXPECT_EQ(joined(b.checker().final_state({s}, "/other")), "");
  EXPECT_EQ(b.checker().final_state({s}).size(), 1u);  // /a is missing
}

TEST(HistoryChecker, FinalStateDisagreementFails) {
  HistoryChecker c = good_history().checker();
  ServerState a{{"/a", {true, "a4", 0x100000005, "version=3"}}};
  ServerState b{{"/a", {true, "a4", 0x100000005, "version=4"}}};
  auto v = c.final_state({a, b});
  ASSERT_EQ(v.size(), 1u) << joined(v);
  EXPECT_NE(v[0].find("disagree"), std::string::npos) << v[0];
}

}  // namespace
}  // namespace corral::e2e
