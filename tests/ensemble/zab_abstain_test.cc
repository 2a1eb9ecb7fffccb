// A diverged member abstains (Peer::diverged): its log lacks txns it may have acknowledged,
// so until a leader's SNAP repairs it, its election notifications count for no one, it never
// leads, it follows only a leader a quorum of the others already follow, and that leader
// counts none of its acks before the SNAP. The scenario it guards against, with 3 voters:
// L and F1 ack Z, Z commits, F1 finds Z does not fit its tree and drops it, L dies, and F1
// with F2 (which never got Z) elect a leader without Z: an acknowledged write is lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ensemble/zab/election.h"
#include "ensemble/zab/peer.h"

namespace corral::zab {
namespace {

constexpr int64_t kNow = 1'000'000;
constexpr int64_t kStepMs = 10;

std::vector<Member> three_voters() { return {{1, true}, {2, true}, {3, true}}; }

tree::Txn txn(int64_t zxid) {
  tree::Txn t;
  t.zxid = zxid;
  t.type = wire::OpCode::kCreateSession;
  return t;
}

// ---------------------------------------------------------------- the election alone

/// Ticks `e` well past the finalize wait; returns whether it decided.
bool decides(Election& e) {
  e.tick(kNow + 10'000);
  return e.decision().has_value();
}

TEST(ElectionAbstention, AnAbstainersVoteCountsForNoOne) {
  for (bool abstaining : {false, true}) {
    Election e(2, three_voters());
    e.start(5, 1, kNow);
    // Server 1 votes for 2: with 2's own vote, a quorum of 3, unless 1 abstains.
    e.receive(Notification{1, PeerState::kLooking, Vote{2, 5, 1}, 1, abstaining}, kNow);
    EXPECT_EQ(decides(e), !abstaining) << "abstaining " << abstaining;
  }
  // Nor does the role an abstainer announces help a newcomer join.
  Election late(2, three_voters());
  late.start(5, 1, kNow);
  late.receive(Notification{1, PeerState::kFollowing, Vote{3, 9, 2}, 4, true}, kNow);
  late.receive(Notification{3, PeerState::kLeading, Vote{3, 9, 2}, 4}, kNow);
  EXPECT_FALSE(decides(late));
}

TEST(ElectionAbstention, AnAbstainerNeverLeadsAndJoinsOnlyADecidedEnsemble) {
  Election e(1, three_voters());
  e.start(5, 1, kNow, true);
  for (const auto& [to, n] : e.take_outbox()) {
    EXPECT_TRUE(n.abstaining);
    EXPECT_NE(n.vote.leader, 1) << "an abstainer proposed itself";
  }
  // Both others vote for it, then both for 3: a voter would lead, then follow 3.
  for (int64_t leader : {1, 3}) {
    for (int64_t id : {2, 3})
      e.receive(Notification{id, PeerState::kLooking, Vote{leader, 9, 2}, 1}, kNow);
    EXPECT_FALSE(decides(e)) << "decided on looking votes for " << leader;
  }
  // Decided servers saying it leads do not make it lead either.
  e.receive(Notification{2, PeerState::kFollowing, Vote{1, 9, 2}, 1}, kNow);
  e.receive(Notification{3, PeerState::kFollowing, Vote{1, 9, 2}, 1}, kNow);
  EXPECT_FALSE(decides(e));
  // A quorum of the others following 3, and 3 leading: it follows 3.
  e.receive(Notification{2, PeerState::kFollowing, Vote{3, 9, 2}, 1}, kNow);
  e.receive(Notification{3, PeerState::kLeading, Vote{3, 9, 2}, 1}, kNow);
  ASSERT_TRUE(e.decision().has_value());
  EXPECT_EQ(e.decision()->state, PeerState::kFollowing);
  EXPECT_EQ(e.decision()->vote.leader, 3);
}

// ---------------------------------------------------------------- three peers

/// What a peer's driver keeps: the durable part survives a crash.
struct Disk {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  bool abstaining = false;
  int64_t snapshot_zxid = 0;
  std::vector<int64_t> snapshot_state;  // the zxids applied up to the snapshot
  std::vector<tree::Txn> log;           // after the snapshot
};

/// Three voters wired directly, as QuorumPeer drives one: logs are durable at once, messages
/// arrive in order, a member that is down neither sends nor receives. A committed txn in
/// `misfits` does not fit member `misfit_member`'s state: its driver calls diverged().
class Trio {
 public:
  Trio() {
    for (int64_t id : {1, 2, 3}) start(id);
  }

  void start(int64_t id) {
    const Disk& d = disks_[id];
    PeerHistory h;
    h.accepted_epoch = d.accepted_epoch;
    h.current_epoch = d.current_epoch;
    h.abstaining = d.abstaining;
    h.recent = d.log;
    h.last_zxid = d.log.empty() ? d.snapshot_zxid : d.log.back().zxid;
    PeerConfig c;
    c.my_id = id;
    c.members = three_voters();
    c.tick_ms = 100;
    applied_[id] = d.snapshot_state;
    for (const auto& t : d.log) applied_[id].push_back(t.zxid);  // replayed at start
    peers_[id] = std::make_unique<Peer>(c, h, now_);
    peers_[id]->set_snapshot_source([this, id] {
      std::ostringstream state;
      for (int64_t z : applied_[id]) state << z << ' ';
      return std::make_shared<SnapshotData>(
          SnapshotData{peers_[id]->last_committed_zxid(), state.str()});
    });
  }

  void crash(int64_t id) {
    peers_.erase(id);
    for (auto& [other, p] : peers_) p->disconnected(id, now_);
  }

  int64_t now() const { return now_; }
  Peer* peer(int64_t id) { return peers_.count(id) ? peers_[id].get() : nullptr; }
  const Disk& disk(int64_t id) { return disks_[id]; }
  bool holds(int64_t id, int64_t zxid) {
    return std::count(applied_[id].begin(), applied_[id].end(), zxid) == 1;
  }
  int snapshots_installed(int64_t id) { return snapshots_[id]; }

  /// Runs for up to `max_ms` of simulated time until `done`; `each` is checked every step.
  bool run_until(
      const std::function<bool()>& done, int64_t max_ms = 20'000,
      const std::function<void()>& each = [] {}) {
    for (int64_t end = now_ + max_ms; now_ < end; now_ += kStepMs) {
      for (auto& [id, p] : peers_) p->tick(now_);
      pump();
      each();
      if (done()) return true;
    }
    return false;
  }

  /// Whether `leader` serves with both others synced under it.
  bool all_serve(int64_t leader) {
    for (auto& [id, p] : peers_)
      if (!p->serving() || p->leader() != leader) return false;
    return peers_.size() == 3 && peers_[leader]->state() == PeerState::kLeading;
  }

  /// Drops ZAB messages for which this returns true.
  std::function<bool(const Message&)> drop = [](const Message&) { return false; };
  int64_t misfit_member = 0;
  int64_t misfit = 0;
  /// Crashes at once when the misfit is found (before the next message is delivered).
  int64_t crash_on_misfit = 0;

 private:
  using Envelope = std::variant<Message, std::pair<int64_t, Notification>>;

  void pump() {
    for (bool more = true; more;) {
      more = false;
      for (auto& [id, p] : peers_) more |= act(id, p->take_ready());
      if (std::exchange(misfit_found_, false) && crash_on_misfit) crash(crash_on_misfit);
      while (!queue_.empty()) {
        Envelope e = std::move(queue_.front());
        queue_.pop_front();
        deliver(e);
        more = true;
      }
    }
  }

  void deliver(const Envelope& e) {
    if (const auto* m = std::get_if<Message>(&e)) {
      if (Peer* p = peer(m->to); p && peer(m->from) && !drop(*m)) p->step(*m, now_);
    } else {
      const auto& [to, n] = std::get<std::pair<int64_t, Notification>>(e);
      if (Peer* p = peer(to); p && peer(n.from)) p->step_election(n, now_);
    }
  }

  bool act(int64_t id, Ready r) {
    Disk& d = disks_[id];
    if (r.accepted_epoch) d.accepted_epoch = *r.accepted_epoch;
    if (r.current_epoch) d.current_epoch = *r.current_epoch;
    if (r.abstaining) d.abstaining = *r.abstaining;
    if (r.install_snapshot) {
      ++snapshots_[id];
      d.log.clear();
      d.snapshot_zxid = r.install_snapshot->zxid;
      applied_[id].clear();
      std::istringstream state(r.install_snapshot->bytes);
      for (int64_t z; state >> z;) applied_[id].push_back(z);
      d.snapshot_state = applied_[id];
    }
    if (r.truncate_after) {
      std::erase_if(d.log, [&](const tree::Txn& t) { return t.zxid > *r.truncate_after; });
      std::erase_if(applied_[id], [&](int64_t z) { return z > *r.truncate_after; });
    }
    for (const auto& t : r.to_log) d.log.push_back(*t);
    for (auto& m : r.messages) queue_.push_back(m);
    for (auto& n : r.notifications) queue_.push_back(n);
    for (const auto& t : r.committed) {
      if (id == misfit_member && t->zxid == misfit) {
        peers_[id]->diverged(applied_[id].empty() ? 0 : applied_[id].back(), now_);
        misfit_found_ = true;
        break;
      }
      applied_[id].push_back(t->zxid);
    }
    bool any = !r.to_log.empty() || !r.messages.empty() || !r.notifications.empty() ||
               r.install_snapshot || r.truncate_after || !r.committed.empty() || r.accepted_epoch ||
               r.current_epoch || r.abstaining;
    if (!r.to_log.empty()) peers_[id]->logged(r.to_log.back()->zxid, now_);
    return any;
  }

  int64_t now_ = kNow;
  std::map<int64_t, std::unique_ptr<Peer>> peers_;
  std::map<int64_t, Disk> disks_;
  std::map<int64_t, std::vector<int64_t>> applied_;
  std::map<int64_t, int> snapshots_;
  std::deque<Envelope> queue_;
  bool misfit_found_ = false;
};

TEST(ZabAbstention, ADivergedFollowerAndTheLaggardCannotLoseAnAcknowledgedTxn) {
  Trio trio;
  ASSERT_TRUE(trio.run_until([&] { return trio.all_serve(3); }));
  const int64_t a = *trio.peer(3)->propose(txn(0), trio.now());
  ASSERT_TRUE(trio.run_until([&] { return trio.holds(1, a) && trio.holds(2, a); }));

  // Z reaches 3 and 2 only: they ack it and it commits, but 2's state cannot take it.
  trio.drop = [](const Message& m) {
    return m.to == 1 && (m.type == MessageType::kProposal || m.type == MessageType::kCommit);
  };
  trio.misfit_member = 2;
  trio.misfit = trio.peer(3)->next_zxid();
  // 3 dies before any SNAP can reach 2.
  trio.crash_on_misfit = 3;
  const int64_t z = *trio.peer(3)->propose(txn(0), trio.now());
  ASSERT_TRUE(trio.run_until([&] { return trio.peer(3) == nullptr; }));
  EXPECT_TRUE(trio.peer(2)->abstaining());
  EXPECT_TRUE(trio.disk(2).abstaining);
  EXPECT_FALSE(trio.holds(2, z));
  EXPECT_TRUE(trio.disk(3).log.back().zxid == z) << "the leader logged Z";
  trio.drop = [](const Message&) { return false; };

  // 1 and 2 alone: neither may lead, since neither holds Z.
  bool someone_led = false;
  trio.run_until([] { return false; }, 10'000,
                 [&] {
                   for (int64_t id : {1, 2})
                     someone_led |= trio.peer(id)->state() == PeerState::kLeading;
                 });
  EXPECT_FALSE(someone_led) << "a leader without the acknowledged txn was elected";

  // 2 restarts: it still abstains.
  trio.crash(2);
  trio.start(2);
  EXPECT_TRUE(trio.peer(2)->abstaining());

  // With 3 back, 3 leads, 2 follows it, gets a SNAP and votes again.
  trio.start(3);
  ASSERT_TRUE(trio.run_until([&] { return trio.all_serve(3); }));
  EXPECT_EQ(trio.snapshots_installed(2), 1);
  EXPECT_FALSE(trio.peer(2)->abstaining());
  EXPECT_FALSE(trio.disk(2).abstaining);
  for (int64_t id : {1, 2, 3}) EXPECT_TRUE(trio.holds(id, z)) << "server " << id;

  // A voter again: with 3 gone, 1 and 2 elect a leader, which holds Z.
  trio.crash(3);
  ASSERT_TRUE(trio.run_until([&] {
    auto* p2 = trio.peer(2);
    return p2->serving() && trio.peer(1)->serving() && p2->leader() == 2;
  }));
  EXPECT_TRUE(trio.holds(2, z));
}

/// Peer 1 of three, elected leader by the votes of 2 and 3, with an empty snapshot to send.
std::unique_ptr<Peer> elected_leader() {
  PeerConfig c;
  c.my_id = 1;
  c.members = three_voters();
  auto leader = std::make_unique<Peer>(c, PeerHistory{}, kNow);
  leader->set_snapshot_source([] { return std::make_shared<SnapshotData>(SnapshotData{0, ""}); });
  for (int64_t id : {2, 3})
    leader->step_election(Notification{id, PeerState::kLooking, Vote{1, 0, 0}, 1}, kNow);
  return leader;
}

/// A learner's message of `type` to the leader.
Message from(int64_t id, MessageType type, int64_t epoch = 0, int64_t zxid = 0) {
  Message m;
  m.from = id;
  m.type = type;
  m.epoch = epoch;
  m.zxid = zxid;
  return m;
}

/// The SYNC mode sent to each learner in `ready`.
std::map<int64_t, SyncMode> sync_modes(const Ready& ready) {
  std::map<int64_t, SyncMode> modes;
  for (const auto& m : ready.messages)
    if (m.type == MessageType::kSync) modes[m.to] = m.sync_mode;
  return modes;
}

/// A leader of 1 and 3 facing learner 2, which asks for a SNAP (it abstains).
TEST(ZabAbstention, ALeaderCountsNoAckOfAnAbstainerBeforeItsSnapshot) {
  std::unique_ptr<Peer> elected = elected_leader();
  Peer& leader = *elected;
  ASSERT_EQ(leader.state(), PeerState::kLeading);
  leader.take_ready();
  Message info = from(2, MessageType::kFollowerInfo);
  info.wants_snapshot = true;
  leader.step(info, kNow);
  EXPECT_TRUE(leader.take_ready().messages.empty()) << "an epoch from an abstainer's quorum";
  leader.step(from(3, MessageType::kFollowerInfo), kNow);
  leader.take_ready();
  leader.step(from(2, MessageType::kAckEpoch), kNow);
  EXPECT_TRUE(leader.take_ready().messages.empty()) << "synced on an abstainer's epoch ack";
  leader.step(from(3, MessageType::kAckEpoch), kNow);
  std::map<int64_t, SyncMode> modes = sync_modes(leader.take_ready());
  EXPECT_EQ(modes[2], SyncMode::kSnap);
  // Its ACKNEWLEADER after the SNAP counts: with the leader's own, the epoch is established.
  leader.step(from(2, MessageType::kAckNewLeader, 1), kNow);
  EXPECT_TRUE(leader.serving());
}

// An abstainer may claim a newer epoch (it wrote one in a sync whose storage then fell short):
// it vouches for no history, so the leader does not elect again for it (that would loop without
// it ever getting its SNAP) but syncs it by SNAP once the others have acked.
TEST(ZabAbstention, ALeaderDoesNotElectAgainForAnAbstainerThatClaimsANewerEpoch) {
  std::unique_ptr<Peer> elected = elected_leader();
  Peer& leader = *elected;
  ASSERT_EQ(leader.state(), PeerState::kLeading);
  leader.take_ready();
  Message info = from(2, MessageType::kFollowerInfo);
  info.wants_snapshot = true;
  leader.step(info, kNow);
  leader.step(from(3, MessageType::kFollowerInfo), kNow);
  leader.take_ready();
  leader.step(from(2, MessageType::kAckEpoch, 5, int64_t{5} << 32), kNow);
  EXPECT_EQ(leader.state(), PeerState::kLeading) << "elected again for an abstainer";
  leader.step(from(3, MessageType::kAckEpoch), kNow);
  std::map<int64_t, SyncMode> modes = sync_modes(leader.take_ready());
  EXPECT_EQ(modes[2], SyncMode::kSnap);
  // A learner that vouches for its history and claims to be ahead still makes it elect again.
  std::unique_ptr<Peer> elected_again = elected_leader();
  Peer& other = *elected_again;
  ASSERT_EQ(other.state(), PeerState::kLeading);
  other.step(from(2, MessageType::kFollowerInfo), kNow);
  other.step(from(3, MessageType::kFollowerInfo), kNow);
  other.step(from(2, MessageType::kAckEpoch, 5, int64_t{5} << 32), kNow);
  EXPECT_EQ(other.state(), PeerState::kLooking);
}

// An abstaining learner refuses a DIFF: it would build on the state it found wrong, and its
// ACKNEWLEADER would vouch for a history it does not hold.
TEST(ZabAbstention, AnAbstainerTakesOnlyASnapshot) {
  PeerConfig c;
  c.my_id = 1;
  c.members = three_voters();
  PeerHistory h;
  h.abstaining = true;
  Peer p(c, h, kNow);
  auto follow_3 = [&] {
    p.step_election(Notification{2, PeerState::kFollowing, Vote{3, 0, 0}, 1}, kNow);
    p.step_election(Notification{3, PeerState::kLeading, Vote{3, 0, 0}, 1}, kNow);
    ASSERT_EQ(p.state(), PeerState::kFollowing);
    Message m;
    m.from = 3;
    m.type = MessageType::kLeaderInfo;
    m.epoch = 1;
    p.step(m, kNow);
    p.take_ready();
  };
  follow_3();
  Message sync;
  sync.from = 3;
  sync.type = MessageType::kSync;
  p.step(sync, kNow);
  EXPECT_EQ(p.state(), PeerState::kLooking);
  EXPECT_TRUE(p.abstaining());

  follow_3();
  sync.sync_mode = SyncMode::kSnap;
  sync.snapshot = std::make_shared<SnapshotData>(SnapshotData{0, ""});
  p.step(sync, kNow);
  Ready r = p.take_ready();
  ASSERT_NE(r.install_snapshot, nullptr);
  ASSERT_TRUE(r.abstaining.has_value());
  EXPECT_FALSE(*r.abstaining);
  EXPECT_FALSE(p.abstaining());
}

}  // namespace
}  // namespace corral::zab
