#include "corral/recipes/double_barrier.h"

#include <algorithm>
#include <random>

#include "corral/recipes/node_names.h"
#include "paths.h"
#include "waiting_core.h"

namespace corral::recipes {
namespace detail {

using client::ConnectionState;
using client::CreateMode;

namespace {

constexpr const char* kReady = "ready";

std::string random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (char& c : out) c = kHex[rng() % 16];
  return out;
}

}  // namespace

/// One member's state, on a strand of the client's executor. `wake` is notified by the
/// watches (ready, lowest/highest member), cancel() and the loss of the session.
class DoubleBarrierCore : public WaitingCore,
                          public std::enable_shared_from_this<DoubleBarrierCore> {
 public:
  DoubleBarrierCore(Client& client, std::string path, int member_count, std::string id)
      : WaitingCore(client), path(std::move(path)), id(std::move(id)), member_count(member_count) {}

  void start() { watch_session(shared_from_this()); }

  void cancel() { cancel_waits(shared_from_this()); }

  std::string ours() const { return join_path(path, id); }
  static Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
    return timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
  }

  awaitable<ErrorCode> remove_ours() {
    if (!in_barrier) co_return ErrorCode::kOk;
    auto r = co_await retrying([&] { return client.remove(ours(), -1, use_awaitable); });
    if (r.ok() || r.error() == ErrorCode::kNoNode) in_barrier = false;
    co_return r.error() == ErrorCode::kNoNode ? ErrorCode::kOk : r.error();
  }

  awaitable<Result<void>> enter(std::chrono::milliseconds timeout) {
    const auto deadline = deadline_after(timeout);
    const uint64_t epoch = cancel_epoch;
    const std::string ready_path = join_path(path, kReady);
    // Watch `ready` before joining: whoever completes the count creates it, and its
    // creation releases every waiting member at once.
    auto ready = co_await retrying(
        [&] { return client.exists(ready_path, wake->watcher(), use_awaitable); });
    if (!ready && ready.error() != ErrorCode::kNoNode) co_return ready.error();
    auto joined = co_await create_own_ephemeral(client, ours(), "");
    if (joined != ErrorCode::kOk) co_return joined;
    in_barrier = true;
    if (ready.ok()) co_return ErrorCode::kOk;
    for (;;) {
      const uint64_t seen = wake->generation();
      if (epoch != cancel_epoch) {
        co_await remove_ours();
        co_return ErrorCode::kClosing;
      }
      if (lost) co_return ErrorCode::kSessionExpired;
      auto listed =
          co_await retrying([&] { return client.children(path, nullptr, use_awaitable); });
      if (!listed) co_return listed.error();
      const auto& names = listed->children;
      bool has_ready = std::find(names.begin(), names.end(), kReady) != names.end();
      int members = static_cast<int>(names.size()) - (has_ready ? 1 : 0);
      if (has_ready) co_return ErrorCode::kOk;
      if (members >= member_count) {
        auto made = co_await retrying([&] {
          return client.create(ready_path, "", {CreateMode::kPersistent}, use_awaitable);
        });
        if (!made && made.error() != ErrorCode::kNodeExists) co_return made.error();
        co_return ErrorCode::kOk;
      }
      if (!co_await wake->wait(seen, deadline)) {
        co_await remove_ours();
        co_return ErrorCode::kOperationTimeout;
      }
    }
  }

  /// Curator's leave: the lowest-named member waits for the highest to go; every other
  /// member removes its node and waits for the lowest to go; the lowest removes its node
  /// when it is the only one left. So each member watches one node (no herd), and no
  /// member goes on before the last has left.
  awaitable<Result<void>> leave(std::chrono::milliseconds timeout) {
    const auto deadline = deadline_after(timeout);
    const uint64_t epoch = cancel_epoch;
    ErrorCode result = ErrorCode::kOk;
    for (;;) {
      const uint64_t seen = wake->generation();
      if (epoch != cancel_epoch) co_return ErrorCode::kClosing;
      if (lost) co_return ErrorCode::kSessionExpired;
      auto listed =
          co_await retrying([&] { return client.children(path, nullptr, use_awaitable); });
      if (!listed && listed.error() != ErrorCode::kNoNode) co_return listed.error();
      std::vector<std::string> members;
      for (auto& name : listed->children)
        if (name != kReady) members.push_back(std::move(name));
      std::sort(members.begin(), members.end());
      if (members.empty()) break;
      auto at = std::find(members.begin(), members.end(), id);
      if (at == members.end() && in_barrier) {
        // Our ephemeral node went without us: the session was lost.
        in_barrier = false;
        co_return lost ? ErrorCode::kSessionExpired : ErrorCode::kNoNode;
      }
      if (members.size() == 1 && in_barrier) {
        auto gone = co_await remove_ours();
        if (gone != ErrorCode::kOk) co_return gone;
        break;
      }
      const bool lowest = at == members.begin();
      const std::string& watched = lowest ? members.back() : members.front();
      auto there = co_await retrying(
          [&] { return client.exists(join_path(path, watched), wake->watcher(), use_awaitable); });
      if (!there && there.error() != ErrorCode::kNoNode) co_return there.error();
      if (!lowest) {
        auto gone = co_await remove_ours();
        if (gone != ErrorCode::kOk) co_return gone;
      }
      if (!there.ok()) continue;  // the watched member is gone: look again
      // No co_await inside && (g++ 12 mishandles coroutine temporaries there).
      const bool woken = co_await wake->wait(seen, deadline);
      if (!woken) {
        result = ErrorCode::kOperationTimeout;
        break;
      }
    }
    // As Curator does: the next round's members may not find a stale `ready`.
    auto r = co_await retrying(
        [&] { return client.remove(join_path(path, kReady), -1, use_awaitable); });
    if (!r && r.error() != ErrorCode::kNoNode && result == ErrorCode::kOk) result = r.error();
    co_return result;
  }

  const std::string path, id;
  const int member_count;
  // On the strand.
  bool in_barrier = false;  // our node exists
};

}  // namespace detail

using detail::awaitable;
using detail::DoubleBarrierCore;

DoubleBarrier::DoubleBarrier(client::Client& client, std::string path, int member_count,
                             std::string id)
    : path_(std::move(path)), id_(id.empty() ? detail::random_id() : std::move(id)) {
  core_ = std::make_shared<DoubleBarrierCore>(client, path_, member_count, id_);
  core_->start();
}

DoubleBarrier::~DoubleBarrier() {
  core_->cancel();
  // After the cancel (same strand): an enter still creating its node removes it itself.
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<DoubleBarrierCore> core) -> awaitable<Result<void>> {
        if (core->lost) co_return ErrorCode::kOk;
        co_return co_await core->remove_ours();
      }(core_),
      [](Result<void>) {});
}

asio::any_io_executor DoubleBarrier::executor() const { return core_->client.executor(); }

void DoubleBarrier::enter_impl(std::chrono::milliseconds timeout, Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<DoubleBarrierCore> core, std::chrono::milliseconds t)
          -> awaitable<Result<void>> { co_return co_await core->enter(t); }(core_, timeout),
      std::move(done));
}

void DoubleBarrier::leave_impl(std::chrono::milliseconds timeout, Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<DoubleBarrierCore> core, std::chrono::milliseconds t)
          -> awaitable<Result<void>> { co_return co_await core->leave(t); }(core_, timeout),
      std::move(done));
}

void DoubleBarrier::cancel() { core_->cancel(); }

}  // namespace corral::recipes
