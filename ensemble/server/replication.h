// What the core asks of the ensemble when it runs as one member of it (the
// ensemble driver implements this). Without it the core is a standalone server.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "ensemble/server/reconfig_prep.h"
#include "ensemble/tree/txn.h"
#include "ensemble/zab/relay.h"

namespace corral::server {

/// The ensemble as the core sees it.
class Replication {
 public:
  virtual ~Replication() = default;
  /// True while this server may take client requests (a synced leader or learner).
  virtual bool serving() const = 0;
  /// True while this server, outside a quorum, serves reads to clients that allow a
  /// read-only server (readonlymode.enabled, after ZooKeeper's grace period).
  virtual bool read_only() const = 0;
  /// True while this server is the serving leader: it prepares and proposes writes.
  virtual bool leads() const = 0;
  /// Leader: the zxid the next proposed txn gets.
  virtual int64_t next_zxid() const = 0;
  /// Leader: proposes a prepared txn (its zxid is next_zxid()); the driver hands it back
  /// through ServerCore::apply_committed once a quorum logged it.
  virtual void propose(tree::Txn txn) = 0;
  /// Learner: sends a client's write (a kRequest relay) to the leader.
  virtual void forward(zab::Relay request) = 0;
  /// Learner: asks the leader whether session `session_id` is live and `passwd` is its
  /// password (the leader touches it if so), for a client reattaching to a session this
  /// server has not applied. False when the leader cannot be reached now. Otherwise `done`
  /// gets the verdict and the leader's last applied zxid, or never runs if this server
  /// stops serving first (its client connections close then).
  virtual bool revalidate(int64_t session_id, std::string passwd,
                          std::function<void(bool valid, int64_t zxid)> done) = 0;
  /// Confirms this server's leader with a quorum, then calls `done` with a zxid: every txn
  /// committed before the sync was asked for is at or below it.
  virtual void sync(std::function<void(int64_t zxid)> done) = 0;
  /// "leader", "follower", "observer" or "looking" (for 4lw).
  virtual std::string mode() const = 0;
  /// Leader: followers synced and acknowledging (for mntr).
  virtual int synced_followers() const = 0;
  /// Leader: observers synced (ZooKeeper's synced_observers).
  virtual int synced_observers() const = 0;
  /// Leader: learners connected, synced or not (ZooKeeper's learners).
  virtual int learners() const = 0;
  /// The leader this server follows or is; -1 while there is none (ZooKeeper's leader_id).
  virtual int64_t leader_id() const = 0;
  /// Milliseconds this server has been serving in its current role; 0 when not serving
  /// (a leader's is ZooKeeper's leader_uptime).
  virtual int64_t serving_ms() const = 0;
  /// The current epoch (for 4lw).
  virtual int64_t epoch() const = 0;
  /// Leader: what prep needs to check a reconfig (zoo.cfg's switches, the active and
  /// last-seen configs, whether a config has a synced quorum). The default is an ensemble
  /// with reconfigEnabled off.
  virtual ReconfigView reconfig_view() const { return {}; }
};

}  // namespace corral::server
