#include "corral/recipes/barrier.h"

#include "paths.h"
#include "waiting_core.h"

namespace corral::recipes {
namespace detail {

using client::ConnectionState;
using client::CreateMode;

/// The barrier's state, on a strand of the client's executor; waiters sleep on `wake`,
/// which the node's watch, cancel() and the loss of the session notify.
class BarrierCore : public WaitingCore, public std::enable_shared_from_this<BarrierCore> {
 public:
  BarrierCore(Client& client, std::string path) : WaitingCore(client), path(std::move(path)) {}

  void start() { watch_session(shared_from_this()); }

  void cancel() { cancel_waits(shared_from_this()); }

  awaitable<Result<void>> wait(std::chrono::milliseconds timeout) {
    const auto deadline = timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
    const uint64_t epoch = cancel_epoch;
    // Our server may not have applied a set() made through another one yet: catch up first,
    // or a barrier set a moment ago would look open.
    auto synced = co_await retrying([&] { return client.sync(path, use_awaitable); });
    if (!synced) co_return synced.error();
    for (;;) {
      const uint64_t seen = wake->generation();
      if (epoch != cancel_epoch) co_return ErrorCode::kClosing;
      if (lost) co_return ErrorCode::kSessionExpired;
      // exists leaves its watch whether or not the node is there: a remove() right after
      // this read still wakes us.
      auto there =
          co_await retrying([&] { return client.exists(path, wake->watcher(), use_awaitable); });
      if (there.error() == ErrorCode::kNoNode) co_return ErrorCode::kOk;
      if (!there) co_return there.error();
      if (!co_await wake->wait(seen, deadline)) co_return ErrorCode::kOperationTimeout;
    }
  }

  std::string path;
};

}  // namespace detail

using detail::awaitable;
using detail::BarrierCore;
using detail::use_awaitable;

Barrier::Barrier(client::Client& client, std::string path)
    : path_(std::move(path)), core_(std::make_shared<BarrierCore>(client, path_)) {
  core_->start();
}

Barrier::~Barrier() { core_->cancel(); }

asio::any_io_executor Barrier::executor() const { return core_->client.executor(); }

void Barrier::set_impl(Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<BarrierCore> core) -> awaitable<Result<void>> {
        auto made = co_await detail::create_with_parents(core->client, core->path, "",
                                                         client::CreateMode::kPersistent);
        if (made.ok() || made.error() == ErrorCode::kNodeExists) co_return ErrorCode::kOk;
        co_return made.error();
      }(core_),
      std::move(done));
}

void Barrier::remove_impl(Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<BarrierCore> core) -> awaitable<Result<void>> {
        auto gone = co_await detail::retrying(
            [&] { return core->client.remove(core->path, -1, use_awaitable); });
        // ZNONODE: not set, or a retried delete whose first attempt went through.
        if (gone.ok() || gone.error() == ErrorCode::kNoNode) co_return ErrorCode::kOk;
        co_return gone.error();
      }(core_),
      std::move(done));
}

void Barrier::wait_impl(std::chrono::milliseconds timeout, Done<void> done) {
  detail::spawn<void>(
      core_->strand,
      [](std::shared_ptr<BarrierCore> core, std::chrono::milliseconds t)
          -> awaitable<Result<void>> { co_return co_await core->wait(t); }(core_, timeout),
      std::move(done));
}

void Barrier::cancel() { core_->cancel(); }

}  // namespace corral::recipes
