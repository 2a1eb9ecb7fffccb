// Model's insides (internal to model.cc and model_writes.cc): the session with its caches
// and the state kept on the model's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "apps/master-worker/dashboard/model.h"
#include "corral/client/client.h"
#include "corral/recipes/tree_cache.h"

namespace corral::mw {

/// One session with the ensemble and its caches (the Client outlives the caches).
struct ModelSession {
  uint64_t generation = 0;
  std::unique_ptr<client::Client> client;
  client::StateSubscription state;
  std::vector<std::unique_ptr<recipes::TreeCache>> caches;
  /// Caches whose first load is complete.
  size_t initialized = 0;
  bool reconnecting = false;
  RawTree raw;
};

/// The model's state; everything but `view` and `connected` is only touched on its thread.
struct Model::Impl {
  using Session = ModelSession;

  Impl(std::string connect_string, History& history, EventHub& hub,
       std::chrono::milliseconds session_timeout)
      : connect_string(std::move(connect_string)),
        session_timeout(session_timeout),
        history(history),
        hub(hub),
        view(std::make_shared<View>()) {}

  void connect();
  void schedule_reconnect(const std::shared_ptr<Session>& from, std::chrono::milliseconds delay);
  void on_cache_event(const std::shared_ptr<Session>& s, size_t which,
                      const recipes::TreeCacheEvent& event);
  /// The masters (active first) and the leader's start, from the /master cache.
  void list_masters(const std::shared_ptr<Session>& s);
  void schedule_recompute();
  void recompute();
  void publish_summary();
  void rescan();
  /// Starts archiving every finished task that is neither pending nor assigned.
  void archive_candidates();
  /// Checks with the ensemble that `task` is done with, stores it in the history, then
  /// deletes /status/T at `version`.
  asio::awaitable<void> archive(std::shared_ptr<Session> s, TaskView task, int32_t version);
  std::shared_ptr<const View> current_view() const {
    std::lock_guard lock(mu);
    return view;
  }

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::steady_timer summary_timer{io};
  asio::steady_timer rescan_timer{io};
  std::thread thread;

  const std::string connect_string;
  const std::chrono::milliseconds session_timeout;
  History& history;
  EventHub& hub;

  std::shared_ptr<Session> session;
  uint64_t generation = 0;
  bool stopping = false;
  bool recompute_posted = false;
  std::map<std::string, TaskOrigin> origins;
  /// Tasks being archived, and the /status versions archived and deleted.
  std::set<std::string> archiving;
  std::map<std::string, int32_t> archived_versions;
  nlohmann::json last_summary;
  std::chrono::steady_clock::time_point last_summary_at{};
  bool summary_timer_armed = false;

  mutable std::mutex mu;
  std::shared_ptr<const View> view;
  bool connected = false;
};

}  // namespace corral::mw
