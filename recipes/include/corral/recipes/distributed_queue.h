// Queues shared by every process that names the same path: a FIFO queue and a priority
// queue. Each item is a persistent sequential node under PATH holding the item's data:
// PATH/<prefix>qn-<seq> for the FIFO queue, PATH/<prefix>qn-<priority><seq> for the
// priority queue, where <priority> is Curator's DistributedPriorityQueue encoding ('1' and
// 8 hex digits for priorities >= 0, '0' and the 32-bit two's complement for negative ones),
// so ordering by name gives (priority, seq). <prefix> is the protected-create prefix
// `_c_<16 hex>-` (a put whose reply was lost is found, not put twice); it is ignored when
// ordering.
//
//   DistributedQueue jobs(client, "/queues/jobs");
//   co_await jobs.put("resize 42.jpg", asio::use_awaitable);
//   auto job = co_await jobs.take(10s, asio::use_awaitable);   // Result<std::string>
//
// A take removes the head with a delete at the version it read, in one multi with an
// ephemeral claim node PATH/claim-<item>: two takers never get one item, and a taker whose
// connection dropped during the take learns from its claim whether the take happened.
// An item is lost only if the taker's session expires between the take and its answer.
// Use one kind of queue per path. Keep the Client alive as long as the queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes {

namespace detail {
class QueueCore;
}

/// A FIFO queue on `path`.
class DistributedQueue {
 public:
  /// A queue on `path` (created, with its parents, as containers on the first put).
  DistributedQueue(client::Client& client, std::string path);
  /// Fails takes in progress with ZCLOSING.
  ~DistributedQueue();
  DistributedQueue(const DistributedQueue&) = delete;
  DistributedQueue& operator=(const DistributedQueue&) = delete;

  /// Appends an item; the full path of its node.
  template <typename Token>
  auto put(std::string data, Token&& token) {
    return detail::initiate<std::string>(
        executor(), token, [this, data = std::move(data)](Done<std::string> done) mutable {
          put_impl(std::move(data), std::move(done));
        });
  }
  /// Removes the head and returns its data, waiting up to `timeout` (kWaitForever: no
  /// limit; 0: only if an item is there now) for one. Fails with ZOPERATIONTIMEOUT,
  /// ZCLOSING when cancelled, ZSESSIONEXPIRED, or the client's error.
  template <typename Token>
  auto take(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<std::string>(
        executor(), token,
        [this, timeout](Done<std::string> done) { take_impl(timeout, std::move(done)); });
  }
  /// Fails every take in progress with ZCLOSING.
  void cancel();
  /// The queue's path.
  const std::string& path() const;

 protected:
  asio::any_io_executor executor() const;
  void put_impl(std::string data, Done<std::string> done, std::string stem = "qn-");
  void take_impl(std::chrono::milliseconds timeout, Done<std::string> done);

  std::shared_ptr<detail::QueueCore> core_;
};

/// A queue on `path` whose items come out lowest priority first, FIFO within a priority.
class PriorityQueue : private DistributedQueue {
 public:
  /// A priority queue on `path` (created, with its parents, as containers on the first put).
  PriorityQueue(client::Client& client, std::string path);

  /// Adds an item with `priority` (lower comes out first); the full path of its node.
  template <typename Token>
  auto put(std::string data, int32_t priority, Token&& token) {
    return detail::initiate<std::string>(
        executor(), token,
        [this, data = std::move(data), priority](Done<std::string> done) mutable {
          put_impl(std::move(data), std::move(done), priority_stem(priority));
        });
  }
  using DistributedQueue::cancel;
  using DistributedQueue::path;
  using DistributedQueue::take;

  /// The node name before the sequence number for `priority` (Curator's encoding).
  static std::string priority_stem(int32_t priority);
};

}  // namespace corral::recipes
