// ZabCluster's network: learner-leader connections (FIFO, one per (learner,
// leader) pair, broken by resets, partitions and crashes, their closes
// noticed behind the data sent before them), election notifications as
// datagrams, and partitions.
#include <algorithm>
#include <string>

#include "tests/sim/zab_cluster.h"

namespace corral::sim {
namespace {

using zab::Message;
using zab::MessageType;
using zab::PeerState;

}  // namespace

ZabCluster::Link ZabCluster::link_of(const Message& m) const {
  bool from_learner = false;
  switch (m.type) {
    case MessageType::kFollowerInfo:
    case MessageType::kAckEpoch:
    case MessageType::kAckNewLeader:
    case MessageType::kAck:
      from_learner = true;
      break;
    case MessageType::kPing: {
      const zab::Peer* p = nodes_.at(m.from).peer.get();
      from_learner = p && p->state() != PeerState::kLeading;
      break;
    }
    default:
      break;
  }
  return from_learner ? Link{m.from, m.to} : Link{m.to, m.from};
}

bool ZabCluster::concerns(int64_t id, const Link& link) const {
  const zab::Peer& p = *nodes_.at(id).peer;
  // Old connections of a role it left (a leader that handed off to its
  // follower, say) close without touching the new ones with the same peer.
  if (id == link.first) return p.state() != PeerState::kLeading;
  return p.state() != PeerState::kFollowing && p.state() != PeerState::kObserving;
}

int64_t ZabCluster::delay() {
  const ZabFaults& f = options_.faults;
  const uint64_t span =
      static_cast<uint64_t>(std::max<int64_t>(f.max_delay_ms - f.min_delay_ms + 1, 1));
  return std::max<int64_t>(f.min_delay_ms + static_cast<int64_t>(random_below(span)), 1);
}

void ZabCluster::close_connection(int64_t learner, int64_t leader, bool reset, bool notify_learner,
                                  bool notify_leader) {
  const Link link{learner, leader};
  Connection& c = connection(link);
  if (!c.open) return;
  c.open = false;
  if (reset) {
    ++c.gen;
    c.last_delivery_ms.clear();
  }
  auto notice = [&](int64_t to, int64_t about) {
    if (!up(to)) return;
    Event e;
    // A close travels behind the data sent before it.
    e.at_ms = std::max(now_ms_ + delay(), c.last_delivery_ms[about]);
    e.kind = EventKind::kDisconnect;
    e.to = to;
    e.incarnation = nodes_.at(to).incarnation;
    e.about = about;
    e.conn_gen = c.gen;
    e.link = link;
    push(e);
  };
  if (notify_learner) notice(learner, leader);
  if (notify_leader) notice(leader, learner);
}

void ZabCluster::start_busy(int64_t id) {
  Node& n = nodes_.at(id);
  n.busy = true;
  trace("peer " + std::to_string(id) + " installs a snapshot for " +
        std::to_string(options_.snapshot_install_ms) + " ms");
  Event e;
  e.at_ms = now_ms_ + options_.snapshot_install_ms;
  e.kind = EventKind::kWake;
  e.to = id;
  e.incarnation = n.incarnation;
  push(e);
}

void ZabCluster::wake(int64_t id, int incarnation) {
  Node& n = nodes_.at(id);
  if (!n.peer || n.incarnation != incarnation || !n.busy) return;
  n.busy = false;
  std::vector<Message> sends = std::move(n.deferred_sends);
  n.deferred_sends.clear();
  for (const auto& m : sends) {
    send_message(m);
    if (!n.peer) return;  // a hook crashed it
  }
  std::vector<Event> events = std::move(deferred_events_[id]);
  deferred_events_.erase(id);
  // handle() defers again what comes while a later install keeps it busy.
  for (const auto& e : events) handle(e);
}

void ZabCluster::send_message(const Message& m) {
  if (send_hook_ && !send_hook_(m)) {
    trace("hook drops " + std::string(message_type_name(m.type)) + " " + std::to_string(m.from) +
          " -> " + std::to_string(m.to));
    return;
  }
  if (nodes_.find(m.to) == nodes_.end() || m.to == m.from) {
    violation("peer " + std::to_string(m.from) + " sends to unknown peer " + std::to_string(m.to));
    return;
  }
  const Link link = link_of(m);
  Connection& c = connection(link);
  if (m.type == MessageType::kFollowerInfo) {
    // A learner connects (again): a fresh stream; the old one is gone.
    ++c.gen;
    c.open = false;
    c.last_delivery_ms.clear();
    c.accepted = false;
    if (!reachable(m.from, m.to)) return;  // the connect times out: the limits find it
    if (!up(m.to)) {
      // Nobody listens: the connect is refused at once.
      c.open = true;
      close_connection(m.from, m.to, true, true, false);
      return;
    }
    c.open = true;
  } else if (!c.open || (m.from != link.first && !c.accepted)) {
    return;
  }
  const ZabFaults& f = options_.faults;
  if (f.connection_reset > 0 && random_unit() < f.connection_reset) {
    const bool silent = random_unit() < f.silent_reset_share;
    trace(std::string(silent ? "silent " : "") + "reset " + std::to_string(m.from) + " <-> " +
          std::to_string(m.to) + " at " + message_type_name(m.type));
    close_connection(link.first, link.second, true, !silent, !silent);
    return;
  }
  Event e;
  int64_t& last = c.last_delivery_ms[m.from];
  e.at_ms = std::max(now_ms_ + delay(), last);
  last = e.at_ms;
  e.kind = EventKind::kMessage;
  e.to = m.to;
  e.incarnation = nodes_.at(m.to).incarnation;
  e.conn_gen = c.gen;
  e.link = link;
  e.message = std::make_shared<Message>(m);
  push(e);
}

void ZabCluster::send_notification(int64_t from, int64_t to, const zab::Notification& n) {
  if (n.from != from)
    violation("peer " + std::to_string(from) + " sends a notification as " +
              std::to_string(n.from));
  check_notification(from, n);
  if (!up(to) || !reachable(from, to)) return;
  const ZabFaults& f = options_.faults;
  if (f.notification_drop > 0 && random_unit() < f.notification_drop) return;
  const int copies =
      f.notification_duplicate > 0 && random_unit() < f.notification_duplicate ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Event e;
    e.at_ms = now_ms_ + delay();
    e.kind = EventKind::kNotification;
    e.to = to;
    e.incarnation = nodes_.at(to).incarnation;
    e.notification = std::make_shared<zab::Notification>(n);
    push(e);
  }
}

