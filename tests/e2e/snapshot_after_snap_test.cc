// End to end: a follower whose whole state a SNAP replaced while it ran must not reuse the runs
// of the snapshots it took before (IncrementalSnapshot): their chunks hold the tree the SNAP
// replaced (the install removes them), and nothing told the Snapshotter what changed in
// between. The follower is stopped (SIGSTOP) while the leader changes a node under every parent
// and purges its log past the follower's zxid, so that on waking it is synced by a SNAP in the
// same process; its next snapshot is then the newest on its disk when it is killed, and what it
// recovers from.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/jute_bytes.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/tree_fill.h"
#include "tests/e2e/wait_until.h"

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// 20 parents of 1,000 children: about 20 runs (a run ends after about one node in 1,024).
const TreeShape kTree{.parents = 20, .children = 1000, .data_bytes = 100};
constexpr int kSnapCount = 100;
// Txns the stopped follower misses: past what the leader keeps in memory for DIFFs
// (zab::PeerConfig::history_txns, 1,000), and past its log, purged at its snapshots.
constexpr int kMissed = 1500;

/// Writes /w through `writer`, 50 sets at a time, until `done` holds; false after `limit`.
template <typename F>
bool write_until(RawClient& writer, F done, Clock::duration limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline || set_many(writer, "/w", 50) != "") return false;
    std::this_thread::sleep_for(20ms);  // a member starts a snapshot on its tick
  }
  return true;
}

std::string first_child(int parent) { return "/p" + std::to_string(parent) + "/0"; }

TEST(SnapshotAfterSnap, AFollowerSyncedByASnapDoesNotReuseItsOlderRuns) {
  Ensemble::Options options;
  // The leader drops a silent learner after syncLimit (5) ticks of 500 ms; each member purges
  // its log at every snapshot, keeping the three newest snapshots and the log after the oldest.
  // The writer's session outlives the waits between its writes.
  options.extra_cfg = "snapCount=" + std::to_string(kSnapCount) +
                      "\nautopurge.purgeInterval=1\nautopurge.snapRetainCount=3\n"
                      "maxSessionTimeout=120000\n";
  options.name = "corral-snapshot-after-snap";
  Ensemble ensemble(options);
  ASSERT_TRUE(ensemble.ok()) << ensemble.error();
  ASSERT_TRUE(ensemble.start_all()) << ensemble.describe();
  const int leader = ensemble.leader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % ensemble.size();

  RawClient writer(ensemble.client_port(leader), 60s);
  ASSERT_TRUE(writer.handshake(120000));
  ASSERT_EQ(fill_tree(writer, kTree), "") << ensemble.describe();
  ASSERT_EQ(writer.create("/w", ""), kOk);
  const std::string snapshot_done = "in runs reused from the last";
  ASSERT_TRUE(write_until(
      writer, [&] { return ensemble.count_in_log(follower, snapshot_done) >= 2; }, 30s))
      << "the follower took no snapshot\n"
      << ensemble.log(follower, 4000);

  // Stopped, the follower misses a change under every parent and the log that held them.
  const size_t leader_log_at_pause = ensemble.log(leader).size();
  const std::string dropped = "stopped counting on learner " + std::to_string(follower + 1);
  ASSERT_TRUE(ensemble.pause(follower));
  ASSERT_TRUE(wait_until(60s, [&] {
    return ensemble.count_in_log(leader, dropped, leader_log_at_pause) >= 1;
  })) << ensemble.log(leader, 4000);
  // Written once the leader has let go of the follower (what it sent before waits in the
  // follower's socket and is read when it wakes): a change under every parent, then txns over
  // four of the leader's snapshots, the last of which purge the log it would DIFF from.
  const size_t leader_log_at_drop = ensemble.log(leader).size();
  for (int p = 0; p < kTree.parents; ++p)
    ASSERT_EQ(writer.set_data(first_child(p), "changed"), kOk) << first_child(p);
  ASSERT_EQ(set_many(writer, "/w", kMissed), "") << ensemble.describe();
  ASSERT_TRUE(write_until(
      writer, [&] { return ensemble.count_in_log(leader, snapshot_done, leader_log_at_drop) >= 4; },
      30s))
      << ensemble.log(leader, 4000);
  const size_t follower_log_before = ensemble.log(follower).size();
  ASSERT_TRUE(ensemble.resume(follower));

  const std::string installed = "installed the leader's snapshot of";
  ASSERT_TRUE(write_until(
      writer, [&] { return ensemble.count_in_log(follower, installed, follower_log_before) >= 1; },
      60s))
      << "the follower was not synced by a SNAP\n"
      << ensemble.log(follower, 4000);
  const size_t installed_at = ensemble.log(follower).find(installed, follower_log_before);
  // Its first snapshot after the install. Were the older runs reused, it would name chunks the
  // install removed (the storage job fails and the member stops), or hold the children as
  // they were before the follower stopped (the reads below).
  ASSERT_TRUE(write_until(
      writer,
      [&] {
        return !ensemble.running(follower) ||
               ensemble.count_in_log(follower, snapshot_done, installed_at) >= 1;
      },
      30s))
      << "the follower took no snapshot after the SNAP\n"
      << ensemble.log(follower, 4000);
  ASSERT_TRUE(ensemble.running(follower)) << ensemble.log(follower, 4000);

  ASSERT_TRUE(ensemble.kill9(follower));
  ASSERT_TRUE(ensemble.start(follower));
  ASSERT_TRUE(ensemble.wait_serving(follower, Clock::now() + 60s)) << ensemble.describe();
  RawClient reader(ensemble.client_port(follower), 30s);
  ASSERT_TRUE(reader.handshake());
  for (int p = 0; p < kTree.parents; ++p) {
    auto node = reader.get_data(first_child(p));
    ASSERT_TRUE(node) << first_child(p);
    EXPECT_EQ(node->data, "changed") << first_child(p);
  }
  auto last = reader.get_data(kTree.last_path());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->err, kOk);
}

}  // namespace
}  // namespace corral::e2e
