// QuorumPeer: what the ZAB core asks of this server's state (install a leader's snapshot,
// truncate the log, apply committed txns), and what happens when the leader's input
// cannot be used: a SNAP that does not decode, or a committed txn that does not fit.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "ensemble/server/network_server.h"
#include "ensemble/server/quorum_peer.h"
#include "ensemble/storage/recovery.h"
#include "ensemble/storage/txn_fit.h"

namespace corral::server {
namespace {

// A storage failure while following the protocol leaves this server's log in
// an unknown state: it stops, as ZooKeeper does, rather than acknowledge anything.
[[noreturn]] void storage_failed(const std::exception& e) {
  std::fprintf(stderr, "corral-server: ensemble storage failed, stopping: %s\n", e.what());
  std::abort();
}

std::vector<session::Session> live_sessions(const std::vector<storage::SessionRow>& rows) {
  std::vector<session::Session> out;
  for (const auto& s : rows) out.push_back({s.id, s.timeout_ms, s.passwd, 0, false});
  return out;
}

}  // namespace

void QuorumPeer::drop_member(int64_t member, const std::string& why) {
  spdlog::warn("server {} {}: closing the quorum connections with it", member, why);
  snapshot_streams_.drop(member);  // reset() tells no `disconnected` handler
  quorum_mesh_->reset(member);
  peer_.disconnected(member, steady_ms());
  drive();
}

bool QuorumPeer::accept_snapshot(const zab::Message& m) {
  // Only a SNAP the core would install is worth decoding (it refuses one without a snapshot).
  bool learner =
      peer_.state() == zab::PeerState::kFollowing || peer_.state() == zab::PeerState::kObserving;
  if (m.type != zab::MessageType::kSync || m.sync_mode != zab::SyncMode::kSnap || !m.snapshot ||
      !learner || m.from != peer_.leader())
    return true;
  // Decoded here, before the core drops its history for it: a snapshot that turns out
  // unusable later could only stop the server (its log would already be gone).
  auto decoded = std::make_shared<DecodedSnapshot>();
  decoded->received_ms = steady_ms();
  try {
    decoded->image = storage::decode_image(m.snapshot->bytes);
    decoded->decoded_ms = steady_ms();
    if (decoded->image.zxid != m.snapshot->zxid)
      throw storage::StorageError("its state is at zxid " +
                                  storage::zxid_text(decoded->image.zxid) + ", the message says " +
                                  storage::zxid_text(m.snapshot->zxid));
    // The storage thread writes the rows while this thread builds the tree from them (two
    // cores, one after the other took 2.3 s and 3.7 s for 1,000,000 nodes). They stay an
    // incomplete snapshot, which recovery drops, until the core installs the SNAP.
    storage_.run(
        [decoded](storage::Database& db) {
          try {
            const storage::StateImage& image = decoded->image;
            decoded->staged_id = db.stage_snapshot(image.zxid, image.sessions, image.nodes);
          } catch (const std::exception& e) {
            storage_failed(e);
          }
        },
        [] {});
    storage::load_image(decoded->image, decoded->tree);
    decoded->built_ms = steady_ms();
  } catch (const storage::StorageError& e) {
    forget_snapshot(std::move(decoded));
    drop_member(m.from, std::string("(the leader) sent a snapshot that cannot be installed (") +
                            e.what() + ")");
    return false;
  }
  decoded->data = m.snapshot;
  forget_snapshot(std::move(decoded_snapshot_));  // one the core did not take
  decoded_snapshot_ = std::move(decoded);
  return true;
}

void QuorumPeer::forget_snapshot(std::shared_ptr<DecodedSnapshot> snapshot) {
  if (!snapshot) return;
  // After the job that stages it (the storage thread runs jobs in order).
  storage_.run(
      [snapshot](storage::Database& db) {
        try {
          if (snapshot->staged_id) db.drop_snapshot(*snapshot->staged_id);
        } catch (const std::exception& e) {
          storage_failed(e);
        }
      },
      [] {});
}

// What ZooKeeper's DataTree.processTxn does with a committed txn whose precondition fails
// (3.8): a create under a missing parent -> NONODE, of an existing node -> NODEEXISTS (and
// the existing node takes the txn's ACL); a delete of a missing node or under a missing
// parent -> NONODE (the parent's pzxid moves anyway); setData or setACL of a missing node
// -> NONODE; a closeSession skips ephemerals already gone; a multi applies its ops one by
// one, keeping those before a failing op. It logs at debug level and goes on. It checks
// neither a delete of a node with children (the children stay, orphaned) nor a create
// under an ephemeral node.
//
// Every one of those means the same here: the leader prepared the txn against its own
// tree, where it fit, so this server's tree is no longer the leader's (or the leader is
// broken or hostile). Going on as ZooKeeper does would serve reads that differ from the
// leader's for good, leave half of a multi applied, and keep in the log a txn recovery
// refuses at the next start. So in every case the txn is not applied, the log is cut
// back to the state this server does hold, and it leaves the leader and asks for a SNAP
// (Peer::diverged): the clients waiting on this server lose their connection rather than
// get an answer the ensemble did not give. Txns with no precondition (createSession,
// closeSession, error, check) always fit.
void QuorumPeer::apply_committed(const std::vector<tree::SharedTxn>& committed) {
  for (const auto& shared : committed) {
    const tree::Txn& txn = *shared;
    if (diverged_) return;  // built on the state being replaced
    std::string misfit = storage::apply_misfit(core_.tree(), txn);
    if (misfit.empty()) {
      core_.apply_committed(txn);
      continue;
    }
    int64_t good = core_.tree().last_zxid();
    spdlog::error(
        "committed txn {} does not fit this server's tree ({}): its state differs from leader "
        "{}'s; dropping the log after {} and asking for a snapshot",
        storage::zxid_text(txn.zxid), misfit, peer_.leader(), storage::zxid_text(good));
    diverged_ = true;
    peer_.diverged(good, steady_ms());
    drive();
    return;
  }
}

void QuorumPeer::log_abstention(bool abstaining) const {
  if (abstaining)
    spdlog::warn(
        "server {} abstains from elections until a leader's snapshot repairs it: its log may "
        "lack txns it acknowledged, so its votes count for no one, it will not lead, and it "
        "follows only a leader the others already follow",
        config_.my_id);
  else
    spdlog::info("server {} installed the leader's snapshot and votes in elections again",
                 config_.my_id);
}

void QuorumPeer::persist(const zab::Ready& ready) {
  struct Rebuilt {
    std::optional<tree::DataTree> tree;
    std::vector<session::Session> sessions;
    /// After a truncation: the last zxid storage could rebuild.
    std::optional<int64_t> truncated_to;
    /// What the install's log line says (where its time went), made by the storage job so
    /// the image can be freed there rather than on the event loop.
    std::string installed;
  };
  auto rebuilt = std::make_shared<Rebuilt>();
  std::shared_ptr<DecodedSnapshot> snapshot;
  if (ready.install_snapshot) {
    // The core installs only a SNAP that on_frame accepted, in the same call.
    snapshot = std::move(decoded_snapshot_);
    if (!snapshot || snapshot->data != ready.install_snapshot) {
      std::fprintf(stderr, "corral-server: a snapshot to install was not checked first\n");
      std::abort();
    }
  }
  ++barriers_;
  storage_.run(
      [accepted = ready.accepted_epoch, current = ready.current_epoch, snapshot,
       abstaining = ready.abstaining, trunc = ready.truncate_after, rebuilt,
       configs = configs_of(ready)](storage::Database& db) {
        try {
          if (accepted) db.set_meta("acceptedEpoch", *accepted);
          if (current) db.set_meta("currentEpoch", *current);
          // Before the log is cut: a crash after the cut must restart a server that abstains.
          if (abstaining == true) db.set_meta(storage::Database::kAbstainingKey, 1);
          if (snapshot) {
            // Staged by the job accept_snapshot queued before this one.
            if (!snapshot->staged_id) throw storage::StorageError("the snapshot was not staged");
            db.install_snapshot(*snapshot->staged_id,
                                static_cast<int64_t>(snapshot->image.nodes.size()));
            rebuilt->installed = fmt::format(
                "{} nodes at zxid {}: decoded in {} ms, tree built in {} ms, stored in {} ms",
                snapshot->image.nodes.size(), storage::zxid_text(snapshot->image.zxid),
                snapshot->decoded_ms - snapshot->received_ms,
                snapshot->built_ms - snapshot->decoded_ms, steady_ms() - snapshot->built_ms);
            rebuilt->tree.emplace(std::move(snapshot->tree));
            rebuilt->sessions = live_sessions(snapshot->image.sessions);
          }
          // Only once the leader's state that repairs this server is durable.
          if (abstaining == false) db.set_meta(storage::Database::kAbstainingKey, 0);
          if (trunc) {
            db.truncate_after(*trunc);
            rebuilt->tree.emplace();
            storage::Recovered rec = storage::recover(db, *rebuilt->tree);
            rebuilt->sessions = live_sessions(rec.sessions);
            rebuilt->truncated_to = rec.last_zxid;
          }
          store_configs(db, configs);
        } catch (const std::exception& e) {
          storage_failed(e);
        }
      },
      [this, rebuilt, trunc = ready.truncate_after, configs = configs_of(ready)] {
        if (!rebuilt->installed.empty()) {
          // Where a SNAP's time went on the learner, one step after the other.
          spdlog::info("server {} installed the leader's snapshot of {}", config_.my_id,
                       rebuilt->installed);
        }
        if (rebuilt->tree) {
          core_.replace_state(std::move(*rebuilt->tree), rebuilt->sessions,
                              NetworkServer::now_ms());
          diverged_ = false;
        }
        use_configs(configs);
        --barriers_;
        if (rebuilt->truncated_to && *rebuilt->truncated_to != *trunc) {
          // The log and snapshots that are left do not reach the zxid the core truncated
          // to (a TRUNC below the oldest snapshot kept, whose log was purged): the core
          // counts txns this server no longer has.
          spdlog::error("truncated to {} but storage only rebuilds up to {}: asking for a snapshot",
                        storage::zxid_text(*trunc), storage::zxid_text(*rebuilt->truncated_to));
          diverged_ = true;
          peer_.diverged(*rebuilt->truncated_to, steady_ms());
          drive();
        }
      });
}

}  // namespace corral::server
