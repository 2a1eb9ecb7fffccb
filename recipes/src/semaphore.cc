#include "corral/recipes/semaphore.h"

#include <algorithm>
#include <set>

#include "corral/recipes/node_names.h"
#include "lock_core.h"
#include "paths.h"

namespace corral::recipes {
namespace detail {

using client::ConnectionState;

/// The semaphore's state and coroutines, on one strand shared with its inner lock.
class SemaphoreCore : public std::enable_shared_from_this<SemaphoreCore> {
 public:
  SemaphoreCore(Client& client, std::string path, int max_leases, std::string id)
      : client_(client),
        strand_(asio::make_strand(client.executor())),
        leases_dir_(join_path(path, "leases")),
        max_leases_(max_leases),
        id_(id),
        lock_(std::make_shared<LockCore>(client, strand_, join_path(path, "locks"), "lock-", id,
                                         QueueRule{{"-lock-"}, first_in_line})),
        wake_(std::make_shared<Signal>(strand_)) {}

  void start() {
    lock_->start();
    std::weak_ptr<SemaphoreCore> weak = shared_from_this();
    subscription_ = client_.subscribe_state([weak](ConnectionState s) {
      if (auto self = weak.lock()) asio::post(self->strand_, [self, s] { self->on_state(s); });
    });
  }

  awaitable<Result<Grant>> acquire(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    if (max_leases_ < 1) co_return ErrorCode::kBadArguments;
    const auto deadline = timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
    const uint64_t epoch = cancel_epoch_;
    // The inner lock lines acquirers up: only its holder waits for a lease to free up.
    auto turn = co_await lock_->acquire_on_strand(timeout);
    if (!turn) co_return turn.error();
    auto lease = co_await take_lease(deadline, epoch);
    co_await lock_->release_on_strand();
    co_return lease;
  }

  awaitable<Result<void>> release(Grant lease) {
    auto self = shared_from_this();
    if (!held_.erase(lease.node)) co_return ErrorCode::kApiError;
    held_count_ = static_cast<int>(held_.size());
    co_return co_await remove(lease.node);
  }

  awaitable<Result<std::vector<std::string>>> leases() {
    auto self = shared_from_this();
    auto listed =
        co_await retrying([&] { return client_.children(leases_dir_, nullptr, use_awaitable); });
    if (listed.error() == ErrorCode::kNoNode) co_return std::vector<std::string>{};
    if (!listed) co_return listed.error();
    co_return ordered_by_sequence(listed->children, {"lease-"});
  }

  void cancel() {
    lock_->cancel();
    asio::post(strand_, [self = shared_from_this()] {
      ++self->cancel_epoch_;
      self->wake_->notify();
    });
  }

  awaitable<Result<void>> close() {
    auto self = shared_from_this();
    ++cancel_epoch_;
    wake_->notify();
    lock_->cancel();
    for (auto node : std::set<std::string>(std::move(held_))) co_await remove(node);
    held_count_ = 0;
    co_return ErrorCode::kOk;
  }

  void set_listener(HoldListener l) {
    asio::post(strand_, [self = shared_from_this(), l = std::move(l)]() mutable {
      self->listener_ = std::move(l);
    });
  }
  int held() const { return held_count_.load(); }
  Strand strand() const { return strand_; }
  Client& client() { return client_; }

 private:
  awaitable<Result<Grant>> take_lease(Clock::time_point deadline, uint64_t epoch) {
    auto created = co_await create_protected_with_parents(
        client_, join_path(leases_dir_, "lease-"), id_, client::CreateMode::kEphemeralSequential);
    if (!created) co_return created.error();
    const std::string mine = node_name(created->path);
    for (;;) {
      const uint64_t seen = wake_->generation();
      if (cancel_epoch_ != epoch || lost_) {
        if (!lost_) co_await remove(created->path);
        co_return lost_ ? ErrorCode::kSessionExpired : ErrorCode::kClosing;
      }
      auto listed = co_await retrying(
          [&] { return client_.children(leases_dir_, wake_->watcher(), use_awaitable); });
      if (!listed) {
        if (!session_gone(listed.error())) co_await remove(created->path);
        co_return listed.error();
      }
      auto order = ordered_by_sequence(listed->children, {"lease-"});
      if (std::find(order.begin(), order.end(), mine) == order.end()) co_return ErrorCode::kNoNode;
      if (static_cast<int>(order.size()) <= max_leases_) {
        held_.insert(created->path);
        held_count_ = static_cast<int>(held_.size());
        co_return Grant{created->path, created->stat.czxid};
      }
      if (!co_await wake_->wait(seen, deadline)) {
        co_await remove(created->path);
        co_return ErrorCode::kOperationTimeout;
      }
    }
  }

  awaitable<ErrorCode> remove(std::string node) {
    auto r = co_await retrying([&] { return client_.remove(node, -1, use_awaitable); },
                               kUntilSessionEnds);
    co_return r.error() == ErrorCode::kNoNode ? ErrorCode::kOk : r.error();
  }

  void on_state(ConnectionState state) {
    bool holding = !held_.empty();
    if (state == ConnectionState::kLost || state == ConnectionState::kClosed) {
      lost_ = true;
      held_.clear();
      held_count_ = 0;
      wake_->notify();
      if (holding && listener_) listener_(HoldState::kLost);
      return;
    }
    if (!holding || !listener_) return;
    if (state == ConnectionState::kSuspended) listener_(HoldState::kSuspended);
    if (state == ConnectionState::kReconnected) listener_(HoldState::kReconnected);
  }

  Client& client_;
  Strand strand_;
  std::string leases_dir_;
  int max_leases_;
  std::string id_;
  std::shared_ptr<LockCore> lock_;
  std::shared_ptr<Signal> wake_;
  client::StateSubscription subscription_;
  // On the strand.
  std::set<std::string> held_;
  uint64_t cancel_epoch_ = 0;
  bool lost_ = false;
  HoldListener listener_;
  std::atomic<int> held_count_{0};
};

}  // namespace detail

Semaphore::Semaphore(client::Client& client, std::string path, int max_leases, std::string id)
    : core_(std::make_shared<detail::SemaphoreCore>(client, std::move(path), max_leases,
                                                    std::move(id))) {
  core_->start();
}

Semaphore::~Semaphore() {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->close()), [](Result<void>) {});
}

asio::any_io_executor Semaphore::executor() const { return core_->client().executor(); }

void Semaphore::acquire_impl(std::chrono::milliseconds timeout, Done<Grant> done) {
  detail::spawn<Grant>(core_->strand(), detail::holding(core_, core_->acquire(timeout)),
                       std::move(done));
}
void Semaphore::release_impl(Grant lease, Done<void> done) {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->release(std::move(lease))),
                      std::move(done));
}
void Semaphore::leases_impl(Done<std::vector<std::string>> done) {
  detail::spawn<std::vector<std::string>>(core_->strand(), detail::holding(core_, core_->leases()),
                                          std::move(done));
}
void Semaphore::cancel() { core_->cancel(); }
void Semaphore::on_hold_state(HoldListener listener) { core_->set_listener(std::move(listener)); }
int Semaphore::held() const { return core_->held(); }

}  // namespace corral::recipes
