// libFuzzer target: the quorum port's codec (ensemble/zab/codec.h) and the ZAB
// state machine (ensemble/zab/peer.h) fed by corrupted or malicious peers.
//
// One zab::Peer (server 1, a voter, or server 4, an observer, of members 1-3
// voting and 4 observing) is driven the way QuorumPeer drives it: frames from
// the other members go through decode_frame into step()/step_election(), time
// passes, log batches become durable, connections drop, the leader proposes.
// A model of the driver takes every Ready and checks what a server relies on:
// persisted epochs never go back and acceptedEpoch >= currentEpoch, the log
// only grows in zxid order (a repeated zxid would fail the txn log's insert),
// committed txns are logged and come in zxid order, each once, and the peer's
// own view agrees with its log, and an abstaining peer never leads and has its abstention
// persisted. So a peer that can crash or corrupt a server
// through its messages shows up as a crash or a broken invariant here.
//
// Input: one setup byte (bit 0: be the observer; bits 1-2: current epoch;
// bit 3: accepted epoch one higher; bits 4-6: txns in the log; bit 7: it abstained when it
// stopped, see Peer::diverged), then steps, each
// an op byte (low 3 bits pick the op, see Harness::step) and its operands.
// Frames the harness builds ("structured") take their epochs and zxids relative
// to the peer's own, so short inputs reach following, leading and broadcast;
// raw frames are arbitrary bytes for the codec. tests/fuzz/make_corpus.py
// writes seeds in this format.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ensemble/zab/codec.h"
#include "ensemble/zab/peer.h"
#include "tests/fuzz/byte_reader.h"

namespace {

using namespace corral;
using zab::Message;
using zab::MessageType;
using zab::Notification;
using zab::PeerState;

constexpr int64_t kStartMs = 1'000'000;
/// How far a tick op moves the clock: election timers (50 ms) to both limits
/// (syncLimit 10 s, initLimit 20 s with tickTime 2000).
constexpr std::array<int64_t, 8> kClockSteps = {0, 5, 50, 200, 1'000, 2'000, 10'000, 30'000};
/// Messages one step may produce: a peer must not be made to flood the others.
constexpr size_t kMaxMessagesPerStep = 1'000;
/// Largest raw frame the harness feeds.
constexpr size_t kMaxFrameBytes = 4'096;

/// Reports a broken invariant and aborts, so libFuzzer records the input.
[[noreturn]] void broken(const char* what, int64_t a = 0, int64_t b = 0) {
  std::fprintf(stderr, "peer_fuzzer: broken invariant: %s (%lld, %lld)\n", what,
               static_cast<long long>(a), static_cast<long long>(b));
  std::abort();
}

/// Aborts with `what` unless `ok`.
void check(bool ok, const char* what, int64_t a = 0, int64_t b = 0) {
  if (!ok) broken(what, a, b);
}

/// A txn as a leader would propose it: a createSession, enough for ZAB.
tree::Txn txn_at(int64_t zxid, int64_t session_id) {
  tree::Txn t;
  t.zxid = zxid;
  t.session_id = session_id;
  t.type = wire::OpCode::kCreateSession;
  t.session_timeout_ms = 10'000;
  t.session_passwd = std::string(16, 'p');
  return t;
}

zab::PeerConfig peer_config(int64_t my_id) {
  zab::PeerConfig c;
  c.my_id = my_id;
  c.members = {{1, true}, {2, true}, {3, true}, {4, false}};
  c.tick_ms = 2'000;
  // Small, so DIFF, TRUNC and SNAP all happen with short histories.
  c.history_txns = 4;
  return c;
}

/// What recovery would have found: epochs and the log's last txns.
zab::PeerHistory history(uint8_t setup) {
  zab::PeerHistory h;
  h.current_epoch = (setup >> 1) & 3;
  h.accepted_epoch = h.current_epoch + ((setup >> 3) & 1);
  const int64_t txns = (setup >> 4) & 7;
  for (int64_t i = 1; i <= txns; ++i) h.recent.push_back(txn_at(h.current_epoch << 32 | i, i));
  h.last_zxid = h.recent.empty() ? 0 : h.recent.back().zxid;
  h.abstaining = setup >> 7;
  return h;
}

/// QuorumPeer's side: acts on each Ready as the server does, checking it.
class Driver {
 public:
  Driver(int64_t my_id, const zab::PeerHistory& h)
      : my_id_(my_id),
        accepted_(h.accepted_epoch),
        current_(h.current_epoch),
        abstaining_(h.abstaining) {
    for (const auto& t : h.recent) log_.emplace(t.zxid, t);
    position_ = applied_ = h.last_zxid;
  }

