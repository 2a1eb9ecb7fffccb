// The TreeCache's engine (internal): its state and the one coroutine that keeps the
// TreeStore equal to the server's subtree.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "coro.h"
#include "corral/recipes/tree_cache.h"
#include "tree_cache_store.h"

namespace corral::recipes::detail {

using client::AddWatchMode;
using client::ConnectionState;
using client::DataResult;
using client::EventType;
using client::WatchEvent;

/// The TreeCache's state and its one coroutine, on a strand of the client's executor. Watch
/// events only queue the paths to read again; the coroutine reads them one at a time, so the
/// cache (and the listener) see the tree change in the order of the reads.
class TreeCacheCore : public std::enable_shared_from_this<TreeCacheCore> {
 public:
  TreeCacheCore(Client& client, std::string root, TreeCacheOptions options)
      : client_(client),
        strand_(asio::make_strand(client.executor())),
        root_(std::move(root)),
        options_(options),
        wake_(std::make_shared<Signal>(strand_)) {}

  /// Starts the coroutine; `done` once the subtree was first loaded (or the cache stopped).
  void start(Done<void> done);
  /// Stops: no listener call after this returns; the coroutine ends at its next step.
  void close();
  /// close(), then `done` once the coroutine has ended and the persistent watch is removed.
  void close(Done<void> done);
  /// Replaces the listener.
  void set_listener(TreeCacheListener listener) {
    std::lock_guard lock(listener_mu_);
    listener_ = std::move(listener);
  }
  /// The cached nodes (thread-safe).
  const TreeStore& store() const { return store_; }
  /// False once stopped or closed.
  bool running() const { return !stopped_.load() && !closed_.load(); }
  /// True when the persistent recursive watch is in use.
  /// True when the persistent recursive watch is in use.
  bool persistent() const { return persistent_.load(); }
  /// The client the cache reads with.
  Client& client() { return client_; }

 private:
  /// What an event asks to read again: the node (its data, or whether it is still there),
  /// or its children.
  enum class Op { kNode, kChildren };

  awaitable<Result<void>> follow(Done<void> started);
  awaitable<ErrorCode> step(bool& idle);
  awaitable<ErrorCode> add_persistent_watch();
  awaitable<ErrorCode> sync_node(std::string path);
  awaitable<ErrorCode> sync_subtree(std::string path, int depth);
  awaitable<ErrorCode> absorb(std::string path, int depth, Result<DataResult> got, bool all);
  awaitable<ErrorCode> sync_children(std::string path, int depth, bool all, int32_t hint);
  awaitable<ErrorCode> gone(std::string path);
  awaitable<ErrorCode> watch_root_creation();
  awaitable<Result<DataResult>> read_data(const std::string& path);
  awaitable<Result<client::ChildrenResult>> read_children(const std::string& path);

  client::Watcher one_shot_watcher(bool child);
  client::Watcher persistent_watcher();
  void on_event(Op op, const WatchEvent& e);
  void on_state(ConnectionState state);
  void enqueue(Op op, const std::string& path);
  void put(const std::string& path, NodeData node);
  void removed(const std::string& path);
  void emit(TreeCacheEventKind kind, std::string path = "", NodeData node = {});
  int depth_of(const std::string& path) const;
  bool within(int depth) const { return options_.max_depth < 0 || depth <= options_.max_depth; }
  bool children_wanted(int depth) const {
    return options_.max_depth < 0 || depth < options_.max_depth;
  }

  Client& client_;
  Strand strand_;
  const std::string root_;
  const TreeCacheOptions options_;
  std::shared_ptr<Signal> wake_;
  client::StateSubscription state_listener_;
  TreeStore store_;

  // On the strand.
  bool need_watch_ = false;  // the persistent watch is still to be added
  bool resync_ = true;       // the whole subtree is to be read again
  bool initialized_ = false;
  bool lost_ = false;
  bool finished_ = false;
  std::vector<Done<void>> closers_;
  std::deque<std::pair<Op, std::string>> queue_;
  std::set<std::pair<Op, std::string>> queued_;  // no path read twice for one burst
  // Our one-shot watches registered with the client: one per node and kind, never more
  // (the client keeps every watcher it is given until it fires).
  std::set<std::string> data_armed_, child_armed_;

  std::atomic<bool> persistent_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> closed_{false};
  std::atomic<bool> following_{false};
  // Held while the listener runs, so close() returns only when no call is under way;
  // recursive so that a listener may close the cache.
  std::recursive_mutex listener_mu_;
  TreeCacheListener listener_;
};

}  // namespace corral::recipes::detail
