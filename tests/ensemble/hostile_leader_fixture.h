// One real ensemble member (QuorumPeer with its ServerCore, SQLite database and storage
// thread, as corral-server wires them) in this process, and the two other members played
// by the test over real election and quorum connections: member 3 leads, member 2 agrees,
// and the test decides every message the "leader" sends, lawful or not.
#pragma once

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ensemble/server/config.h"
#include "ensemble/server/network_server.h"
#include "ensemble/server/peer_mesh.h"
#include "ensemble/server/quorum_peer.h"
#include "ensemble/server/server_core.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/state_image.h"
#include "ensemble/storage/storage_thread.h"
#include "ensemble/zab/codec.h"
#include "tests/ensemble/storage_support.h"

namespace corral::server::test {

using namespace std::chrono_literals;
using storage::kOpenAcl;
using zab::Message;
using zab::MessageType;

/// A message of `type` from the fake leader.
inline Message message(MessageType type, int64_t epoch = 0, int64_t zxid = 0) {
  Message m;
  m.type = type;
  m.epoch = epoch;
  m.zxid = zxid;
  return m;
}

/// A SYNC of `mode` whose txns are committed up to `committed`.
inline Message sync_message(zab::SyncMode mode, int64_t committed = 0,
                            std::shared_ptr<const zab::SnapshotData> snapshot = nullptr) {
  Message m = message(MessageType::kSync);
  m.sync_mode = mode;
  m.committed_zxid = committed;
  m.snapshot = std::move(snapshot);
  return m;
}

/// zxid `counter` of `epoch`.
inline int64_t zxid(int64_t epoch, int64_t counter) { return epoch << 32 | counter; }

/// A txn of one op (a create, delete or setData of `path`).
inline tree::Txn one_op(int64_t zxid, wire::OpCode type, const std::string& path) {
  tree::Txn t;
  t.zxid = zxid;
  t.type = type;
  tree::TxnOp op;
  op.type = type;
  op.path = path;
  op.acl = kOpenAcl;
  op.version = 1;
  t.ops.push_back(op);
  return t;
}

/// The bytes of a leader's state image holding the nodes `txns` create, at `at`.
inline std::string image_of(const std::vector<tree::Txn>& txns, int64_t at) {
  tree::DataTree tree;
  for (const auto& t : txns) tree.apply(t);
  tree.set_last_zxid(at);
  return storage::encode_image(storage::capture_image(tree, {}));
}

class HostileLeaderTest : public ::testing::Test {
 protected:
  void TearDown() override { stop_member(); }

  /// Starts member 1 from whatever its database holds, and the fake members 2 and 3.
  void start_member(const std::string& extra_cfg = "") {
    ports_ = free_ports(6);
    std::string text = "tickTime=200\ninitLimit=20\nsyncLimit=10\ndataDir=" + dir_.file("") +
                       "\nclientPort=2181\n" + extra_cfg;
    for (int id = 1; id <= 3; ++id)
      text += "server." + std::to_string(id) + "=127.0.0.1:" + std::to_string(port(id, true)) +
              ":" + std::to_string(port(id, false)) + "\n";
    ServerConfig config = parse_config(text, "zoo.cfg");
    config.my_id = 1;
    io_ = std::make_unique<asio::io_context>();
    db_ = std::make_unique<storage::Database>(db_path(), false);
    core_ = std::make_unique<ServerCore>(config, NetworkServer::now_ms());
    storage::Recovered rec = storage::recover(*db_, core_->tree_for_recovery());
    core_->restore(rec.last_zxid, {}, NetworkServer::now_ms());
    storage_ = std::make_unique<storage::StorageThread>(
        *db_, [this](std::function<void()> f) { asio::post(*io_, std::move(f)); });
    zab::PeerHistory history;
    history.accepted_epoch = db_->meta("acceptedEpoch", 0);
    history.current_epoch = db_->meta("currentEpoch", 0);
    history.abstaining = db_->meta(storage::Database::kAbstainingKey, 0) != 0;
    history.last_zxid = rec.last_zxid;
    history.recent = db_->recent_txns(1000);
    quorum_ = std::make_unique<QuorumPeer>(*io_, *core_, *storage_, std::move(history));
    core_->set_replication(quorum_.get());
    start_fakes();
    quorum_->start();
  }