  /// Does what `ready` asks, in its order, checking each part.
  void act(zab::Ready ready) {
    if (ready.accepted_epoch) {
      check(*ready.accepted_epoch >= accepted_, "acceptedEpoch went back", *ready.accepted_epoch,
            accepted_);
      accepted_ = *ready.accepted_epoch;
    }
    if (ready.current_epoch) {
      check(*ready.current_epoch >= current_, "currentEpoch went back", *ready.current_epoch,
            current_);
      current_ = *ready.current_epoch;
    }
    check(current_ <= accepted_, "currentEpoch is ahead of acceptedEpoch", current_, accepted_);
    // Set with the truncation that cuts txns it may have acknowledged; cleared only with the
    // snapshot that replaces its state.
    if (ready.abstaining) {
      check(*ready.abstaining ? ready.truncate_after.has_value() : !!ready.install_snapshot,
            "the abstention changes without a truncation or a snapshot");
      abstaining_ = *ready.abstaining;
    }
    if (ready.install_snapshot) {
      log_.clear();
      position_ = applied_ = ready.install_snapshot->zxid;
    }
    if (ready.truncate_after) {
      log_.erase(log_.upper_bound(*ready.truncate_after), log_.end());
      // The state is rebuilt from the truncated log, which ends where the peer says (the
      // lower of the TRUNC's zxid and its log's end).
      check(*ready.truncate_after <= position_, "a truncation past the log's end",
            *ready.truncate_after, position_);
      position_ = applied_ = *ready.truncate_after;
    }
    for (const auto& shared : ready.to_log) {
      const tree::Txn& t = *shared;
      // The txn log's key is the zxid: a repeat fails the insert and stops the server.
      check(t.zxid > position_ && t.zxid > last_key(), "a txn is logged out of zxid order", t.zxid,
            position_);
      log_.emplace(t.zxid, t);
      position_ = t.zxid;
    }
    if (!ready.to_log.empty()) batches_.push_back(ready.to_log.back()->zxid);
    check(ready.messages.size() + ready.notifications.size() <= kMaxMessagesPerStep,
          "one step sent too many messages", static_cast<int64_t>(ready.messages.size()));
    for (const auto& m : ready.messages) check(m.to != my_id_, "a message to itself", m.to);
    for (const auto& [to, n] : ready.notifications) {
      check(to != my_id_, "a notification to itself", to);
      election_epoch_ = n.election_epoch;
    }
    for (const auto& shared : ready.committed) {
      const tree::Txn& t = *shared;
      check(t.zxid > applied_, "a txn is committed twice or out of order", t.zxid, applied_);
      check(log_.count(t.zxid) == 1, "a committed txn is not in the log", t.zxid);
      applied_ = t.zxid;
    }
  }

  /// The oldest log batch is durable: its last zxid, for Peer::logged.
  std::optional<int64_t> complete_batch() {
    if (batches_.empty()) return std::nullopt;
    int64_t z = batches_.front();
    batches_.pop_front();
    return z;
  }

