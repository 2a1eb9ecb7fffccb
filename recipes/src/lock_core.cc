#include "lock_core.h"

#include <algorithm>

#include "corral/recipes/node_names.h"
#include "paths.h"

namespace corral::recipes::detail {

using client::ConnectionState;
using client::CreateMode;

std::string first_in_line(const std::vector<std::string>& order, size_t mine) {
  return mine == 0 ? "" : order[mine - 1];
}

LockCore::LockCore(Client& client, std::string dir, std::string stem, std::string data,
                   QueueRule rule)
    : LockCore(client, asio::make_strand(client.executor()), std::move(dir), std::move(stem),
               std::move(data), std::move(rule)) {}

LockCore::LockCore(Client& client, Strand strand, std::string dir, std::string stem,
                   std::string data, QueueRule rule)
    : client_(client),
      strand_(std::move(strand)),
      dir_(std::move(dir)),
      stem_(std::move(stem)),
      data_(std::move(data)),
      rule_(std::move(rule)),
      wake_(std::make_shared<Signal>(strand_)) {}

void LockCore::start() {
  std::weak_ptr<LockCore> weak = shared_from_this();
  subscription_ = client_.subscribe_state([weak](ConnectionState s) {
    if (auto self = weak.lock()) asio::post(self->strand_, [self, s] { self->on_state(s); });
  });
}

void LockCore::on_state(ConnectionState state) {
  bool holding = holds_.load() > 0;
  if (state == ConnectionState::kLost || state == ConnectionState::kClosed) {
    lost_ = true;
    holds_ = 0;
    node_.clear();
    wake_->notify();  // waiters find the session gone
    if (holding && listener_) listener_(HoldState::kLost);
    return;
  }
  if (!holding || !listener_) return;
  if (state == ConnectionState::kSuspended) listener_(HoldState::kSuspended);
  if (state == ConnectionState::kReconnected) listener_(HoldState::kReconnected);
}

Grant LockCore::grant() const {
  std::lock_guard lock(grant_mu_);
  return grant_;
}

void LockCore::set_listener(HoldListener listener) {
  asio::post(strand_, [self = shared_from_this(), l = std::move(listener)]() mutable {
    self->listener_ = std::move(l);
  });
}

void LockCore::acquire(std::chrono::milliseconds timeout, Done<Grant> done) {
  spawn<Grant>(
      strand_,
      [](std::shared_ptr<LockCore> self, std::chrono::milliseconds t) -> awaitable<Result<Grant>> {
        co_return co_await self->acquire_on_strand(t);
      }(shared_from_this(), timeout),
      std::move(done));
}

awaitable<Result<Grant>> LockCore::acquire_on_strand(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();  // alive until the coroutine ends
  const auto deadline = timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
  const uint64_t epoch = cancel_epoch_;
  // One contend at a time per holder: a second acquire waits for the first, then either
  // counts as a reentrant hold or contends itself.
  while (busy_) {
    uint64_t seen = wake_->generation();
    if (cancelled(epoch)) co_return ErrorCode::kClosing;
    if (!co_await wake_->wait(seen, deadline)) co_return ErrorCode::kOperationTimeout;
  }
  if (cancelled(epoch)) co_return ErrorCode::kClosing;
  if (lost_) co_return ErrorCode::kSessionExpired;
  if (holds_.load() > 0) {
    ++holds_;
    co_return grant();
  }
  busy_ = true;
  auto result = co_await contend(deadline, epoch);
  busy_ = false;
  wake_->notify();  // the next local acquire may go on
  co_return result;
}

awaitable<Result<Grant>> LockCore::contend(Clock::time_point deadline, uint64_t epoch) {
  auto created = co_await create_protected_with_parents(client_, join_path(dir_, stem_), data_,
                                                        CreateMode::kEphemeralSequential);
  if (!created) co_return created.error();
  node_ = created->path;
  const std::string mine = node_name(node_);
  for (;;) {
    const uint64_t seen = wake_->generation();
    if (cancelled(epoch)) {
      co_await remove_node();
      co_return ErrorCode::kClosing;
    }
    if (lost_) co_return ErrorCode::kSessionExpired;
    auto listed = co_await retrying([&] { return client_.children(dir_, nullptr, use_awaitable); });
    if (!listed) {
      if (!session_gone(listed.error())) co_await remove_node();
      co_return listed.error();
    }
    auto order = ordered_by_sequence(listed->children, rule_.markers);
    auto at = std::find(order.begin(), order.end(), mine);
    if (at == order.end()) {  // our node was removed by someone else: we are not queued
      node_.clear();
      co_return ErrorCode::kNoNode;
    }
    std::string blocker = rule_.blocker(order, static_cast<size_t>(at - order.begin()));
    if (blocker.empty()) {
      Grant g{node_, created->stat.czxid};
      {
        std::lock_guard lock(grant_mu_);
        grant_ = g;
      }
      holds_ = 1;
      co_return g;
    }
    // getData rather than exists: a blocker gone meanwhile leaves no watch behind.
    auto watched = co_await retrying(
        [&] { return client_.get(join_path(dir_, blocker), wake_->watcher(), use_awaitable); });
    if (watched.error() == ErrorCode::kNoNode) continue;
    if (!watched) {
      if (!session_gone(watched.error())) co_await remove_node();
      co_return watched.error();
    }
    if (!co_await wake_->wait(seen, deadline)) {
      co_await remove_node();
      co_return ErrorCode::kOperationTimeout;
    }
  }
}

awaitable<ErrorCode> LockCore::remove_node() {
  if (node_.empty()) co_return ErrorCode::kOk;
  std::string node = std::exchange(node_, "");
  auto r =
      co_await retrying([&] { return client_.remove(node, -1, use_awaitable); }, kUntilSessionEnds);
  // ZNONODE after a retried delete: the first one went through.
  co_return r.error() == ErrorCode::kNoNode ? ErrorCode::kOk : r.error();
}

void LockCore::release(Done<void> done) {
  spawn<void>(
      strand_,
      [](std::shared_ptr<LockCore> self) -> awaitable<Result<void>> {
        co_return co_await self->release_on_strand();
      }(shared_from_this()),
      std::move(done));
}

awaitable<Result<void>> LockCore::release_on_strand() {
  auto self = shared_from_this();
  if (holds_.load() <= 0) co_return ErrorCode::kApiError;
  if (--holds_ > 0) co_return ErrorCode::kOk;
  {
    std::lock_guard lock(grant_mu_);
    grant_ = Grant{};
  }
  co_return co_await remove_node();
}

void LockCore::cancel() {
  asio::post(strand_, [self = shared_from_this()] {
    ++self->cancel_epoch_;
    self->wake_->notify();
  });
}

void LockCore::close(Done<void> done) {
  spawn<void>(strand_, holding(shared_from_this(), close_on_strand()), std::move(done));
}

awaitable<Result<void>> LockCore::close_on_strand() {
  closed_ = true;
  ++cancel_epoch_;
  wake_->notify();
  // A contend in progress removes its own node when it sees the cancel.
  while (busy_) {
    uint64_t seen = wake_->generation();
    co_await wake_->wait(seen, Clock::time_point::max());
  }
  holds_ = 0;
  if (lost_) co_return ErrorCode::kOk;
  co_return co_await remove_node();
}

void LockCore::contenders(Done<std::vector<std::string>> done) {
  spawn<std::vector<std::string>>(
      strand_,
      [](std::shared_ptr<LockCore> self) -> awaitable<Result<std::vector<std::string>>> {
        auto listed = co_await retrying(
            [&] { return self->client_.children(self->dir_, nullptr, use_awaitable); });
        if (listed.error() == ErrorCode::kNoNode) co_return std::vector<std::string>{};
        if (!listed) co_return listed.error();
        co_return ordered_by_sequence(listed->children, self->rule_.markers);
      }(shared_from_this()),
      std::move(done));
}

}  // namespace corral::recipes::detail