  /// Stops member 1 as a kill would, after its queued storage work (run before a restart).
  void stop_member() {
    if (!quorum_) return;
    quorum_->stop();
    for (auto* m : {e2_.get(), e3_.get(), q3_.get()}) m->stop();
    storage_->stop();
    // Completions still queued on io_ refer to these: they are dropped with io_'s queue
    // (a restart gets a new io_context, so none of them runs).
    io_->stop();
    quorum_.reset();
    storage_.reset();
    core_.reset();
    db_.reset();
    e2_.reset();
    e3_.reset();
    q3_.reset();
    io_.reset();
  }

  std::string db_path() const { return dir_.file("corral.db"); }

  /// Runs the member until `done` (or 5 s); the fake leader pings meanwhile.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_->run_for(10ms);
      if (q3_->connected(1) && std::chrono::steady_clock::now() - last_ping_ > 100ms) {
        last_ping_ = std::chrono::steady_clock::now();
        send(message(MessageType::kPing));
      }
    }
    return true;
  }

  /// The fake leader's next message of `type` from member 1 (others are dropped).
  Message await(MessageType type) {
    Message got;
    bool found = run_until([&] {
      while (!inbox_.empty()) {
        Message m = std::move(inbox_.front());
        inbox_.pop_front();
        if (m.type == type) {
          got = std::move(m);
          return true;
        }
      }
      return false;
    });
    EXPECT_TRUE(found) << "member 1 sent no message of type " << static_cast<int>(type);
    return got;
  }

  /// The fake leader sends `m` to member 1 (once its connection is up).
  void send(Message m) {
    m.from = 3;
    m.to = 1;
    send_raw(zab::encode_frame(m));
  }
  void send_raw(std::string frame) {
    if (!q3_->connected(1)) {
      EXPECT_TRUE(run_until([&] { return q3_->connected(1); }));
    }
    q3_->send(1, std::move(frame));
  }

  /// Election, then discovery in `epoch`: returns member 1's FOLLOWERINFO.
  Message follow(int64_t epoch) {
    answer_votes(true);
    Message info = await(MessageType::kFollowerInfo);
    send(message(MessageType::kLeaderInfo, epoch));
    await(MessageType::kAckEpoch);
    return info;
  }

  /// Sends `sync`, then NEWLEADER and UPTODATE once acknowledged; member 1 then serves.
  void sync(Message sync, int64_t epoch) {
    send(std::move(sync));
    send(message(MessageType::kNewLeader, epoch));
    await(MessageType::kAckNewLeader);
    send(message(MessageType::kUpToDate, epoch));
    EXPECT_TRUE(run_until([&] { return quorum_->serving(); }));
  }

  /// The fake leader proposes and commits `txn`.
  void commit(const tree::Txn& txn) {
    Message proposal = message(MessageType::kProposal);
    proposal.txns = {tree::share(txn)};
    send(std::move(proposal));
    send(message(MessageType::kCommit, 0, txn.zxid));
  }

  /// Whether members 2 and 3 tell a looking member 1 that 3 leads (as decided members do).
  void answer_votes(bool on) {
    answering_ = on;
    if (on && election_epoch_) {
      e2_->send(1, vote(2, election_epoch_));
      e3_->send(1, vote(3, election_epoch_));
    }
  }

  /// Members 2 and 3, looking in a round past member 1's, both vote for member 1 with a
  /// better history than its own: a member that may lead decides to lead at once.
  void offer_leadership() {
    EXPECT_TRUE(run_until([&] { return e2_->connected(1) && e3_->connected(1); }));
    for (int64_t id : {2, 3}) {
      auto n = zab::Notification{id, zab::PeerState::kLooking, zab::Vote{1, zxid(9, 1), 9},
                                 election_epoch_ + 1};
      (id == 2 ? e2_ : e3_)->send(1, zab::encode_frame(n));
    }
  }

  /// Member 1's election notifications so far (every state), as member 2 got them.
  const std::vector<zab::Notification>& notifications() const { return notifications_; }

  /// Runs until member 1 sends its next election notification; returns it.
  zab::Notification next_notification() {
    size_t seen = notifications_.size();
    EXPECT_TRUE(run_until([&] { return notifications_.size() > seen; }))
        << "member 1 sent no election notification";
    return notifications_.empty() ? zab::Notification{} : notifications_.back();
  }

  /// Member 1 dropped its connection with the leader and went back to electing.
  bool left_the_leader() {
    return run_until([&] { return disconnects_ > 0 && quorum_->mode() == "looking"; });
  }

  /// ACKNEWLEADERs member 1 sent so far.
  int acks_of_newleader() const { return acks_of_newleader_; }

  bool has(const std::string& path) const { return core_->tree().find(path) != nullptr; }

  storage::TempDir dir_{"corral-hostile-leader"};
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<storage::StorageThread> storage_;
  std::unique_ptr<QuorumPeer> quorum_;
  int disconnects_ = 0;

 private:
  uint16_t port(int id, bool quorum) const { return ports_[(id - 1) * 2 + (quorum ? 0 : 1)]; }

  static std::vector<uint16_t> free_ports(size_t n) {
    asio::io_context io;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> held;
    std::vector<uint16_t> out;
    for (size_t i = 0; i < n; ++i) {
      held.push_back(std::make_unique<asio::ip::tcp::acceptor>(
          io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
      out.push_back(held.back()->local_endpoint().port());
    }
    return out;
  }

  std::string vote(int64_t id, int64_t round) const {
    zab::PeerState state = id == 3 ? zab::PeerState::kLeading : zab::PeerState::kFollowing;
    return zab::encode_frame(zab::Notification{id, state, zab::Vote{3, 0, 0}, round});
  }

  void start_fakes() {
    inbox_.clear();  // a restarted member's: not this one's
    std::vector<MeshPeer> election, quorum;
    for (int id = 1; id <= 3; ++id) {
      election.push_back({id, "127.0.0.1", port(id, false)});
      quorum.push_back({id, "127.0.0.1", port(id, true)});
    }
    auto voter = [this](int64_t id) {
      PeerMesh::Handlers h;
      h.frame = [this, id](int64_t, std::string_view body) {
        auto f = zab::decode_frame(body);
        auto* n = f ? std::get_if<zab::Notification>(&*f) : nullptr;
        if (n && id == 2) notifications_.push_back(*n);
        if (!n || n->state != zab::PeerState::kLooking) return;
        election_epoch_ = n->election_epoch;
        if (answering_) (id == 2 ? e2_ : e3_)->send(1, vote(id, n->election_epoch));
      };
      return h;
    };
    e2_ = std::make_unique<PeerMesh>(*io_, 2, election, voter(2));
    e3_ = std::make_unique<PeerMesh>(*io_, 3, election, voter(3));
    PeerMesh::Handlers leader;
    leader.frame = [this](int64_t, std::string_view body) {
      auto f = zab::decode_frame(body);
      auto* m = f ? std::get_if<Message>(&*f) : nullptr;
      if (!m) return;
      if (m->type == MessageType::kAckNewLeader) ++acks_of_newleader_;
      inbox_.push_back(std::move(*m));
    };
    leader.disconnected = [this](int64_t) { ++disconnects_; };
    q3_ = std::make_unique<PeerMesh>(*io_, 3, quorum, leader);
    for (auto* m : {e2_.get(), e3_.get(), q3_.get()}) m->start();
  }

  std::vector<uint16_t> ports_;
  std::unique_ptr<PeerMesh> e2_, e3_, q3_;
  std::deque<Message> inbox_;
  std::vector<zab::Notification> notifications_;
  bool answering_ = false;
  int acks_of_newleader_ = 0;
  int64_t election_epoch_ = 0;
  std::chrono::steady_clock::time_point last_ping_;
};

}  // namespace corral::server::test
