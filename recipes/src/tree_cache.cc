#include "corral/recipes/tree_cache.h"

#include <algorithm>

#include "corral/recipes/node_names.h"
#include "tree_cache_core.h"

namespace corral::recipes {

const char* tree_cache_event_name(TreeCacheEventKind kind) {
  switch (kind) {
    case TreeCacheEventKind::kNodeAdded:
      return "node_added";
    case TreeCacheEventKind::kNodeUpdated:
      return "node_updated";
    case TreeCacheEventKind::kNodeRemoved:
      return "node_removed";
    case TreeCacheEventKind::kInitialized:
      return "initialized";
    case TreeCacheEventKind::kLost:
      return "lost";
  }
  return "?";
}

namespace detail {

// ------------------------------------------------------------------ lifecycle

void TreeCacheCore::start(Done<void> done) {
  std::weak_ptr<TreeCacheCore> weak = shared_from_this();
  state_listener_ = client_.subscribe_state([weak](ConnectionState s) {
    if (auto self = weak.lock()) asio::post(self->strand_, [self, s] { self->on_state(s); });
  });
  following_ = true;
  asio::co_spawn(strand_, follow(std::move(done)),
                 [self = shared_from_this()](std::exception_ptr e, Result<void>) {
                   if (e) std::rethrow_exception(e);  // a bug in the recipe
                 });
}

void TreeCacheCore::close() {
  {
    std::lock_guard lock(listener_mu_);
    closed_ = true;
  }
  state_listener_.reset();
  wake_->notify();
}

void TreeCacheCore::close(Done<void> done) {
  close();
  asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
    if (!self->following_ || self->finished_) return done(ErrorCode::kOk);
    self->closers_.push_back(std::move(done));
  });
}

void TreeCacheCore::on_state(ConnectionState state) {
  if (state == ConnectionState::kLost || state == ConnectionState::kClosed) lost_ = true;
  // A persistent watch comes back without what happened while the client was away; one-shot
  // watches are re-registered with the last zxid seen and fire for those changes.
  if (state == ConnectionState::kReconnected && persistent_) resync_ = true;
  wake_->notify();
}

awaitable<Result<void>> TreeCacheCore::follow(Done<void> started) {
  auto self = shared_from_this();
  need_watch_ = !options_.force_one_shot_watches;
  // The first load sees every write committed before start(), whichever server made it.
  ErrorCode err = (co_await retrying([&] { return client_.sync(root_, use_awaitable); })).error();
  for (;;) {
    const uint64_t seen = wake_->generation();
    if (closed_ || lost_ || session_gone(err)) break;
    bool idle = false;
    err = co_await step(idle);
    if (err == ErrorCode::kOk) {
      if (!initialized_ && !resync_ && !need_watch_) {
        initialized_ = true;
        emit(TreeCacheEventKind::kInitialized);
        started(ErrorCode::kOk);
      }
      if (idle) co_await wake_->wait(seen, Clock::time_point::max());
      continue;
    }
    if (session_gone(err)) break;
    if (!initialized_ && !client::retryable(err)) break;  // e.g. ZNOAUTH: tell the starter
    // Whatever failed is read again with everything else, after a state change or a second.
    resync_ = true;
    co_await wake_->wait(seen, Clock::now() + std::chrono::seconds(1));
  }
  stopped_ = true;
  if (session_gone(err)) lost_ = true;
  if (!initialized_)
    started(lost_ ? ErrorCode::kSessionExpired : closed_ ? ErrorCode::kClosing : err);
  if (lost_) emit(TreeCacheEventKind::kLost);
  if (persistent_ && !lost_) {
    // Removes every watch this client has on the root path itself (the API cannot name one
    // watcher); another recipe's watch there is told (a watch-removed event) and re-armed.
    // Retried: after a connection loss the client still holds the watch and registers it
    // again on reconnecting, and the server would go on sending every change below the root.
    co_await retrying(
        [&] { return client_.remove_watches(root_, client::WatcherType::kAny, use_awaitable); });
  }
  finished_ = true;
  for (auto& done : std::exchange(closers_, {})) done(ErrorCode::kOk);
  co_return ErrorCode::kOk;
}

awaitable<ErrorCode> TreeCacheCore::step(bool& idle) {
  if (need_watch_) co_return co_await add_persistent_watch();
  if (resync_) {
    resync_ = false;
    // The walk reads every node after these events were queued: they are answered by it.
    queue_.clear();
    queued_.clear();
    co_return co_await sync_subtree(root_, 0);
  }
  if (queue_.empty()) {
    idle = true;
    co_return ErrorCode::kOk;
  }
  auto [op, path] = queue_.front();
  queue_.pop_front();
  queued_.erase({op, path});
  if (op == Op::kNode) co_return co_await sync_node(path);
  co_return co_await sync_children(path, depth_of(path), false, -1);
}

