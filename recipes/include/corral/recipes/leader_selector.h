// Leader election, selector style (Curator's LeaderSelector layout: a Mutex on the path, so
// contenders are `_c_<id>-lock-<seq>` nodes with the id as data). The selector calls the
// user's function each time this contender becomes leader, and leadership lasts until the
// function's term is finished; with auto-requeue the contender then gets back in line, so
// leadership rotates among contenders that each lead for a while.
//
//   LeaderSelector selector(client, "/election/compactor", "host-a",
//       [](LeaderTerm term) {
//         term.on_lost([] { stop_work(); });   // suspended or expired: stop at once
//         start_work([term] { term.finish(); });
//       });
//   selector.start();
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corral/client/client.h"
#include "corral/recipes/async.h"
#include "corral/recipes/leader_latch.h"

namespace corral::recipes {

namespace detail {
class SelectorCore;
struct TermState;
}  // namespace detail

/// One term of leadership handed to a LeaderSelector's function. Copies share the term.
class LeaderTerm {
 public:
  /// Ends the term: leadership is given up (and the selector requeues if it auto-requeues).
  void finish() const;
  /// True once the term can no longer be trusted: the connection was suspended or the
  /// session lost, so another contender may lead soon. Stop acting as leader.
  bool lost() const;
  /// Calls `f` (once, on the client's executor) when the term is lost; at once if it is.
  void on_lost(std::function<void()> f) const;
  /// The fencing token of this term (its lock node's creation zxid).
  int64_t fencing_token() const;

 private:
  friend class detail::SelectorCore;
  explicit LeaderTerm(std::shared_ptr<detail::TermState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::TermState> state_;
};

/// A contender that runs a function while it leads.
class LeaderSelector {
 public:
  /// A contender for `path` under `id`; `take_leadership` runs (on the client's executor)
  /// at the start of each term. With `auto_requeue` the contender gets back in line after
  /// each term; otherwise call requeue().
  LeaderSelector(client::Client& client, std::string path, std::string id,
                 std::function<void(LeaderTerm)> take_leadership, bool auto_requeue = true);
  /// Leaves the election (a term in progress is lost).
  ~LeaderSelector();
  LeaderSelector(const LeaderSelector&) = delete;
  LeaderSelector& operator=(const LeaderSelector&) = delete;

  /// Gets in line for the first time.
  void start();
  /// Gets in line again after a term (without auto-requeue); no effect while in line.
  void requeue();
  /// True during a term.
  bool has_leadership() const;
  /// Every contender in line, the leader first.
  template <typename Token>
  auto participants(Token&& token) {
    return detail::initiate<std::vector<Participant>>(
        executor(), token,
        [this](Done<std::vector<Participant>> done) { participants_impl(std::move(done)); });
  }
  /// Leaves the election: the term in progress (if any) is lost, the node removed.
  template <typename Token>
  auto close(Token&& token) {
    return detail::initiate<void>(executor(), token,
                                  [this](Done<void> done) { close_impl(std::move(done)); });
  }

 private:
  asio::any_io_executor executor() const;
  void participants_impl(Done<std::vector<Participant>> done);
  void close_impl(Done<void> done);

  std::shared_ptr<detail::SelectorCore> core_;
};

}  // namespace corral::recipes
