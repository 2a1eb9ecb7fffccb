#include "tests/sim/sim_network.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace corral::sim {

namespace {
constexpr size_t kMaxInFlight = 100'000;
}  // namespace

zab::Vote history_vote(const SimServer& s) { return {s.id, s.last_zxid, s.current_epoch}; }

const char* state_name(zab::PeerState s) {
  switch (s) {
    case zab::PeerState::kLooking:
      return "LOOKING";
    case zab::PeerState::kFollowing:
      return "FOLLOWING";
    case zab::PeerState::kLeading:
      return "LEADING";
    case zab::PeerState::kObserving:
      return "OBSERVING";
  }
  return "?";
}

std::string vote_text(const zab::Vote& v) {
  if (v.leader == std::numeric_limits<int64_t>::min()) return "(none)";
  std::ostringstream out;
  out << "(leader " << v.leader << " epoch " << v.peer_epoch << " zxid 0x" << std::hex << v.zxid
      << ")";
  return out.str();
}

SimNetwork::SimNetwork(uint64_t seed, std::vector<SimServer> servers, NetworkFaults faults,
                       zab::ElectionTiming timing)
    : seed_(seed), rng_(seed), servers_(std::move(servers)), faults_(faults), timing_(timing) {
  // CORRAL_SIM_TRACE=1 prints every message and decision, to study one seed.
  const char* t = std::getenv("CORRAL_SIM_TRACE");
  trace_ = t != nullptr && *t != '\0' && *t != '0';
  for (const auto& s : servers_) members_.push_back({s.id, s.voter});
}

const SimServer& SimNetwork::server(int64_t id) const {
  for (const auto& s : servers_)
    if (s.id == id) return s;
  assert(false && "unknown server id");
  return servers_.front();
}

bool SimNetwork::up(int64_t id) const {
  auto it = nodes_.find(id);
  return it != nodes_.end() && it->second.election != nullptr;
}

std::optional<zab::Decision> SimNetwork::decision(int64_t id) const {
  if (!up(id)) return std::nullopt;
  return nodes_.at(id).election->decision();
}

bool SimNetwork::all_up_decided() const {
  for (const auto& s : servers_)
    if (up(s.id) && !decision(s.id)) return false;
  return true;
}

void SimNetwork::start(int64_t id) {
  boot(id);
  begin(id);
}

void SimNetwork::start_all() {
  // Every server is listening before any speaks, so none misses the first votes.
  std::vector<int64_t> started;
  for (const auto& s : servers_) {
    if (up(s.id)) continue;
    boot(s.id);
    started.push_back(s.id);
  }
  for (int64_t id : started) begin(id);
}

void SimNetwork::boot(int64_t id) {
  Node& node = nodes_[id];
  assert(node.election == nullptr && "start a server that is down");
  node.election = std::make_unique<zab::Election>(id, members_, timing_);
  ++node.incarnation;
  node.decided = false;
  node.seen.clear();
}

void SimNetwork::begin(int64_t id) {
  const SimServer& s = server(id);
  trace("start " + std::to_string(id));
  nodes_.at(id).election->start(s.last_zxid, s.current_epoch, now_ms_);
  flush(id);
  note_decision(id);
}

void SimNetwork::crash(int64_t id) {
  Node& node = nodes_[id];
  node.election.reset();
  node.seen.clear();
  trace("crash " + std::to_string(id));
}

void SimNetwork::reelect(int64_t id) {
  assert(up(id));
  Node& node = nodes_[id];
  const SimServer& s = server(id);
  trace("reelect " + std::to_string(id));
  node.election->reset();
  node.decided = false;
  node.election->start(s.last_zxid, s.current_epoch, now_ms_);
  flush(id);
  note_decision(id);
}

void SimNetwork::partition(const std::vector<std::vector<int64_t>>& groups) {
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g)
    for (int64_t id : groups[g]) group_[id] = static_cast<int>(g);
  // Unlisted servers get a group of their own each.
  int next = static_cast<int>(groups.size());
  for (const auto& s : servers_)
    if (!group_.count(s.id)) group_[s.id] = next++;
  trace("partition");
}

void SimNetwork::heal() {
  group_.clear();
  trace("heal");
}

bool SimNetwork::connected(int64_t a, int64_t b) const {
  return group_.empty() || group_.at(a) == group_.at(b);
}

bool SimNetwork::run_until(const std::function<bool()>& pred, int64_t max_ms) {
  const int64_t deadline = now_ms_ + max_ms;
  while (!pred()) {
    if (now_ms_ >= deadline) return false;
    step();
  }
  return true;
}

void SimNetwork::run_for(int64_t ms) {
  const int64_t deadline = now_ms_ + ms;
  while (now_ms_ < deadline) step();
}

void SimNetwork::step() {
  // Servers answering each other without end would make the run hang (and
  // grow without bound with duplicates): stop with the seed instead.
  if (in_flight_.size() > kMaxInFlight) {
    std::fprintf(stderr, "message storm: %zu messages in flight at %lld ms\n%s", in_flight_.size(),
                 static_cast<long long>(now_ms_), describe().c_str());
    std::abort();
  }
  ++now_ms_;
  // Deliveries first, in (time, send order); delays are at least 1 ms, so what
  // they send lands in a later step.
  while (!in_flight_.empty() && in_flight_.top().deliver_at_ms <= now_ms_) {
    InFlight m = in_flight_.top();
    in_flight_.pop();
    deliver(m);
  }
  for (auto& [id, node] : nodes_) {
    if (!node.election) continue;
    node.election->tick(now_ms_);
    flush(id);
    note_decision(id);
    if (role_timeout_ms_ > 0) supervise(id);
  }
}

