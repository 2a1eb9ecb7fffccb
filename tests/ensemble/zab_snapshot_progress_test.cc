// A learner receiving a long SNAP image (Peer::snapshot_progress): each part that arrives
// counts as hearing from the leader, and the leader hears a ping back, no more often than
// every tickTime/2, so a SNAP that keeps moving is not cut off at initLimit. Silence still is.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

#include "ensemble/zab/peer.h"

namespace corral::zab {
namespace {

constexpr int64_t kNow = 1'000'000;
constexpr int64_t kTickMs = 100;

PeerConfig config() {
  PeerConfig c;
  c.my_id = 1;
  c.members = {{1, true}, {2, true}, {3, true}};
  c.tick_ms = kTickMs;
  return c;
}

/// Server 1 following server 3, which sent LEADERINFO: the image would come next.
std::unique_ptr<Peer> learner_of_3() {
  auto peer = std::make_unique<Peer>(config(), PeerHistory{}, kNow);
  Peer& p = *peer;
  for (int64_t id : {2, 3}) {
    PeerState state = id == 3 ? PeerState::kLeading : PeerState::kFollowing;
    p.step_election(Notification{id, state, Vote{3, 5, 0}, 1}, kNow);
  }
  Message info;
  info.from = 3;
  info.type = MessageType::kLeaderInfo;
  info.epoch = 1;
  p.step(info, kNow);
  p.take_ready();
  return peer;
}

/// Pings `p` sent to server 3 since the last call.
int pings_to_3(Peer& p) {
  int n = 0;
  for (const Message& m : p.take_ready().messages)
    if (m.type == MessageType::kPing && m.to == 3) ++n;
  return n;
}

TEST(ZabSnapshotProgress, AnImageThatKeepsArrivingOutlastsInitLimit) {
  auto peer = learner_of_3();
  Peer& p = *peer;
  ASSERT_EQ(p.state(), PeerState::kFollowing);
  const int64_t init_limit_ms = config().init_limit * kTickMs;
  int pings = 0;
  // A part every 10 ms for three times initLimit.
  for (int64_t t = kNow; t <= kNow + 3 * init_limit_ms; t += 10) {
    p.snapshot_progress(t);
    p.tick(t);
    pings += pings_to_3(p);
  }
  EXPECT_EQ(p.state(), PeerState::kFollowing);
  EXPECT_EQ(p.leader(), 3);
  // One ping per half tick, no more: 3 * initLimit is 60 half ticks.
  EXPECT_GE(pings, 60);
  EXPECT_LE(pings, 61);
}

TEST(ZabSnapshotProgress, SilenceAfterTheLastPartStillEndsAtInitLimit) {
  auto peer = learner_of_3();
  Peer& p = *peer;
  const int64_t last_part = kNow + 5000;
  p.snapshot_progress(last_part);
  const int64_t init_limit_ms = config().init_limit * kTickMs;
  p.tick(last_part + init_limit_ms);
  EXPECT_EQ(p.state(), PeerState::kFollowing);
  p.tick(last_part + init_limit_ms + 1);
  EXPECT_EQ(p.state(), PeerState::kLooking);
  // A looking server answers no image: it pings no one.
  p.take_ready();
  p.snapshot_progress(last_part + init_limit_ms + 2);
  EXPECT_EQ(pings_to_3(p), 0);
}

}  // namespace
}  // namespace corral::zab
