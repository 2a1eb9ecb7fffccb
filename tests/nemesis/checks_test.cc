// The nemesis checkers must be able to fail: hand-made histories with a known stale read,
// lost write, lost update, duplicate or reordered sequence number and lingering ephemeral are
// rejected, and their clean twins pass. Needs no root.
#include "tests/nemesis/checks.h"

#include <gtest/gtest.h>

#include "tests/e2e/history.h"

namespace corral::nemesis {
namespace {

using e2e::HistoryChecker;
using e2e::HistoryOp;
using e2e::OpKind;
using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::now();

HistoryOp op(int client, OpKind kind, const std::string& value, int start_ms, int end_ms,
             int64_t zxid, bool synced = false) {
  HistoryOp o;
  o.client = client;
  o.kind = kind;
  o.path = "/reg/r0";
  o.value = value;
  o.invoke = t0 + std::chrono::milliseconds(start_ms);
  o.complete = t0 + std::chrono::milliseconds(end_ms);
  o.outcome = Outcome::kOk;
  o.zxid = zxid;
  o.synced = synced;
  return o;
}

std::vector<HistoryOp> register_history(bool stale) {
  return {op(0, OpKind::kCreate, "init", 0, 1, 0x100000001),
          op(1, OpKind::kSet, "a", 2, 3, 0x100000002),
          // Synced after "a" was acknowledged, yet returns the initial value when stale.
          stale ? op(2, OpKind::kGet, "init", 4, 5, 0x100000001, true)
                : op(2, OpKind::kGet, "a", 4, 5, 0x100000002, true)};
}

TEST(NemesisChecks, StaleReadAfterSyncIsRejected) {
  EXPECT_TRUE(HistoryChecker(register_history(false)).check().empty());
  auto v = HistoryChecker(register_history(true)).check();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("stale after sync"), std::string::npos) << v[0];
}

TEST(NemesisChecks, LostAcknowledgedWriteIsRejected) {
  HistoryChecker checker(register_history(false));
  e2e::ServerState good{{"/reg/r0", {true, "a", 0x100000002, ""}}};
  e2e::ServerState lost{{"/reg/r0", {true, "init", 0x100000001, ""}}};
  EXPECT_TRUE(checker.final_state({good, good}).empty());
  auto v = checker.final_state({good, lost});
  ASSERT_FALSE(v.empty());
  EXPECT_NE(v[0].find("older than acknowledged"), std::string::npos) << v[0];
}

TEST(NemesisChecks, LostUpdateIsRejected) {
  std::vector<CasRecord> ops = {{1, "/reg/r0", 3, Outcome::kOk, 0x10, 4},
                                {2, "/reg/r0", 4, Outcome::kOk, 0x11, 5}};
  EXPECT_TRUE(check_cas(ops).empty());
  ops[1].expected_version = 3;  // both from version 3: one update was lost
  ops[1].new_version = 4;
  auto v = check_cas(ops);
  ASSERT_FALSE(v.empty());
  EXPECT_NE(v[0].find("lost update"), std::string::npos) << v[0];
}

SeqCreate create(const std::string& name, int64_t czxid, int start_ms, int end_ms) {
  return {1,
          t0 + std::chrono::milliseconds(start_ms),
          t0 + std::chrono::milliseconds(end_ms),
          Outcome::kOk,
          name,
          czxid};
}

TEST(NemesisChecks, DuplicateOrReorderedSequenceIsRejected) {
  std::vector<SeqCreate> good = {create("n-0000000001", 0x20, 0, 1),
                                 create("n-0000000002", 0x21, 2, 3)};
  EXPECT_TRUE(check_sequence(good).empty());
  auto dup = good;
  dup[1].name = "n-0000000001";
  EXPECT_NE(check_sequence(dup).at(0).find("duplicate sequence"), std::string::npos);
  auto reordered = good;
  std::swap(reordered[0].czxid, reordered[1].czxid);  // numbers against commit order
  EXPECT_FALSE(check_sequence(reordered).empty());
}

TEST(NemesisChecks, LostSequentialNodeIsRejected) {
  std::vector<SeqCreate> ops = {create("n-0000000001", 0x20, 0, 1),
                                create("n-0000000002", 0x21, 2, 3)};
  SeqChildren all{{"n-0000000001", 0x20}, {"n-0000000002", 0x21}};
  SeqChildren missing{{"n-0000000001", 0x20}};
  EXPECT_TRUE(check_sequence_final(ops, {all, all}).empty());
  auto v = check_sequence_final(ops, {all, missing});
  ASSERT_FALSE(v.empty());
  EXPECT_NE(v[0].find("lost acknowledged"), std::string::npos) << v[0];
}

TEST(NemesisChecks, EphemeralOutlivingItsSessionIsRejected) {
  EphemeralSession ended{0x51, {"/eph/o1-a"}, {}, false, true, t0};
  EphemeralSession live{0x52, {"/eph/s-a"}, {}, true, false, {}};
  EphemeralView clean{{"/eph/s-a", 0x52}};
  EphemeralView lingering{{"/eph/s-a", 0x52}, {"/eph/o1-a", 0x51}};
  EXPECT_TRUE(check_ephemerals({ended, live}, {clean, clean}).empty());
  auto v = check_ephemerals({ended, live}, {clean, lingering});
  ASSERT_FALSE(v.empty());
  EXPECT_NE(v[0].find("outlived its session"), std::string::npos) << v[0];
  // A live session's ephemeral missing is a violation too.
  EXPECT_FALSE(check_ephemerals({ended, live}, {EphemeralView{}}).empty());
}

}  // namespace
}  // namespace corral::nemesis
