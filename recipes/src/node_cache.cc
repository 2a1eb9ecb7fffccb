#include "corral/recipes/node_cache.h"

#include <asio/detached.hpp>
#include <atomic>
#include <mutex>

#include "coro.h"

namespace corral::recipes {

const char* node_cache_event_name(NodeCacheEventKind kind) {
  switch (kind) {
    case NodeCacheEventKind::kCreated:
      return "created";
    case NodeCacheEventKind::kUpdated:
      return "updated";
    case NodeCacheEventKind::kDeleted:
      return "deleted";
  }
  return "?";
}

namespace detail {

using client::ConnectionState;

/// The NodeCache's state and its one coroutine, on a strand of the client's executor.
class NodeCacheCore : public std::enable_shared_from_this<NodeCacheCore> {
 public:
  NodeCacheCore(Client& client, std::string path)
      : client_(client),
        strand_(asio::make_strand(client.executor())),
        path_(std::move(path)),
        wake_(std::make_shared<Signal>(strand_)) {}

  void start(Done<void> done);
  void close();
  void set_listener(NodeCacheListener listener) {
    std::lock_guard lock(listener_mu_);
    listener_ = std::move(listener);
  }
  std::optional<NodeData> current() const {
    std::lock_guard lock(node_mu_);
    return node_;
  }
  bool running() const { return !stopped_.load(); }
  Client& client() { return client_; }

 private:
  awaitable<Result<void>> follow(Done<void> started);
  awaitable<ErrorCode> read_once();
  client::Watcher watcher();
  void apply(std::optional<NodeData> now);
  void emit(NodeCacheEventKind kind, const std::optional<NodeData>& node);
  void on_state(ConnectionState state);

  Client& client_;
  Strand strand_;
  std::string path_;
  std::shared_ptr<Signal> wake_;
  client::StateSubscription state_listener_;

  // On the strand.
  bool armed_ = false;  // our watch is registered with the client (one at a time, no pile-up)
  bool lost_ = false;
  bool read_once_done_ = false;

