#include "corral/recipes/leader_selector.h"

#include <mutex>

#include "lock_core.h"
#include "participants.h"

namespace corral::recipes {
namespace detail {

namespace {
const std::vector<std::string> kSelectorMarkers = {"-lock-", "__lock__"};
}

/// What a term's copies share.
struct TermState {
  std::mutex mu;
  bool finished = false;
  bool lost = false;
  std::vector<std::function<void()>> on_lost;
  int64_t fencing_token = 0;
  std::shared_ptr<Signal> wake;    // the selector's: a finished term wakes it
  asio::any_io_executor executor;  // where on_lost callbacks run

  void lose() {
    std::vector<std::function<void()>> calls;
    {
      std::lock_guard lock(mu);
      if (lost) return;
      lost = true;
      calls.swap(on_lost);
    }
    for (auto& f : calls) asio::post(executor, std::move(f));
    wake->notify();
  }
};

/// The selector's loop: get in line, lead for a term, release, and again.
class SelectorCore : public std::enable_shared_from_this<SelectorCore> {
 public:
  SelectorCore(Client& client, std::string path, std::string id,
               std::function<void(LeaderTerm)> take, bool auto_requeue)
      : client_(client),
        strand_(asio::make_strand(client.executor())),
        path_(path),
        take_(std::move(take)),
        auto_requeue_(auto_requeue),
        lock_(std::make_shared<LockCore>(client, strand_, std::move(path), "lock-", std::move(id),
                                         QueueRule{kSelectorMarkers, first_in_line})),
        wake_(std::make_shared<Signal>(strand_)) {}

  void start() {
    lock_->start();
    std::weak_ptr<SelectorCore> weak = shared_from_this();
    lock_->set_listener([weak](HoldState s) {
      auto self = weak.lock();
      if (!self || !self->term_) return;
      // Curator's rule: a suspended connection ends the term (another may lead before the
      // session comes back), so the leader stops first.
      if (s != HoldState::kReconnected) self->term_->lose();
    });
    requeue();
  }

  void requeue() {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->in_line_ || self->closed_) return;
      self->in_line_ = true;
      spawn<void>(self->strand_, holding(self, self->run()), [](Result<void>) {});
    });
  }

  awaitable<Result<void>> close() {
    closed_ = true;
    if (term_) term_->lose();
    co_return co_await lock_->close_on_strand();
  }

  bool leading() const { return leading_.load(); }
  Client& client() { return client_; }
  Strand strand() const { return strand_; }
  const std::string& path() const { return path_; }

 private:
  awaitable<Result<void>> run() {
    do {
      auto granted = co_await lock_->acquire_on_strand(kWaitForever);
      if (!granted) break;
      co_await lead(granted->fencing_token);
      co_await lock_->release_on_strand();
    } while (auto_requeue_ && !closed_ &&
             lock_->client().state() != client::ConnectionState::kLost);
    in_line_ = false;
    co_return ErrorCode::kOk;
  }

  /// One term: hands it to the user's function and waits until it is finished.
  awaitable<void> lead(int64_t token) {
    term_ = std::make_shared<TermState>();
    term_->fencing_token = token;
    term_->wake = wake_;
    term_->executor = client_.executor();
    leading_ = true;
    asio::post(client_.executor(), [take = take_, term = LeaderTerm(term_)] { take(term); });
    for (;;) {
      const uint64_t seen = wake_->generation();
      {
        std::lock_guard lock(term_->mu);
        if (term_->finished) break;
      }
      co_await wake_->wait(seen, Clock::time_point::max());
    }
    leading_ = false;
    term_.reset();
  }

  Client& client_;
  Strand strand_;
  std::string path_;
  std::function<void(LeaderTerm)> take_;
  bool auto_requeue_;
  std::shared_ptr<LockCore> lock_;
  std::shared_ptr<Signal> wake_;
  // On the strand.
  std::shared_ptr<TermState> term_;
  bool in_line_ = false;
  bool closed_ = false;
  std::atomic<bool> leading_{false};
};

}  // namespace detail

void LeaderTerm::finish() const {
  {
    std::lock_guard lock(state_->mu);
    state_->finished = true;
  }
  state_->wake->notify();
}

bool LeaderTerm::lost() const {
  std::lock_guard lock(state_->mu);
  return state_->lost;
}

void LeaderTerm::on_lost(std::function<void()> f) const {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->lost) return state_->on_lost.push_back(std::move(f));
  }
  asio::post(state_->executor, std::move(f));
}

int64_t LeaderTerm::fencing_token() const { return state_->fencing_token; }

LeaderSelector::LeaderSelector(client::Client& client, std::string path, std::string id,
                               std::function<void(LeaderTerm)> take_leadership, bool auto_requeue)
    : core_(std::make_shared<detail::SelectorCore>(client, std::move(path), std::move(id),
                                                   std::move(take_leadership), auto_requeue)) {}

LeaderSelector::~LeaderSelector() {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->close()), [](Result<void>) {});
}

asio::any_io_executor LeaderSelector::executor() const { return core_->client().executor(); }
void LeaderSelector::start() { core_->start(); }
void LeaderSelector::requeue() { core_->requeue(); }
bool LeaderSelector::has_leadership() const { return core_->leading(); }

void LeaderSelector::participants_impl(Done<std::vector<Participant>> done) {
  detail::spawn<std::vector<Participant>>(
      asio::make_strand(core_->client().executor()),
      detail::read_participants(core_->client(), core_->path(), detail::kSelectorMarkers),
      std::move(done));
}

void LeaderSelector::close_impl(Done<void> done) {
  detail::spawn<void>(core_->strand(), detail::holding(core_, core_->close()), std::move(done));
}

}  // namespace corral::recipes