void SimNetwork::supervise(int64_t id) {
  Node& node = nodes_.at(id);
  if (!node.election->decision() || role_confirmed(id)) {
    node.unconfirmed_since_ms.reset();
    return;
  }
  if (!node.unconfirmed_since_ms) node.unconfirmed_since_ms = now_ms_;
  if (now_ms_ - *node.unconfirmed_since_ms < role_timeout_ms_) return;
  node.unconfirmed_since_ms.reset();
  reelect(id);
}

bool SimNetwork::role_confirmed(int64_t id) const {
  const std::optional<zab::Decision> d = decision(id);
  if (!d) return false;
  if (d->state != zab::PeerState::kLeading) {
    const int64_t leader = d->vote.leader;
    const std::optional<zab::Decision> ld = decision(leader);
    return connected(id, leader) && ld && ld->state == zab::PeerState::kLeading &&
           ld->vote == d->vote;
  }
  size_t voters = 0, following = 0;
  for (const auto& s : servers_) {
    if (!s.voter) continue;
    ++voters;
    const std::optional<zab::Decision> fd = decision(s.id);
    if (fd && connected(id, s.id) && fd->vote == d->vote) ++following;
  }
  return following * 2 > voters;
}

void SimNetwork::deliver(const InFlight& m) {
  const zab::Notification& n = m.notification;
  auto it = nodes_.find(m.to);
  // A crash breaks the connection: what was sent to an earlier incarnation is lost.
  if (it == nodes_.end() || !it->second.election || it->second.incarnation != m.to_incarnation)
    return;
  if (!connected(n.from, m.to)) return;
  Node& node = it->second;
  if (trace_)
    trace(std::to_string(n.from) + " -> " + std::to_string(m.to) + " " + state_name(n.state) + " " +
          vote_text(n.vote) + " round " + std::to_string(n.election_epoch));
  node.seen[{n.from, n.election_epoch}] = n;
  node.election->receive(n, now_ms_);
  flush(m.to);
  note_decision(m.to);
}

void SimNetwork::flush(int64_t id) {
  for (auto& [to, n] : nodes_.at(id).election->take_outbox()) {
    ++messages_sent_;
    if (on_send_) on_send_(SentMessage{now_ms_, to, n});
    if (!connected(id, to) || random_unit() < faults_.drop_probability) {
      if (trace_) trace("lost " + std::to_string(id) + " -> " + std::to_string(to));
      continue;
    }
    enqueue(id, to, n);
    if (random_unit() < faults_.duplicate_probability) enqueue(id, to, n);
  }
}

void SimNetwork::enqueue(int64_t from, int64_t to, const zab::Notification& n) {
  auto it = nodes_.find(to);
  if (it == nodes_.end() || !it->second.election) return;  // nobody listening
  const uint64_t span = static_cast<uint64_t>(faults_.max_delay_ms - faults_.min_delay_ms + 1);
  const int64_t delay = faults_.min_delay_ms + static_cast<int64_t>(random_below(span));
  in_flight_.push(
      InFlight{now_ms_ + std::max<int64_t>(delay, 1), next_seq_++, to, it->second.incarnation, n});
}

void SimNetwork::note_decision(int64_t id) {
  Node& node = nodes_.at(id);
  const auto& d = node.election->decision();
  if (!d) {
    node.decided = false;
    return;
  }
  if (node.decided) return;
  node.decided = true;
  DecisionEvent e{id, node.incarnation, now_ms_, *d, {}};
  if (server(id).voter) e.supporters.insert(id);
  for (const auto& [key, n] : node.seen)
    if (key.second == d->election_epoch && n.vote == d->vote && server(key.first).voter)
      e.supporters.insert(key.first);
  decisions_.push_back(e);
  trace("decide " + std::to_string(id) + " " + state_name(d->state) + " " + vote_text(d->vote) +
        " round " + std::to_string(d->election_epoch));
}

std::string SimNetwork::describe() const {
  std::ostringstream out;
  out << "at " << now_ms_ << " ms, seed=" << seed_ << ":\n";
  for (const auto& s : servers_) {
    out << "  server " << s.id << (s.voter ? " voter" : " observer") << " history "
        << vote_text(history_vote(s)) << ": ";
    if (!up(s.id)) {
      out << "down\n";
      continue;
    }
    const zab::Election& e = *nodes_.at(s.id).election;
    if (e.decision())
      out << state_name(e.decision()->state) << " " << vote_text(e.decision()->vote) << " round "
          << e.decision()->election_epoch << "\n";
    else
      out << "LOOKING proposal " << vote_text(e.proposal()) << " round " << e.election_epoch()
          << "\n";
  }
  return out.str();
}

void SimNetwork::trace(const std::string& line) const {
  if (trace_)
    std::fprintf(stderr, "[%6lld ms] %s\n", static_cast<long long>(now_ms_), line.c_str());
}

uint64_t SimNetwork::random_below(uint64_t n) { return n <= 1 ? 0 : rng_() % n; }

double SimNetwork::random_unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

}  // namespace corral::sim