  std::atomic<bool> stopped_{false};
  mutable std::mutex node_mu_;
  std::optional<NodeData> node_;
  // Held while the listener runs, so close() returns only when no call is under way;
  // recursive so that a listener may close the cache.
  std::recursive_mutex listener_mu_;
  NodeCacheListener listener_;
};

void NodeCacheCore::start(Done<void> done) {
  std::weak_ptr<NodeCacheCore> weak = shared_from_this();
  state_listener_ = client_.subscribe_state([weak](ConnectionState s) {
    if (auto self = weak.lock()) asio::post(self->strand_, [self, s] { self->on_state(s); });
  });
  auto self = shared_from_this();
  asio::co_spawn(strand_, follow(std::move(done)), [self](std::exception_ptr e, Result<void>) {
    if (e) std::rethrow_exception(e);  // a bug in the recipe
  });
}

void NodeCacheCore::on_state(ConnectionState state) {
  if (state == ConnectionState::kLost || state == ConnectionState::kClosed) lost_ = true;
  // After a reconnect a read costs little and covers anything the watches could not say.
  wake_->notify();
}

void NodeCacheCore::close() {
  {
    std::lock_guard lock(listener_mu_);
    stopped_ = true;
  }
  state_listener_.reset();
  wake_->notify();
}

client::Watcher NodeCacheCore::watcher() {
  // Weak: the client keeps a one-shot watcher until it fires, which must not keep us alive.
  std::weak_ptr<NodeCacheCore> weak = shared_from_this();
  return [weak](const client::WatchEvent&) {
    if (auto self = weak.lock())
      asio::post(self->strand_, [self] {
        self->armed_ = false;  // every event, a removal included, consumes the watch
        self->wake_->notify();
      });
  };
}

awaitable<Result<void>> NodeCacheCore::follow(Done<void> started) {
  auto self = shared_from_this();
  bool initialized = false;
  // The first read sees every write committed before start(), whichever server made it.
  ErrorCode err = (co_await retrying([&] { return client_.sync(path_, use_awaitable); })).error();
  for (;;) {
    const uint64_t seen = wake_->generation();
    if (stopped_ || lost_ || session_gone(err)) break;
    err = co_await read_once();
    if (session_gone(err)) break;
    if (err == ErrorCode::kOk && !initialized) {
      initialized = true;
      started(ErrorCode::kOk);
    }
    // A failed read (its retries spent) is tried again after a state change or a second.
    auto deadline =
        err == ErrorCode::kOk ? Clock::time_point::max() : Clock::now() + std::chrono::seconds(1);
    co_await wake_->wait(seen, deadline);
  }
  stopped_ = true;
  if (!initialized)
    started(lost_ || session_gone(err) ? ErrorCode::kSessionExpired : ErrorCode::kClosing);
  co_return ErrorCode::kOk;
}

awaitable<ErrorCode> NodeCacheCore::read_once() {
  for (;;) {
    // Only one of our watches at a time: the client keeps every watcher it is given.
    bool arm = !armed_;
    auto got = co_await retrying(
        [&] { return client_.get(path_, arm ? watcher() : nullptr, use_awaitable); });
    if (got.ok()) {
      armed_ = armed_ || arm;
      apply(NodeData{std::move(got->data), got->stat});
      co_return ErrorCode::kOk;
    }
    if (got.error() != ErrorCode::kNoNode) co_return got.error();
    // Absent: an exists watch tells of its creation.
    arm = !armed_;
    auto there = co_await retrying(
        [&] { return client_.exists(path_, arm ? watcher() : nullptr, use_awaitable); });
    if (there.ok() || there.error() == ErrorCode::kNoNode) armed_ = armed_ || arm;
    if (there.ok()) continue;  // created between the two reads: read its data
    if (there.error() != ErrorCode::kNoNode) co_return there.error();
    apply(std::nullopt);
    co_return ErrorCode::kOk;
  }
}

void NodeCacheCore::apply(std::optional<NodeData> now) {
  std::optional<NodeData> before;
  {
    std::lock_guard lock(node_mu_);
    before = std::exchange(node_, now);
  }
  // The first read is what start() reports, not a change.
  if (!std::exchange(read_once_done_, true) || (!before && !now)) return;
  if (!before) return emit(NodeCacheEventKind::kCreated, now);
  if (!now) return emit(NodeCacheEventKind::kDeleted, now);
  if (before->stat.czxid != now->stat.czxid) {  // deleted and created again between reads
    emit(NodeCacheEventKind::kDeleted, std::nullopt);
    return emit(NodeCacheEventKind::kCreated, now);
  }
  // Reads never go back in time (a session never sees an older zxid), so a newer mzxid is
  // a new version and an equal one is the version already reported.
  if (now->stat.mzxid > before->stat.mzxid) emit(NodeCacheEventKind::kUpdated, now);
}

void NodeCacheCore::emit(NodeCacheEventKind kind, const std::optional<NodeData>& node) {
  std::lock_guard lock(listener_mu_);
  if (stopped_ || !listener_) return;
  listener_(NodeCacheEvent{kind, node});
}

}  // namespace detail

NodeCache::NodeCache(client::Client& client, std::string path)
    : path_(std::move(path)), core_(std::make_shared<detail::NodeCacheCore>(client, path_)) {}

NodeCache::~NodeCache() { close(); }

asio::any_io_executor NodeCache::executor() const { return core_->client().executor(); }
void NodeCache::start_impl(Done<void> done) { core_->start(std::move(done)); }
void NodeCache::close() { core_->close(); }
void NodeCache::on_change(NodeCacheListener listener) { core_->set_listener(std::move(listener)); }
std::optional<NodeData> NodeCache::current() const { return core_->current(); }
bool NodeCache::running() const { return core_->running(); }

}  // namespace corral::recipes