  /// Where the log ends as the peer sees it: its newest zxid, the snapshot's, or a TRUNC's.
  int64_t last_logged() const { return position_; }
  /// The last committed txn the driver applied (or its snapshot's zxid).
  int64_t applied() const { return applied_; }
  /// The election round of the peer's latest notification.
  int64_t election_epoch() const { return election_epoch_; }
  /// Whether the peer's abstention is persisted (as of the last Ready).
  bool abstaining() const { return abstaining_; }

 private:
  int64_t my_id_;
  int64_t accepted_;
  int64_t current_;
  std::map<int64_t, tree::Txn> log_;
  int64_t position_ = 0;  // see last_logged()
  int64_t applied_ = 0;
  std::deque<int64_t> batches_;
  int64_t election_epoch_ = 0;
  bool abstaining_ = false;

  int64_t last_key() const { return log_.empty() ? INT64_MIN : log_.rbegin()->first; }
};

/// One peer, its driver and a clock, stepped by the input.
class Harness {
 public:
  explicit Harness(uint8_t setup)
      : my_id_(setup & 1 ? 4 : 1),
        driver_(my_id_, history(setup)),
        peer_(peer_config(my_id_), history(setup), kStartMs) {
    peer_.set_snapshot_source([this] {
      return std::make_shared<zab::SnapshotData>(
          zab::SnapshotData{peer_.last_committed_zxid(), "state"});
    });
    settle();
  }

  /// Runs one op from the input.
  void step(fuzz::ByteReader& in) {
    const uint8_t op = in.u8();
    switch (op & 7) {
      case 0:
        now_ += kClockSteps[(op >> 3) & 7];
        peer_.tick(now_);
        break;
      case 1:
        deliver(other(op >> 3), in.bytes(kMaxFrameBytes));
        break;
      case 2:
        deliver(other(op >> 3), zab::encode_frame(notification(in)));
        break;
      case 3:
        deliver(other(op >> 3), zab::encode_frame(message(in)));
        break;
      case 4:
        if (auto z = driver_.complete_batch()) peer_.logged(*z, now_);
        break;
      case 5:
        // With the high bit: a committed txn did not fit the driver's tree (QuorumPeer's
        // apply_committed), which drops the log after what it applied.
        if (op & 0x80)
          peer_.diverged(driver_.applied(), now_);
        else
          peer_.disconnected(other(op >> 3), now_);
        break;
      case 6:
        peer_.propose(txn_at(0, in.u8()), now_);
        break;
      default:
        // Every pending batch is durable: lets the protocol move on in one op.
        while (auto z = driver_.complete_batch()) peer_.logged(*z, now_);
        break;
    }
    settle();
  }

 private:
  /// One of the other members, as the mesh identifies a connection.
  int64_t other(int pick) const {
    static constexpr std::array<int64_t, 4> kIds = {1, 2, 3, 4};
    int64_t id = kIds[pick & 3];
    return id == my_id_ ? kIds[(pick + 1) & 3] : id;
  }

  /// `frame` with its txns' records (Txn::record) dropped, so that encoding it encodes them.
  static zab::PeerFrame without_records(zab::PeerFrame frame) {
    if (auto* m = std::get_if<Message>(&frame))
      for (auto& t : m->txns) {
        tree::Txn fields = *t;
        fields.record.clear();
        t = tree::share(std::move(fields));
      }
    return frame;
  }

  /// QuorumPeer::on_frame: decode, stamp the sender, step.
  void deliver(int64_t from, const std::string& body) {
    auto frame = zab::decode_frame(body);
    if (!frame) return;
    // What decodes must encode and decode again (the codec has one form per value), its
    // txns encoded from their fields rather than sent in the bytes they came in.
    check(zab::decode_frame(zab::encode_frame(without_records(*frame))).has_value(),
          "a decoded frame does not survive encode/decode");
    if (auto* n = std::get_if<Notification>(&*frame)) {
      n->from = from;
      peer_.step_election(*n, now_);
    } else if (auto* m = std::get_if<Message>(&*frame)) {
      m->from = from;
      peer_.step(*m, now_);
    }
    // Relays are the server's traffic next to ZAB; the core never sees them.
  }

