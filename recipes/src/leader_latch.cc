#include "corral/recipes/leader_latch.h"

#include "lock_core.h"
#include "participants.h"

namespace corral::recipes {
namespace detail {

namespace {
const std::vector<std::string> kLatchMarkers = {"-latch-"};
}

/// The latch's state, on one strand shared with its queue.
class LatchCore : public std::enable_shared_from_this<LatchCore> {
 public:
  LatchCore(Client& client, std::string path, std::string id)
      : client_(client),
        strand_(asio::make_strand(client.executor())),
        path_(path),
        queue_(std::make_shared<LockCore>(client, strand_, std::move(path), "latch-", std::move(id),
                                          QueueRule{kLatchMarkers, first_in_line})),
        wake_(std::make_shared<Signal>(strand_)) {}

  void set_listener(std::function<void(bool)> l) {
    asio::post(strand_, [self = shared_from_this(), l = std::move(l)]() mutable {
      self->listener_ = std::move(l);
    });
  }

  void start() {
    queue_->start();
    std::weak_ptr<LatchCore> weak = shared_from_this();
    queue_->set_listener([weak](HoldState s) {
      // Posted by LockCore on the shared strand already.
      auto self = weak.lock();
      if (!self) return;
      if (s == HoldState::kLost) self->end(ErrorCode::kSessionExpired);
      self->set_leader(s == HoldState::kReconnected);
    });
    spawn<void>(strand_, holding(shared_from_this(), contend()), [](Result<void>) {});
  }

  awaitable<Result<void>> await_leadership(std::chrono::milliseconds timeout) {
    const auto deadline = timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
    while (!leader_) {
      const uint64_t seen = wake_->generation();
      if (ended_ != ErrorCode::kOk) co_return ended_;
      if (!co_await wake_->wait(seen, deadline)) co_return ErrorCode::kOperationTimeout;
    }
    co_return ErrorCode::kOk;
  }

  awaitable<Result<void>> close() {
    end(ErrorCode::kClosing);
    // Told before its node goes: the next in line may lead as soon as it is gone.
    set_leader(false);
    co_return co_await queue_->close_on_strand();
  }

  bool is_leader() const { return leader_flag_.load(); }
  Client& client() { return client_; }
  Strand strand() const { return strand_; }
  const std::string& path() const { return path_; }

 private:
  awaitable<Result<void>> contend() {
    auto granted = co_await queue_->acquire_on_strand(kWaitForever);
    if (!granted) {
      end(granted.error());
      co_return granted.error();
    }
    set_leader(true);
    co_return ErrorCode::kOk;
  }

  /// The latch no longer contends, for the first reason given. Waiters are woken here, not by
  /// set_leader: it wakes no one when the latch does not lead (not started, or no longer leading
  /// after kSuspended), and a waiter would sleep to its deadline and answer kOperationTimeout.
  void end(ErrorCode why) {
    if (ended_ == ErrorCode::kOk) ended_ = why;
    wake_->notify();
  }

  /// Leading needs the node first in line, a live connection and an open latch.
  void set_leader(bool leading) {
    leading = leading && queue_->held() && ended_ == ErrorCode::kOk;
    if (leading == leader_) return;
    leader_ = leading;
    leader_flag_ = leading;
    wake_->notify();
    if (listener_) listener_(leading);
  }

  Client& client_;
  Strand strand_;
  std::string path_;
  std::shared_ptr<LockCore> queue_;
  std::shared_ptr<Signal> wake_;
  // On the strand.
  bool leader_ = false;
  ErrorCode ended_ = ErrorCode::kOk;  // why the latch no longer contends
  std::function<void(bool)> listener_;
  std::atomic<bool> leader_flag_{false};
};

}  // namespace detail

LeaderLatch::LeaderLatch(client::Client& client, std::string path, std::string id)
    : id_(id), core_(std::make_shared<detail::LatchCore>(client, std::move(path), std::move(id))) {}

LeaderLatch::~LeaderLatch() {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->close()), [](Result<void>) {});
}

asio::any_io_executor LeaderLatch::executor() const { return core_->client().executor(); }
void LeaderLatch::on_leadership(std::function<void(bool)> listener) {
  core_->set_listener(std::move(listener));
}
void LeaderLatch::start() { core_->start(); }
bool LeaderLatch::is_leader() const { return core_->is_leader(); }

void LeaderLatch::await_impl(std::chrono::milliseconds timeout, Done<void> done) {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->await_leadership(timeout)),
                      std::move(done));
}

void LeaderLatch::participants_impl(Done<std::vector<Participant>> done) {
  list_impl(core_->client(), core_->path(), std::move(done));
}

void LeaderLatch::leader_impl(Done<Participant> done) {
  participants_impl([done = std::move(done)](Result<std::vector<Participant>> all) {
    if (!all) return done(all.error());
    if (all->empty()) return done(ErrorCode::kNoNode);
    done(all->front());
  });
}

void LeaderLatch::close_impl(Done<void> done) {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->close()), std::move(done));
}

void LeaderLatch::list_impl(client::Client& client, std::string path,
                            Done<std::vector<Participant>> done) {
  detail::spawn<std::vector<Participant>>(
      asio::make_strand(client.executor()),
      detail::read_participants(client, std::move(path), detail::kLatchMarkers), std::move(done));
}

}  // namespace corral::recipes