awaitable<ErrorCode> TreeCacheCore::add_persistent_watch() {
  auto added = co_await retrying([&] {
    return client_.add_watch(root_, AddWatchMode::kPersistentRecursive, persistent_watcher(),
                             use_awaitable);
  });
  if (added.error() == ErrorCode::kUnimplemented) {
    // A server without addWatch (before ZooKeeper 3.6): a watch per node instead.
    need_watch_ = false;
    persistent_ = false;
    co_return ErrorCode::kOk;
  }
  if (!added) co_return added.error();
  need_watch_ = false;
  persistent_ = true;
  resync_ = true;  // events were missed while there was no watch
  co_return ErrorCode::kOk;
}

// ------------------------------------------------------------------ watches

client::Watcher TreeCacheCore::one_shot_watcher(bool child) {
  // Weak: the client keeps a one-shot watcher until it fires, which must not keep us alive.
  std::weak_ptr<TreeCacheCore> weak = shared_from_this();
  return [weak, child](const WatchEvent& e) {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->strand_, [self, child, e] {
      // Every event, a removal included, consumes the watch; the read that follows re-arms it.
      (child ? self->child_armed_ : self->data_armed_).erase(e.path);
      bool list = child && e.type != EventType::kNodeDeleted;
      self->on_event(list ? Op::kChildren : Op::kNode, e);
    });
  };
}

client::Watcher TreeCacheCore::persistent_watcher() {
  std::weak_ptr<TreeCacheCore> weak = shared_from_this();
  return [weak](const WatchEvent& e) {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->strand_, [self, e] {
      if (e.type == EventType::kPersistentWatchRemoved) {
        // Someone removed the watches on the root: add ours again and catch up.
        if (self->persistent_ && !self->closed_) self->need_watch_ = true;
        return self->wake_->notify();
      }
      self->on_event(Op::kNode, e);
    });
  };
}

void TreeCacheCore::on_event(Op op, const WatchEvent& e) {
  if (closed_ || stopped_) return;
  int depth = depth_of(e.path);
  if (depth < 0 || !within(depth)) return;
  enqueue(op, e.path);
}

void TreeCacheCore::enqueue(Op op, const std::string& path) {
  if (!queued_.emplace(op, path).second) return;  // already waiting: its read is still ahead
  queue_.emplace_back(op, path);
  wake_->notify();
}

// ------------------------------------------------------------------ reads

awaitable<Result<DataResult>> TreeCacheCore::read_data(const std::string& path) {
  const bool arm = !persistent_ && !data_armed_.count(path);
  auto got = co_await retrying(
      [&] { return client_.get(path, arm ? one_shot_watcher(false) : nullptr, use_awaitable); });
  if (arm && got.ok()) data_armed_.insert(path);
  co_return got;
}

awaitable<Result<client::ChildrenResult>> TreeCacheCore::read_children(const std::string& path) {
  const bool arm = !persistent_ && !child_armed_.count(path);
  auto listed = co_await retrying([&] {
    return client_.children(path, arm ? one_shot_watcher(true) : nullptr, use_awaitable);
  });
  if (arm && listed.ok()) child_armed_.insert(path);
  co_return listed;
}

awaitable<ErrorCode> TreeCacheCore::sync_node(std::string path) {
  const int depth = depth_of(path);
  // A node whose parent is not cached is found by the parent's load (or was already gone).
  if (!store_.contains(path) && path != root_ && !store_.contains(parent_path(path)))
    co_return ErrorCode::kOk;
  auto got = co_await read_data(path);
  co_return co_await absorb(path, depth, std::move(got), false);
}

awaitable<ErrorCode> TreeCacheCore::sync_subtree(std::string path, int depth) {
  auto got = co_await read_data(path);
  co_return co_await absorb(path, depth, std::move(got), true);
}

awaitable<ErrorCode> TreeCacheCore::absorb(std::string path, int depth, Result<DataResult> got,
                                           bool all) {
  if (got.error() == ErrorCode::kNoNode) co_return co_await gone(path);
  if (!got) co_return got.error();
  auto cached = store_.get(path);
  // Another czxid: deleted and created again between two reads; the old subtree went too.
  if (cached && cached->stat.czxid != got->stat.czxid) removed(path);
  const bool fresh = !cached || cached->stat.czxid != got->stat.czxid;
  const int32_t num_children = got->stat.num_children;
  put(path, NodeData{std::move(got->data), got->stat});
  if (!children_wanted(depth) || (!fresh && !all)) co_return ErrorCode::kOk;
  co_return co_await sync_children(path, depth, true, num_children);
}