  /// A zxid near one the peer knows (pick chooses which), moved by a small delta.
  int64_t zxid_near(uint8_t pick, int64_t delta) const {
    int64_t base = 0;
    switch (pick & 3) {
      case 0:
        base = peer_.last_appended_zxid();
        break;
      case 1:
        base = peer_.last_committed_zxid();
        break;
      case 2:
        base = peer_.accepted_epoch() << 32;
        break;
      default:
        base = (peer_.accepted_epoch() + 1) << 32;
        break;
    }
    return base + delta;
  }

  /// An epoch near the peer's accepted epoch.
  int64_t epoch_near(uint8_t b) const { return peer_.accepted_epoch() + (b & 3) - 1; }

  Notification notification(fuzz::ByteReader& in) {
    Notification n;
    const uint8_t a = in.u8();
    n.state = static_cast<PeerState>(a & 3);
    n.vote.leader = 1 + ((a >> 2) & 3);
    n.vote.zxid = zxid_near(a >> 4, in.delta());
    n.vote.peer_epoch = peer_.current_epoch() + ((a >> 6) & 3) - 1;
    const uint8_t b = in.u8();
    n.election_epoch = driver_.election_epoch() + (b & 3) - 1;
    n.abstaining = (b >> 2) & 1;
    return n;
  }

  Message message(fuzz::ByteReader& in) {
    Message m;
    const uint8_t a = in.u8();
    const uint8_t b = in.u8();
    m.type = static_cast<MessageType>(a % 12);
    m.epoch = epoch_near(b);
    m.zxid = zxid_near(b >> 2, in.delta());
    m.observer = (a >> 4) & 1;
    m.sync_mode = static_cast<zab::SyncMode>(((a >> 5) & 3) % 3);
    m.trunc_zxid = zxid_near(b >> 4, in.delta());
    m.committed_zxid = zxid_near(b >> 6, in.delta());
    if (a >> 7) {
      const uint8_t pick = in.u8();  // named: argument evaluation order is unspecified
      m.snapshot = std::make_shared<zab::SnapshotData>(
          zab::SnapshotData{zxid_near(pick, in.delta()), "state"});
    }
    const uint8_t txns = in.u8();
    int64_t zxid = zxid_near(txns >> 2, in.delta());
    for (int i = 0; i < (txns & 3); ++i) m.txns.push_back(tree::share(txn_at(zxid + i, i + 1)));
    return m;
  }

  /// Takes the Ready and checks the peer against its log.
  void settle() {
    driver_.act(peer_.take_ready());
    check(peer_.last_appended_zxid() == driver_.last_logged(),
          "the peer's last zxid is not its log's", peer_.last_appended_zxid(),
          driver_.last_logged());
    check(peer_.last_logged_zxid() <= peer_.last_appended_zxid(),
          "more is durable than was appended", peer_.last_logged_zxid());
    check(peer_.last_committed_zxid() <= peer_.last_appended_zxid(),
          "more is committed than was appended", peer_.last_committed_zxid());
    check(peer_.current_epoch() <= peer_.accepted_epoch(), "currentEpoch > acceptedEpoch",
          peer_.current_epoch(), peer_.accepted_epoch());
    if (peer_.state() == PeerState::kLooking)
      check(!peer_.serving() && peer_.leader() == 0, "a looking peer serves or has a leader");
    check(peer_.abstaining() == driver_.abstaining(), "the abstention is not persisted");
    if (peer_.abstaining()) check(peer_.state() != PeerState::kLeading, "an abstaining peer leads");
  }

  int64_t my_id_;
  Driver driver_;
  zab::Peer peer_;
  int64_t now_ = kStartMs;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteReader in(data, size);
  Harness h(in.u8());
  while (in.more()) h.step(in);
  return 0;
}
