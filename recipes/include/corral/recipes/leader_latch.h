// Leader election, latch style (Curator's LeaderLatch layout: `_c_<id>-latch-<seq>` nodes,
// ephemeral and sequential, the participant's id as data). The contender with the lowest
// sequence number leads; each of the others watches only the one just before it, so a
// leader's departure wakes exactly one successor (no herd effect).
//
//   LeaderLatch latch(client, "/election/scheduler", "host-a");
//   latch.on_leadership([](bool leading) { ... });
//   latch.start();
//   co_await latch.await_leadership(kWaitForever, asio::use_awaitable);
//
// A leader is told it lost leadership as soon as its connection is suspended (before its
// session can expire and anyone else can be elected), and again when the session is lost.
// If the same session comes back, its node is still first and it leads again.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/lock_types.h"

namespace corral::recipes {

namespace detail {
class LatchCore;
}

/// A contender as seen by everyone.
struct Participant {
  /// The id it gave (its node's data).
  std::string id;
  /// Its node's name.
  std::string node;
  /// True for the first in line: the leader.
  bool is_leader = false;
};

/// One contender in a leader election.
class LeaderLatch {
 public:
  /// A contender for leadership of `path` under `id` (shown to the others).
  LeaderLatch(client::Client& client, std::string path, std::string id);
  /// Leaves the election (without waiting).
  ~LeaderLatch();
  LeaderLatch(const LeaderLatch&) = delete;
  LeaderLatch& operator=(const LeaderLatch&) = delete;

  /// Called with true when this contender becomes leader, false when it stops (suspended,
  /// lost, closed). Set before start(); runs on the client's executor.
  void on_leadership(std::function<void(bool)> listener);
  /// Joins the election.
  void start();
  /// True while this contender leads (and its connection is up).
  bool is_leader() const;
  /// Waits up to `timeout` (kWaitForever: no limit) until this contender leads.
  /// ZOPERATIONTIMEOUT on timeout; ZCLOSING once closed; ZSESSIONEXPIRED once lost.
  template <typename Token>
  auto await_leadership(std::chrono::milliseconds timeout, Token&& token) {
    return detail::initiate<void>(executor(), token, [this, timeout](Done<void> done) {
      await_impl(timeout, std::move(done));
    });
  }
  /// The current leader (ZNONODE when there is no contender).
  template <typename Token>
  auto leader(Token&& token) {
    return detail::initiate<Participant>(
        executor(), token, [this](Done<Participant> done) { leader_impl(std::move(done)); });
  }
  /// Every contender in line, the leader first.
  template <typename Token>
  auto participants(Token&& token) {
    return detail::initiate<std::vector<Participant>>(
        executor(), token,
        [this](Done<std::vector<Participant>> done) { participants_impl(std::move(done)); });
  }
  /// Resigns: removes this contender's node (the next in line leads) and leaves.
  template <typename Token>
  auto close(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { close_impl(std::move(done)); });
  }
  /// The id this contender gave.
  const std::string& id() const { return id_; }

  /// The contenders of the election at `path`, the leader first, without joining it.
  template <typename Token>
  static auto list(client::Client& client, std::string path, Token&& token) {
    return detail::initiate<std::vector<Participant>>(
        client.executor(), token,
        [&client, path = std::move(path)](Done<std::vector<Participant>> done) mutable {
          list_impl(client, std::move(path), std::move(done));
        });
  }

 private:
  asio::any_io_executor executor() const;
  void await_impl(std::chrono::milliseconds timeout, Done<void> done);
  void leader_impl(Done<Participant> done);
  void participants_impl(Done<std::vector<Participant>> done);
  void close_impl(Done<void> done);
  static void list_impl(client::Client& client, std::string path,
                        Done<std::vector<Participant>> done);

  std::string id_;
  std::shared_ptr<detail::LatchCore> core_;
};

}  // namespace corral::recipes
