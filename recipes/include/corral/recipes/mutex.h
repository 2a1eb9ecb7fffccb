// An exclusive lock shared by every process that names the same path (Curator's
// InterProcessMutex; the node layout is Curator's, so a Java service using Curator and a C++
// service using Corral share one lock; kazoo's Lock nodes under the same path are honoured).
//
//   Mutex lock(client, "/locks/orders");
//   auto g = co_await lock.acquire(5s, asio::use_awaitable);   // Result<Grant>
//   if (g) { write_guarded_by(g->fencing_token); co_await lock.release(asio::use_awaitable); }
//
// Holders queue in FIFO order, each watching only the node before its own (no herd effect).
// One Mutex object is one holder: acquiring it again while held counts (reentrant), and the
// lock is free once every acquire was released. Two Mutex objects exclude each other, in one
// process or in many. Keep the Client alive as long as the Mutex.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes {

namespace detail {
class LockCore;
}
class ReadWriteLock;

/// An exclusive, reentrant, fair lock on `path` with fencing tokens.
class Mutex {
 public:
  /// A lock on `path` (created with its parents as containers when missing). `id` goes in
  /// the lock node's data (who holds it, for operators and for participants()).
  Mutex(client::Client& client, std::string path, std::string id = "");
  /// Cancels acquires in progress and releases the lock if held (without waiting).
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  /// Waits up to `timeout` (kWaitForever: no limit) for the lock. Fails with
  /// ZOPERATIONTIMEOUT when the time ran out, ZCLOSING when cancelled, ZSESSIONEXPIRED when
  /// the session was lost, or the client's error. A timeout of 0 is a try.
  template <typename Token>
  auto acquire(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<Grant>(executor(), token, [this, timeout](Done<Grant> done) {
      acquire_impl(timeout, std::move(done));
    });
  }
  /// Takes the lock only if it is free now (ZOPERATIONTIMEOUT otherwise).
  template <typename Token>
  auto try_acquire(Token&& token) {
    return acquire(std::chrono::milliseconds(0), std::forward<Token>(token));
  }
  /// Gives one acquire back; the lock is free after the last. ZAPIERROR when not held.
  template <typename Token>
  auto release(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { release_impl(std::move(done)); });
  }
  /// The lock nodes' names in queue order, the holder first.
  template <typename Token>
  auto participants(Token&& token) {
    return detail::initiate<std::vector<std::string>>(
        executor(), token,
        [this](Done<std::vector<std::string>> done) { participants_impl(std::move(done)); });
  }
  /// Fails every acquire in progress with ZCLOSING (a hold already granted stays).
  void cancel();
  /// Called when the safety of a held lock changes: suspended (stop writing), reconnected,
  /// lost. Set it before acquiring.
  void on_hold_state(HoldListener listener);

  /// True while this holder has the lock.
  bool held() const;
  /// The current grant (empty node and token 0 when not held).
  Grant grant() const;
  /// The lock's path.
  const std::string& path() const { return path_; }

 private:
  friend class ReadWriteLock;
  /// A lock whose queue is kept by `core` (ReadWriteLock's read and write sides).
  Mutex(std::string path, std::shared_ptr<detail::LockCore> core);

  asio::any_io_executor executor() const;
  void acquire_impl(std::chrono::milliseconds timeout, Done<Grant> done);
  void release_impl(Done<void> done);
  void participants_impl(Done<std::vector<std::string>> done);

  std::string path_;
  std::shared_ptr<detail::LockCore> core_;
};

}  // namespace corral::recipes
