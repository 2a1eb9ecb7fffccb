// A proposed txn's encoding in the ZAB core: with PeerConfig::encode_txn the leader encodes a
// txn once, at propose, before anything of the peer changes, and its log and every follower's
// hold those bytes (Txn::record); the core itself encodes nothing.
#include <gtest/gtest.h>

#include <cstdint>
#include <new>
#include <string>

#include "ensemble/zab/peer.h"
#include "tests/ensemble/zab_reconfig_cluster.h"

namespace corral::zab {
namespace {

using namespace reconfig_test;  // NOLINT: the test vocabulary

// The logged copy of `zxid` on `disk`, or null.
const tree::Txn* logged_txn(const Disk& disk, int64_t zxid) {
  for (const auto& t : disk.log)
    if (t.zxid == zxid) return &t;
  return nullptr;
}

int64_t leader_of(Cluster& c) {
  for (int64_t id : {1, 2, 3})
    if (c.peer(id).state() == PeerState::kLeading) return id;
  return 0;
}

TEST(ZabPropose, ALeaderEncodesATxnOnceAndEveryMemberLogsThoseBytes) {
  int encodes = 0;
  auto encode = [&encodes](const tree::Txn& t) {
    ++encodes;
    return "record of " + std::to_string(t.zxid);  // the zxid is given before encoding
  };
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3}, true, encode);
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  const int64_t leader = leader_of(c);
  ASSERT_NE(leader, 0);
  const int before = encodes;
  const int64_t zxid = c.propose(leader, [](int64_t) { return write_txn(); });
  ASSERT_TRUE(
      c.run_until([&] { return c.applied(1, zxid) && c.applied(2, zxid) && c.applied(3, zxid); }));
  EXPECT_EQ(encodes - before, 1) << "one encoding for the leader's log and its PROPOSALs";
  for (int64_t id : {1, 2, 3}) {
    const tree::Txn* t = logged_txn(c.disk(id), zxid);
    ASSERT_NE(t, nullptr) << "member " << id;
    EXPECT_EQ(t->record, "record of " + std::to_string(zxid)) << "member " << id;
  }
}

TEST(ZabPropose, AnEncoderThatThrowsLeavesTheLeaderAsItWas) {
  bool fail = false;
  auto encode = [&fail](const tree::Txn& t) -> std::string {
    if (fail) throw std::bad_alloc();
    return "record of " + std::to_string(t.zxid);
  };
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3}, true, encode);
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  const int64_t leader = leader_of(c);
  ASSERT_NE(leader, 0);
  const int64_t next = c.peer(leader).next_zxid();
  fail = true;
  EXPECT_THROW(c.peer(leader).propose(write_txn(), c.now()), std::bad_alloc);
  fail = false;
  EXPECT_EQ(c.peer(leader).next_zxid(), next) << "no zxid skipped";
  const int64_t zxid = c.propose(leader, [](int64_t) { return write_txn(); });
  EXPECT_EQ(zxid, next);
  ASSERT_TRUE(c.run_until([&] { return c.applied(1, zxid) && c.applied(2, zxid); }));
}

TEST(ZabPropose, WithoutAnEncoderTheCoreLeavesTheRecordEmpty) {
  Cluster c(members({{1, P}, {2, P}, {3, P}}), {1, 2, 3});
  ASSERT_TRUE(c.run_until([&] { return c.all_serve(3); }));
  const int64_t leader = leader_of(c);
  ASSERT_NE(leader, 0);
  const int64_t zxid = c.propose(leader, [](int64_t) { return write_txn(); });
  ASSERT_TRUE(c.run_until([&] { return c.applied(leader, zxid); }));
  const tree::Txn* t = logged_txn(c.disk(leader), zxid);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->record.empty());
}

}  // namespace
}  // namespace corral::zab
