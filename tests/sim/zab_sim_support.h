// Helpers shared by the ZAB simulation tests: seeds, failure reports, and
// common steps (settle, write, expect the ensemble to be live).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/zab_cluster.h"

namespace corral::sim {

/// The epoch part of a zxid.
inline int64_t epoch_of(int64_t zxid) { return zxid >> 32; }

/// The seeds a test runs: `count` from `first`, or as ZAB_SEED, ZAB_SEEDS and
/// ZAB_FIRST_SEED say.
inline std::vector<uint64_t> seeds(uint64_t first, uint64_t count) {
  if (const char* one = std::getenv("ZAB_SEED")) return {std::strtoull(one, nullptr, 10)};
  if (const char* n = std::getenv("ZAB_SEEDS")) count = std::strtoull(n, nullptr, 10);
  if (const char* f = std::getenv("ZAB_FIRST_SEED")) first = std::strtoull(f, nullptr, 10);
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < count; ++i) out.push_back(first + i);
  return out;
}

/// The seed to reproduce with, the violations and the ensemble's state.
inline std::string report(const ZabCluster& c) {
  std::string out = "reproduce with seed=" + std::to_string(c.seed()) + "\n";
  for (const auto& v : c.violations()) out += "  VIOLATION " + v + "\n";
  return out + c.describe();
}

/// A quick, reliable network and disk.
inline ZabClusterOptions reliable(uint64_t seed, int voters, int observers = 0) {
  ZabClusterOptions o;
  o.seed = seed;
  o.voters = voters;
  o.observers = observers;
  o.faults.min_delay_ms = 1;
  o.faults.max_delay_ms = 3;
  o.faults.min_fsync_ms = 1;
  o.faults.max_fsync_ms = 2;
  return o;
}

/// Whether `seq` has a txn with this zxid.
inline bool holds(const std::vector<SimTxn>& seq, int64_t zxid) {
  return std::any_of(seq.begin(), seq.end(), [&](const SimTxn& t) { return t.zxid == zxid; });
}

/// Every acknowledged write is in the committed sequence.
inline void expect_acknowledged_kept(const ZabCluster& c) {
  for (const auto& [zxid, t] : c.acknowledged()) {
    auto it = std::lower_bound(c.committed().begin(), c.committed().end(), zxid,
                               [](const SimTxn& a, int64_t z) { return a.zxid < z; });
    EXPECT_TRUE(it != c.committed().end() && *it == t)
        << "acknowledged write " << zxid_text(zxid) << " " << t.path << " was lost\n"
        << report(c);
  }
}

/// Runs until the ensemble is settled; then one more write must reach every peer.
inline void expect_live(ZabCluster& c, int64_t max_ms) {
  ASSERT_TRUE(c.run_until([&] { return c.settled(); }, max_ms))
      << "not settled within " << max_ms << " ms\n"
      << report(c);
  std::optional<int64_t> zxid = c.propose();
  ASSERT_TRUE(zxid) << "the settled leader does not take writes\n" << report(c);
  ASSERT_TRUE(c.run_until(
      [&] { return c.settled() && !c.committed().empty() && c.committed().back().zxid == *zxid; },
      max_ms))
      << "a write after settling did not reach every peer\n"
      << report(c);
  EXPECT_TRUE(c.acknowledged().count(*zxid)) << report(c);
  expect_acknowledged_kept(c);
  EXPECT_TRUE(c.violations().empty()) << report(c);
}

/// Proposes `n` txns at the serving leader, each after the previous committed.
inline void write(ZabCluster& c, int n) {
  for (int i = 0; i < n; ++i) {
    std::optional<int64_t> zxid = c.propose();
    ASSERT_TRUE(zxid) << "no serving leader\n" << report(c);
    ASSERT_TRUE(c.run_until([&] { return c.acknowledged().count(*zxid) > 0; }, 5'000)) << report(c);
  }
}

/// Every peer but `id`, in id order.
inline std::vector<int64_t> others(const ZabCluster& c, int64_t id) {
  std::vector<int64_t> out;
  for (int64_t i : c.ids())
    if (i != id) out.push_back(i);
  return out;
}

/// The last sync the learner got.
inline std::optional<SyncEvent> last_sync(const ZabCluster& c, int64_t learner) {
  std::optional<SyncEvent> out;
  for (const auto& s : c.syncs())
    if (s.learner == learner) out = s;
  return out;
}

/// A serving leader among `ids`.
inline std::optional<int64_t> leader_among(const ZabCluster& c, const std::vector<int64_t>& ids) {
  for (int64_t id : ids) {
    const zab::Peer* p = c.peer(id);
    if (p && p->state() == zab::PeerState::kLeading && p->serving()) return id;
  }
  return std::nullopt;
}

/// A leader serves a quorum, and every up peer that does not follow it has
/// accepted a newer epoch than the leader's.
inline bool blocked_by_accepted_epoch(const ZabCluster& c) {
  std::optional<int64_t> leader = c.serving_leader();
  if (!leader) return false;
  const int64_t epoch = c.peer(*leader)->current_epoch();
  bool blocked = false;
  for (int64_t id : c.ids()) {
    const zab::Peer* p = c.peer(id);
    if (!p || p->serving()) continue;
    if (p->accepted_epoch() <= epoch) return false;
    blocked = true;
  }
  return blocked;
}

/// A settled 3-voter ensemble with a few committed txns.
inline ZabCluster& warm_up(ZabCluster& c, int txns) {
  c.start_all();
  EXPECT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  write(c, txns);
  EXPECT_TRUE(c.run_until([&] { return c.settled(); }, 10'000)) << report(c);
  return c;
}

}  // namespace corral::sim
