// A double barrier (Curator's DistributedDoubleBarrier layout, shared with Java services that
// use Curator): N members enter, and all go on together once the N-th has entered; at the
// end they leave, and each goes on once every member has left.
//
//   DoubleBarrier round(client, "/barriers/round-7", 5);
//   if (co_await round.enter(30s, asio::use_awaitable)) {   // all 5 are in
//     compute();
//     co_await round.leave(30s, asio::use_awaitable);        // all 5 are done
//   }
//
// Nodes: PATH/<id> (ephemeral, one per member) and PATH/ready (persistent, created by the
// member that completes the count, removed by the last to leave). PATH is a container.
// One DoubleBarrier object is one member. Keep the Client alive as long as the object.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes {

namespace detail {
class DoubleBarrierCore;
}

/// One member of a double barrier of `member_count` members on `path`.
class DoubleBarrier {
 public:
  /// A member named `id` (a random name when empty; ids must differ between members).
  DoubleBarrier(client::Client& client, std::string path, int member_count, std::string id = "");
  /// Fails enter/leave in progress with ZCLOSING and removes this member's node if any
  /// (without waiting).
  ~DoubleBarrier();
  DoubleBarrier(const DoubleBarrier&) = delete;
  DoubleBarrier& operator=(const DoubleBarrier&) = delete;

  /// Enters and waits up to `timeout` (kWaitForever: no limit) until `member_count` members
  /// have entered. Fails with ZOPERATIONTIMEOUT (this member's node removed again), ZCLOSING
  /// when cancelled, ZSESSIONEXPIRED, or the client's error.
  template <typename Token>
  auto enter(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<void>(executor(), token, [this, timeout](Done<void> done) {
      enter_impl(timeout, std::move(done));
    });
  }
  /// Leaves and waits up to `timeout` until every member has left. Fails with
  /// ZOPERATIONTIMEOUT (call leave again to go on waiting), ZCLOSING, ZSESSIONEXPIRED, or
  /// the client's error.
  template <typename Token>
  auto leave(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<void>(executor(), token, [this, timeout](Done<void> done) {
      leave_impl(timeout, std::move(done));
    });
  }
  /// Fails every enter and leave in progress with ZCLOSING.
  void cancel();
  /// This member's name (the node PATH/<id>).
  const std::string& id() const { return id_; }
  /// The barrier's path.
  const std::string& path() const { return path_; }

 private:
  asio::any_io_executor executor() const;
  void enter_impl(std::chrono::milliseconds timeout, Done<void> done);
  void leave_impl(std::chrono::milliseconds timeout, Done<void> done);

  std::string path_, id_;
  std::shared_ptr<detail::DoubleBarrierCore> core_;
};

}  // namespace corral::recipes
