// The queue every lock-like recipe stands in (internal): a contender creates an ephemeral
// sequential node (protected: a create whose reply was lost is found, not duplicated) under
// the lock's directory and waits, watching only the node that blocks it (no herd effect),
// until its rule says it may go on. Mutex, ReadWriteLock, the semaphore's inner lock and
// LeaderLatch differ only in their node names and rules.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coro.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes::detail {

/// Which children are contenders, and which of them blocks a contender.
struct QueueRule {
  /// Substrings that mark a child as a contender (e.g. "-lock-", "__lock__").
  std::vector<std::string> markers;
  /// Given the contenders in order and the index of ours: the name of the one we wait for,
  /// or "" when we may go on.
  std::function<std::string(const std::vector<std::string>&, size_t)> blocker;
};

/// The rule of an exclusive lock: only the first contender goes on; each waits for the one
/// just before it.
std::string first_in_line(const std::vector<std::string>& order, size_t mine);

/// One holder's place in one lock queue. Reentrant: acquiring again while held counts.
/// Every method is thread-safe; the work runs on a strand of the client's executor.
class LockCore : public std::enable_shared_from_this<LockCore> {
 public:
  /// `stem` is the node name before the sequence number (e.g. "lock-"); `data` goes in the
  /// node (a participant id).
  LockCore(Client& client, std::string dir, std::string stem, std::string data, QueueRule rule);
  /// The same, running on `strand` (a recipe that awaits acquire_on_strand from its own
  /// coroutines shares its strand with the lock).
  LockCore(Client& client, Strand strand, std::string dir, std::string stem, std::string data,
           QueueRule rule);

  /// Registers with the client's state changes; call once, after construction.
  void start();
  /// Waits up to `timeout` (kWaitForever: no limit) to hold the lock. ZOPERATIONTIMEOUT when
  /// the time ran out (its node removed), ZCLOSING when cancelled or closed.
  void acquire(std::chrono::milliseconds timeout, Done<Grant> done);
  /// Gives one hold back; the node goes with the last. ZAPIERROR when not held.
  void release(Done<void> done);
  /// Fails every acquire in progress with ZCLOSING.
  void cancel();
  /// cancel(), then removes the node if any (best effort): the lock is free for others.
  void close(Done<void> done);
  /// The contenders' names in order.
  void contenders(Done<std::vector<std::string>> done);

  bool held() const { return holds_.load() > 0; }
  Grant grant() const;
  void set_listener(HoldListener listener);
  const std::string& dir() const { return dir_; }
  Strand strand() const { return strand_; }
  Client& client() { return client_; }

  /// The coroutine behind acquire (on the strand), for recipes built on this one.
  awaitable<Result<Grant>> acquire_on_strand(std::chrono::milliseconds timeout);
  /// The coroutine behind release (on the strand).
  awaitable<Result<void>> release_on_strand();
  /// The coroutine behind close (on the strand).
  awaitable<Result<void>> close_on_strand();

 private:
  awaitable<Result<Grant>> contend(Clock::time_point deadline, uint64_t cancel_epoch);
  awaitable<ErrorCode> remove_node();
  void on_state(client::ConnectionState state);
  bool cancelled(uint64_t epoch) const { return cancel_epoch_ != epoch || closed_; }

  Client& client_;
  Strand strand_;
  std::string dir_, stem_, data_;
  QueueRule rule_;
  client::StateSubscription subscription_;

  // On the strand.
  std::string node_;
  bool busy_ = false;  // one contend at a time; other acquires wait for it
  bool lost_ = false;
  bool closed_ = false;
  uint64_t cancel_epoch_ = 0;
  std::shared_ptr<Signal> wake_;  // wakes whatever waits: turn, predecessor, cancel
  HoldListener listener_;

  std::atomic<int> holds_{0};
  mutable std::mutex grant_mu_;
  Grant grant_;
};

}  // namespace corral::recipes::detail
