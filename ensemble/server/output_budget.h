// The server-wide budget of bytes queued for clients (corral.outputBudgetBytes): replies and
// watch events produced and not yet written. Per-connection limits alone let a crowd of
// clients that each read a large node at once hold clients x jute.maxbuffer; past the budget
// connections stop taking requests (they are not read, nothing is dropped) until bytes drain.
// Pure bookkeeping: no sockets, no clock; the network layer reports bytes and is told whom
// to wake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <unordered_map>
#include <utility>

namespace corral::server {

/// Counts bytes queued for every connection and decides who may take its next request.
///
/// Rules, and why:
/// - Queuing is never refused: a reply already produced must be delivered, and watch events
///   are produced by other sessions' writes, so they count but cannot be held back.
/// - At or under the budget every connection may take requests.
/// - Past it, one connection at a time with nothing queued of its own may still take one
///   (the overdraft): otherwise bytes pinned by clients that stopped reading could stop the
///   whole server, while letting every idle connection through would make the bound
///   clients x reply size again. The overdraft passes on when its holder's queue empties.
/// - Refused connections are woken as bytes drain, in the order of weighted fair queueing by
///   bytes: a virtual clock advances by each served frame's size divided by the connections
///   contending; a connection's tag is when its bytes so far finished on that clock, and a
///   waiter's key is when its next frame would finish (the size of its last one, from its tag
///   or the clock, whichever is later). A client of small replies goes before a crowd reading
///   large ones, and one served goes behind those served less, so none starves. Bytes taken
///   while nobody waited count for at most `max_lead_bytes` ahead of the clock.
class OutputBudget {
 public:
  /// Called with the id of a refused connection that may try again.
  using Wake = std::function<void(uint64_t id)>;

  /// A budget of `budget_bytes`; `wake` is called (synchronously, from written() and
  /// forget()) for each refused connection that may try again. `max_lead_bytes` bounds how
  /// far a connection's past bytes may put it behind others (the server uses one reply of
  /// jute.maxbuffer).
  OutputBudget(int64_t budget_bytes, size_t max_lead_bytes, Wake wake);

  /// `n` bytes were queued for connection `id`.
  void queued(uint64_t id, size_t n);
  /// `n` of connection `id`'s bytes were written; wakes waiting connections if there is room.
  void written(uint64_t id, size_t n);
  /// Connection `id` is gone: its bytes stop counting, it no longer waits or holds the
  /// overdraft.
  void forget(uint64_t id);
  /// Whether connection `id` may take its next request now. If not, it waits and is woken
  /// when it may try again.
  bool admits(uint64_t id);

  /// Bytes queued for all connections.
  size_t queued_total() const { return total_; }
  /// Bytes queued for connection `id`.
  size_t queued_for(uint64_t id) const;
  /// Connections refused and not yet woken.
  size_t waiting() const { return waiting_.size(); }
  /// True while connection `id` waits for room (admits refused it).
  bool is_waiting(uint64_t id) const { return waiting_.contains(id); }
  /// Refusals since the server started (the network layer logs their growth).
  uint64_t refusals() const { return refusals_; }
  /// The configured budget.
  int64_t budget_bytes() const { return budget_; }

 private:
  bool over() const { return static_cast<int64_t>(total_) > budget_; }
  /// Wakes waiters in order while under the budget, or the first one with nothing queued
  /// while over it and the overdraft is free.
  void wake_waiters();
  /// The next waiter to wake, no longer waiting; 0 when there is none.
  uint64_t next_waiter();

  int64_t budget_;
  size_t max_lead_;
  Wake wake_;
  size_t total_ = 0;
  /// Bytes per connection, for connections with any queued.
  std::unordered_map<uint64_t, size_t> own_;
  /// What fair queueing knows of a connection.
  struct Share {
    uint64_t tag = 0;  ///< When its bytes so far finished, on the virtual clock.
    size_t last = 0;   ///< The size of its last frame.
  };
  std::unordered_map<uint64_t, Share> shares_;
  uint64_t vtime_ = 0;
  /// Refused connections by (key, id): the order they are woken in.
  std::set<std::pair<uint64_t, uint64_t>> queue_;
  /// The key in queue_ of each waiting connection.
  std::unordered_map<uint64_t, uint64_t> waiting_;
  /// The connection holding the overdraft; 0 when none (connection ids start at 1).
  uint64_t overdraft_ = 0;
  uint64_t refusals_ = 0;
};

}  // namespace corral::server