void ZabCluster::push(Event e) {
  e.seq = next_seq_++;
  events_.push(std::move(e));
}

void ZabCluster::deliver_message(const Event& e) {
  const Message& m = *e.message;
  if (connection(e.link).gen != e.conn_gen) return;  // the connection broke
  if (deliver_hook_ && !deliver_hook_(m)) return;
  Node& n = nodes_.at(e.to);
  if (!n.peer) return;  // the hook crashed it
  if (trace_all_ || m.type != MessageType::kPing) {
    std::string text = std::string(message_type_name(m.type)) + " " + std::to_string(m.from) +
                       " -> " + std::to_string(m.to);
    if (m.epoch) text += " epoch " + std::to_string(m.epoch);
    if (m.zxid) text += " zxid " + zxid_text(m.zxid);
    if (m.type == MessageType::kSync)
      text += std::string(" ") + sync_mode_name(m.sync_mode) + " trunc " + zxid_text(m.trunc_zxid) +
              " committed " + zxid_text(m.committed_zxid) + " " + std::to_string(m.txns.size()) +
              " txns" + (m.snapshot ? " snapshot " + zxid_text(m.snapshot->zxid) : "");
    if (!m.txns.empty() && m.type != MessageType::kSync) text += " " + zxid_text(m.txns[0]->zxid);
    trace(text);
  }
  if (m.type == MessageType::kFollowerInfo) connection(e.link).accepted = true;
  if (m.type == MessageType::kSync)
    syncs_.push_back({now_ms_, m.from, m.to, m.sync_mode, m.trunc_zxid, m.txns.size()});
  n.peer->step(m, now_ms_);
  process(e.to);
}

// ---------------------------------------------------------------- partitions

void ZabCluster::partition(const std::vector<std::vector<int64_t>>& groups) {
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g)
    for (int64_t id : groups[g]) group_[id] = static_cast<int>(g);
  int next = static_cast<int>(groups.size());
  for (int64_t id : ids())
    if (!group_.count(id)) group_[id] = next++;
  std::string text = "partition";
  for (const auto& g : groups) {
    text += " {";
    for (int64_t id : g) text += " " + std::to_string(id);
    text += " }";
  }
  trace(text);
  // Connections across the cut break without anyone noticing; what they
  // carried is lost.
  for (auto& [key, c] : connections_) {
    if (reachable(key.first, key.second)) continue;
    c.open = false;
    ++c.gen;
    c.last_delivery_ms.clear();
  }
}

void ZabCluster::heal() {
  group_.clear();
  trace("heal");
}

bool ZabCluster::reachable(int64_t a, int64_t b) const {
  return group_.empty() || group_.at(a) == group_.at(b);
}

}  // namespace corral::sim
