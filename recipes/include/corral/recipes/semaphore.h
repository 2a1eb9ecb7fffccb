// A counting semaphore across processes (Curator's InterProcessSemaphoreV2 layout: an inner
// lock under PATH/locks and one ephemeral lease node `_c_<id>-lease-<seq>` per holder under
// PATH/leases). At most `max_leases` leases exist at once; acquirers are served in FIFO order
// (the inner lock lines them up, and only its holder waits for a lease to free up).
//
//   Semaphore pool(client, "/pools/db", 5);
//   auto lease = co_await pool.acquire(10s, asio::use_awaitable);   // Result<Grant>
//   ... co_await pool.release(*lease, asio::use_awaitable);
//
// Every lease carries a fencing token (its node's creation zxid). A lease whose session
// expires is gone: the hold-state listener says so. Keep the Client alive as long as this.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes {

namespace detail {
class SemaphoreCore;
}

/// A counting semaphore with leases.
class Semaphore {
 public:
  /// A semaphore on `path` allowing `max_leases` holders at once (every user of the path
  /// must agree on it); `id` goes in the lease nodes' data.
  Semaphore(client::Client& client, std::string path, int max_leases, std::string id = "");
  /// Cancels acquires in progress and returns every lease this object holds (no waiting).
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// Waits up to `timeout` (kWaitForever: no limit; 0: a try) for one lease. Errors as
  /// Mutex::acquire: ZOPERATIONTIMEOUT, ZCLOSING (cancelled), ZSESSIONEXPIRED, or the
  /// client's. Acquire again for more leases.
  template <typename Token>
  auto acquire(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<Grant>(executor(), token, [this, timeout](Done<Grant> done) {
      acquire_impl(timeout, std::move(done));
    });
  }
  /// Returns a lease from acquire. ZAPIERROR if this object does not hold it.
  template <typename Token>
  auto release(Grant lease, Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this, lease = std::move(lease)](Done<void> done) mutable {
                                    release_impl(std::move(lease), std::move(done));
                                  });
  }
  /// The lease nodes' names now, in order (every holder's, not only this object's).
  template <typename Token>
  auto leases(Token&& token) {
    return detail::initiate<std::vector<std::string>>(
        executor(), token,
        [this](Done<std::vector<std::string>> done) { leases_impl(std::move(done)); });
  }
  /// Fails every acquire in progress with ZCLOSING.
  void cancel();
  /// Told when the safety of the leases held changes (suspended, reconnected, lost).
  void on_hold_state(HoldListener listener);
  /// Leases this object holds now.
  int held() const;

 private:
  asio::any_io_executor executor() const;
  void acquire_impl(std::chrono::milliseconds timeout, Done<Grant> done);
  void release_impl(Grant lease, Done<void> done);
  void leases_impl(Done<std::vector<std::string>> done);

  std::shared_ptr<detail::SemaphoreCore> core_;
};

}  // namespace corral::recipes
