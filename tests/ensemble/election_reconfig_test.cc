// Fast leader election under dynamic reconfiguration: roles come from the config (only a
// listed observer observes; a server outside it follows without a vote), notifications carry
// the committed config when reconfig is on, and a looking server adopts a newer one and
// restarts its round (FastLeaderElection; "observer promoted during FLE").
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "ensemble/zab/election.h"
#include "ensemble/zab/peer.h"
#include "ensemble/zab/quorum_config.h"

namespace corral::zab {
namespace {

constexpr int64_t kNow = 1'000'000;

/// Server `id` on 127.0.0.1, quorum port 2000+id, election port 3000+id.
QuorumServer server(int64_t id, QuorumRole role) {
  QuorumServer s;
  s.id = id;
  s.host = "127.0.0.1";
  s.quorum_port = static_cast<int>(2000 + id);
  s.election_port = static_cast<int>(3000 + id);
  s.role = role;
  return s;
}

/// Servers 1..`voters` participate, the rest of `ids` observe; version `version`.
std::shared_ptr<const QuorumConfig> config(int64_t version, std::vector<int64_t> voters,
                                           std::vector<int64_t> observers = {}) {
  auto c = std::make_shared<QuorumConfig>();
  c->version = version;
  auto add = [&](int64_t id, QuorumRole role) { c->servers[id] = server(id, role); };
  for (int64_t id : voters) add(id, QuorumRole::kParticipant);
  for (int64_t id : observers) add(id, QuorumRole::kObserver);
  return c;
}

/// `from` (decided) says `leader` leads in round 1.
Notification decided(int64_t from, int64_t leader) {
  return Notification{from, from == leader ? PeerState::kLeading : PeerState::kFollowing,
                      Vote{leader, 9, 1}, 1};
}

TEST(ElectionReconfig, OnlyAListedObserverObservesAndAStrangerFollows) {
  for (int64_t me : {4, 5}) {
    Election e(me, {{1, true}, {2, true}, {3, true}, {4, false}});
    e.start(0, 0, kNow);
    for (int64_t id : {2, 3}) e.receive(decided(id, 3), kNow);
    ASSERT_TRUE(e.decision()) << me;
    EXPECT_EQ(e.decision()->state, me == 4 ? PeerState::kObserving : PeerState::kFollowing)
        << "server " << me;
  }
}

TEST(ElectionReconfig, NotificationsCarryTheConfigOnlyWithReconfigOn) {
  for (bool gossip : {true, false}) {
    Election e(1, {});
    e.set_config(config(0x100000000, {1, 2, 3}));
    e.set_gossip(gossip);
    e.start(0, 0, kNow);
    auto out = e.take_outbox();
    ASSERT_EQ(out.size(), 2u) << "told the config's members";
    EXPECT_EQ(out[0].second.config_version, gossip ? 0x100000000 : 0);
    EXPECT_EQ(out[0].second.config, gossip ? config(0x100000000, {1, 2, 3})->text() : "");
  }
}

// A looking server with the old config {1, 2, 3} hears of {1, 2, 4}: it adopts it, restarts its
// round, and then counts votes by it (4 now votes, 3 does not).
TEST(ElectionReconfig, ALookingServerAdoptsANewerConfigAndRestartsItsRound) {
  for (bool gossip : {true, false}) {
    Election e(1, {});
    e.set_config(config(0x100000000, {1, 2, 3}));
    e.set_gossip(gossip);
    e.start(0, 0, kNow);
    const int64_t round = e.election_epoch();
    auto next = config(0x100000005, {1, 2, 4});
    Notification n{2, PeerState::kLooking, Vote{4, 9, 1}, round};
    n.config_version = next->version;
    n.config = next->text();
    e.receive(n, kNow);
    auto adopted = e.take_adopted();
    if (!gossip) {
      EXPECT_FALSE(adopted);
      EXPECT_EQ(e.config()->version, 0x100000000);
      continue;
    }
    ASSERT_TRUE(adopted);
    EXPECT_EQ(*adopted, *next);
    EXPECT_EQ(e.config()->version, next->version);
    EXPECT_GT(e.election_epoch(), round) << "the round did not restart";
    // 4 and 2 agree on 4 in the new round: a majority of {1, 2, 4} (with 1's own vote for 4).
    Notification from2{2, PeerState::kLooking, Vote{4, 9, 1}, e.election_epoch()};
    e.receive(from2, kNow);
    Notification again = n;
    again.from = 4;
    again.election_epoch = e.election_epoch();
    e.receive(again, kNow);
    e.tick(kNow + 10'000);
    ASSERT_TRUE(e.decision());
    EXPECT_EQ(e.decision()->vote.leader, 4);
  }
}

// FastLeaderElection takes a config only from a known server: a guest (in neither the active
// nor the pending config) cannot change who votes; a member of the pending config can.
TEST(ElectionReconfig, OnlyAMemberOfTheActiveOrPendingConfigIsAdoptedFrom) {
  Election e(1, {});
  e.set_config(config(0x100000000, {1, 2, 3}));
  e.set_gossip(true);
  e.start(0, 0, kNow);
  auto next = config(0x100000005, {1, 9});
  Notification n{9, PeerState::kLooking, Vote{9, 9, 1}, e.election_epoch()};
  n.config_version = next->version;
  n.config = next->text();
  e.receive(n, kNow);
  EXPECT_FALSE(e.take_adopted()) << "a guest moved the config on";
  EXPECT_EQ(e.config()->version, 0x100000000);
  e.set_pending(config(0x100000004, {1, 2, 9}));
  e.receive(n, kNow);
  auto adopted = e.take_adopted();
  ASSERT_TRUE(adopted) << "a member of the pending config was not heard";
  EXPECT_EQ(adopted->version, next->version);
}

// A version that does not match the text, or a text that does not parse, is a corrupt peer's.
TEST(ElectionReconfig, AConfigThatDoesNotParseOrMatchItsVersionIsIgnored) {
  Election e(1, {});
  e.set_config(config(1, {1, 2, 3}));
  e.set_gossip(true);
  e.start(0, 0, kNow);
  Notification n{2, PeerState::kLooking, Vote{2, 9, 1}, e.election_epoch()};
  n.config_version = 9;
  n.config = config(8, {1, 2})->text();
  e.receive(n, kNow);
  n.config = "server.x=nonsense\nversion=9";
  e.receive(n, kNow);
  EXPECT_FALSE(e.take_adopted());
  EXPECT_EQ(e.config()->version, 1);
}

// The peer persists a config learnt by gossip as active (not carried by a txn: the driver sets
// /zookeeper/config itself).
TEST(ElectionReconfig, APeerPersistsAnAdoptedConfigAsActivatedNotFromATxn) {
  PeerConfig pc;
  pc.my_id = 1;
  pc.reconfig_enabled = true;
  PeerHistory h;
  h.active = config(0x100000000, {1, 2, 3});
  h.last_seen = config(0x100000003, {1, 2, 3, 4});  // its txn is older than the gossip
  Peer p(pc, h, kNow);
  p.take_ready();
  auto next = config(0x200000001, {1, 2, 4});
  Notification n{2, PeerState::kLooking, Vote{2, 9, 1}, 1};
  n.config_version = next->version;
  n.config = next->text();
  p.step_election(n, kNow);
  Ready r = p.take_ready();
  ASSERT_TRUE(r.activated);
  EXPECT_EQ(*r.activated->config, *next);
  EXPECT_FALSE(r.activated->from_txn);
  EXPECT_EQ(p.active_config()->version, next->version);
  EXPECT_FALSE(p.reconfig_pending()) << "an older last-seen config outlived the adopted one";
}

// Observers and strangers that keep asking get answers, but do not defer the resend to the
// voters: otherwise voters that missed each other's votes (a heal) stay looking for ever.
TEST(ElectionReconfig, NonVotersDoNotKeepAVoterFromResending) {
  for (int64_t asker : {4, 5}) {
    Election e(1, {}, ElectionTiming{.finalize_wait_ms = 50, .min_resend_ms = 50});
    e.set_config(config(1, {1, 2, 3}, {4}));
    e.start(0, 0, kNow);
    e.take_outbox();
    bool resent_to_voters = false;
    for (int64_t t = kNow + 20; t <= kNow + 200 && !resent_to_voters; t += 20) {
      e.receive(Notification{asker, PeerState::kLooking, Vote{}, e.election_epoch()}, t);
      e.tick(t);
      for (const auto& [to, n] : e.take_outbox())
        resent_to_voters |= to == 2 && n.state == PeerState::kLooking;
    }
    EXPECT_TRUE(resent_to_voters) << "server " << asker << " kept voter 1 quiet";
  }
}

}  // namespace
}  // namespace corral::zab