awaitable<ErrorCode> TreeCacheCore::sync_children(std::string path, int depth, bool all,
                                                  int32_t hint) {
  if (!store_.contains(path) || !children_wanted(depth)) co_return ErrorCode::kOk;
  std::vector<std::string> names;
  // With the persistent watch a node that had no children when read needs no list: the
  // creation of a child is an event of its own. One-shot watches need the list's watch.
  if (!persistent_ || hint != 0) {
    auto listed = co_await read_children(path);
    if (listed.error() == ErrorCode::kNoNode) co_return co_await gone(path);
    if (!listed) co_return listed.error();
    names = std::move(listed->children);
  }
  std::sort(names.begin(), names.end());
  const auto before = store_.children(path);
  for (const auto& old : before)
    if (!std::binary_search(names.begin(), names.end(), old)) removed(join_path(path, old));
  for (const auto& name : names) {
    if (!all && std::binary_search(before.begin(), before.end(), name)) continue;
    // A child gone before its read comes back as ZNONODE: nothing to report.
    auto err = co_await sync_subtree(join_path(path, name), depth + 1);
    if (err != ErrorCode::kOk) co_return err;
  }
  co_return ErrorCode::kOk;
}

awaitable<ErrorCode> TreeCacheCore::gone(std::string path) {
  removed(path);
  if (path == root_ && !persistent_) co_return co_await watch_root_creation();
  co_return ErrorCode::kOk;
}

awaitable<ErrorCode> TreeCacheCore::watch_root_creation() {
  const bool arm = !data_armed_.count(root_);
  auto there = co_await retrying([&] {
    return client_.exists(root_, arm ? one_shot_watcher(false) : nullptr, use_awaitable);
  });
  if (arm && (there.ok() || there.error() == ErrorCode::kNoNode)) data_armed_.insert(root_);
  if (there.ok()) co_return co_await sync_subtree(root_, 0);  // created meanwhile
  co_return there.error() == ErrorCode::kNoNode ? ErrorCode::kOk : there.error();
}

// ------------------------------------------------------------------ the cache and events

void TreeCacheCore::put(const std::string& path, NodeData node) {
  if (auto kind = store_.put(path, node)) emit(*kind, path, std::move(node));
}

void TreeCacheCore::removed(const std::string& path) {
  for (auto& [p, node] : store_.remove_subtree(path))
    emit(TreeCacheEventKind::kNodeRemoved, std::move(p), std::move(node));
}

void TreeCacheCore::emit(TreeCacheEventKind kind, std::string path, NodeData node) {
  std::lock_guard lock(listener_mu_);
  if (closed_ || !listener_) return;
  listener_(TreeCacheEvent{kind, std::move(path), std::move(node)});
}

int TreeCacheCore::depth_of(const std::string& path) const {
  if (path == root_) return 0;
  const std::string prefix = root_ == "/" ? "/" : root_ + "/";
  if (path.compare(0, prefix.size(), prefix) != 0) return -1;
  return 1 + static_cast<int>(std::count(path.begin() + prefix.size(), path.end(), '/'));
}

}  // namespace detail

// ------------------------------------------------------------------ TreeCache

TreeCache::TreeCache(client::Client& client, std::string root, TreeCacheOptions options)
    : root_(std::move(root)),
      core_(std::make_shared<detail::TreeCacheCore>(client, root_, options)) {}

TreeCache::~TreeCache() { close(); }

asio::any_io_executor TreeCache::executor() const { return core_->client().executor(); }
void TreeCache::start_impl(Done<void> done) { core_->start(std::move(done)); }
void TreeCache::close() { core_->close(); }
void TreeCache::close_impl(Done<void> done) { core_->close(std::move(done)); }
void TreeCache::on_event(TreeCacheListener listener) { core_->set_listener(std::move(listener)); }
std::optional<NodeData> TreeCache::get(const std::string& path) const {
  return core_->store().get(path);
}
std::vector<std::string> TreeCache::children(const std::string& path) const {
  return core_->store().children(path);
}
size_t TreeCache::size() const { return core_->store().size(); }
std::map<std::string, NodeData> TreeCache::snapshot() const { return core_->store().snapshot(); }
bool TreeCache::running() const { return core_->running(); }
bool TreeCache::persistent_watch() const { return core_->persistent(); }

}  // namespace corral::recipes
