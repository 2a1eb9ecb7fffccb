// Fast leader election (ZooKeeper's FastLeaderElection) as a pure state
// machine: it takes notifications and times, and hands back notifications to
// send and, once made, its decision. No sockets, clocks or threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/zab/quorum_config.h"

namespace corral::zab {

/// A server's role.
enum class PeerState { kLooking, kFollowing, kLeading, kObserving };

/// What a server votes for: a leader and that leader's history (epoch, zxid).
struct Vote {
  int64_t leader = 0;
  int64_t zxid = 0;
  int64_t peer_epoch = 0;
  bool operator==(const Vote&) const = default;
};

/// An election message: the sender's vote, state and election round.
struct Notification {
  int64_t from = 0;
  PeerState state = PeerState::kLooking;
  Vote vote;
  /// The sender's logical clock (election round).
  int64_t election_epoch = 0;
  /// The sender abstains (see Peer::diverged): no one counts this notification, whatever
  /// its vote or state.
  bool abstaining = false;
  /// The version of the sender's committed (active) config; with reconfig off always 0.
  int64_t config_version = 0;
  /// That config's text (QuorumConfig::text), sent only with reconfig on: a looking server
  /// that holds an older one adopts it (FastLeaderElection's config in notifications).
  std::string config = {};
};

/// A member of the ensemble: voters (participants) decide, observers follow.
struct Member {
  int64_t id = 0;
  bool voter = true;
};

/// Timing of an election, in milliseconds.
struct ElectionTiming {
  /// After a quorum agrees, how long to wait for a better vote before deciding
  /// (skipped when every voter agrees).
  int64_t finalize_wait_ms = 50;
  /// First interval after which notifications are sent again if nothing arrives.
  int64_t min_resend_ms = 50;
  /// The resend interval doubles up to this.
  int64_t max_resend_ms = 2000;
};

/// The outcome of an election for this server.
struct Decision {
  PeerState state = PeerState::kLooking;
  Vote vote;
  int64_t election_epoch = 0;
};

/// One server's side of fast leader election.
class Election {
 public:
  Election(int64_t my_id, std::vector<Member> members, ElectionTiming timing = {});

  /// Replaces the config that says who votes and who is told (an activated reconfig).
  void set_config(std::shared_ptr<const QuorumConfig> config);
  /// The config this election counts votes by.
  const std::shared_ptr<const QuorumConfig>& config() const { return config_; }
  /// With reconfig on, notifications carry the config and a looking server adopts a newer
  /// one it is told about (see take_adopted).
  void set_gossip(bool on) { gossip_ = on; }
  /// The peer's last-seen (pending) config, or null: its members may tell of a newer config
  /// as well as the active config's (a guest's word must not change who votes).
  void set_pending(std::shared_ptr<const QuorumConfig> config) { pending_ = std::move(config); }
  /// A newer committed config learnt from a notification while looking, once; the round
  /// restarted with it. Null when none.
  std::shared_ptr<const QuorumConfig> take_adopted() { return std::move(adopted_); }
  /// Takes a decision made elsewhere (a reconfig's designated leader): no round is run, and
  /// looking servers are told it as if this server had decided it.
  void adopt(const Decision& d);
  /// Stamps `n` with this server's config (version, and text with gossip on).
  void stamp(Notification& n) const;

  /// Starts a new round: votes for itself with its history (last logged zxid
  /// and current epoch) and tells everyone. An `abstaining` server (see
  /// Peer::diverged) votes for no one, never leads, and only joins a leader that a
  /// quorum of the others already follow.
  void start(int64_t last_zxid, int64_t current_epoch, int64_t now_ms, bool abstaining = false);
  /// Handles a notification from another member.
  void receive(const Notification& n, int64_t now_ms);
  /// Advances time: decides after the finalize wait, resends when quiet.
  void tick(int64_t now_ms);
  /// Notifications to send, as (recipient id, message); empties the outbox.
  std::vector<std::pair<int64_t, Notification>> take_outbox();

  /// The decision, once made; the server then answers newcomers with it.
  const std::optional<Decision>& decision() const { return decision_; }
  /// Tells a decided server that its role ended (e.g. the leader lost its
  /// quorum): it will look again on the next start().
  void reset();

  /// The current logical clock (election round).
  int64_t election_epoch() const { return logical_clock_; }
  /// The current proposal.
  const Vote& proposal() const { return proposal_; }

 private:
  struct Received {
    Vote vote;
    int64_t election_epoch = 0;
    PeerState state = PeerState::kLooking;
  };

  bool is_voter(int64_t id) const;
  /// Adopts the config `n` carries if it is newer, and restarts the round under it.
  void maybe_adopt(const Notification& n, int64_t now_ms);
  /// Whether this server's vote counts: a voter that does not abstain.
  bool votes() const { return is_voter(my_id_) && !abstaining_; }
  bool has_quorum(const std::map<int64_t, Received>& votes, const Vote& v, int64_t election_epoch,
                  PeerState state) const;
  bool all_voters_agree() const;
  bool leader_confirmed(const std::map<int64_t, Received>& votes, int64_t leader,
                        int64_t election_epoch) const;
  void on_looking(const Notification& n, int64_t now_ms);
  void on_decided_peer(const Notification& n);
  void decide(const Vote& v, int64_t election_epoch);
  void update_proposal(const Vote& v);
  void broadcast();
  void send(int64_t to, PeerState state, const Vote& v);
  Notification current_message(PeerState state, const Vote& v) const;

  int64_t my_id_;
  std::shared_ptr<const QuorumConfig> config_;
  ElectionTiming timing_;
  bool gossip_ = false;
  std::shared_ptr<const QuorumConfig> adopted_;
  std::shared_ptr<const QuorumConfig> pending_;
  // What start() was given, to restart the round with an adopted config.
  int64_t last_zxid_ = 0;
  int64_t current_epoch_ = 0;
  Vote own_;  // what this server would vote for itself
  Vote proposal_;
  int64_t logical_clock_ = 0;
  bool looking_ = false;
  bool abstaining_ = false;
  std::map<int64_t, Received> recvset_;
  std::map<int64_t, Received> out_of_election_;
  std::optional<int64_t> finalize_at_ms_;
  int64_t resend_interval_ms_ = 0;
  int64_t last_activity_ms_ = 0;
  std::optional<Decision> decision_;
  std::vector<std::pair<int64_t, Notification>> outbox_;
};

/// ZooKeeper's total order on votes: higher epoch, then higher zxid, then higher id wins.
bool vote_beats(const Vote& a, const Vote& b);

}  // namespace corral::zab
