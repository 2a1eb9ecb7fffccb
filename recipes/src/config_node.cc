#include "corral/recipes/config_node.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "listener_slot.h"
#include "paths.h"
#include "waiting_core.h"

namespace corral::recipes {
namespace detail {

using client::ConnectionState;
using client::CreateMode;

/// The watched value, on a strand of the client's executor. Every read (the watch's, and
/// the answer to our own update) goes through apply(), which keeps only values newer than
/// the newest seen: so listeners never see an old value after a newer one.
class ConfigCore : public WaitingCore, public std::enable_shared_from_this<ConfigCore> {
 public:
  ConfigCore(Client& client, std::string path) : WaitingCore(client), path(std::move(path)) {}

  void start_listening() { watch_session(shared_from_this()); }

  /// Stops watching; once it returns no listener call is under way or will start.
  void stop() {
    listeners.clear();
    asio::post(strand, [self = shared_from_this()] {
      self->stopped = true;
      self->wake->notify();
    });
  }

  ConfigValue value() const {
    std::lock_guard lock(mu);
    return current;
  }

  /// Makes `v` current and tells the listeners, unless it is not newer than what we have.
  void apply(const ConfigValue& v) {
    if (v.exists() ? v.mzxid <= newest_mzxid : (loaded && !value().exists())) return;
    if (v.exists()) newest_mzxid = v.mzxid;
    loaded = true;
    {
      std::lock_guard lock(mu);
      current = v;
    }
    listeners.call(v);
  }

  /// Reads the node, leaving a watch for its next change (or creation), and applies it.
  awaitable<ErrorCode> load() {
    for (;;) {
      auto got =
          co_await retrying([&] { return client.get(path, wake->watcher(), use_awaitable); });
      if (got) {
        apply({std::move(got->data), got->stat.version, got->stat.mzxid});
        co_return ErrorCode::kOk;
      }
      if (got.error() != ErrorCode::kNoNode) co_return got.error();
      // getData leaves no watch on a missing node: exists does, for its creation.
      auto there =
          co_await retrying([&] { return client.exists(path, wake->watcher(), use_awaitable); });
      if (there.ok()) continue;  // created meanwhile: read it
      if (there.error() != ErrorCode::kNoNode) co_return there.error();
      apply(ConfigValue{});
      co_return ErrorCode::kOk;
    }
  }

  awaitable<Result<ConfigValue>> start() {
    if (started) co_return value();
    started = true;  // a second start() meanwhile starts no second watch loop
    // Start from the latest value, not from a lagging server's older one.
    auto synced = co_await retrying([&] { return client.sync(path, use_awaitable); });
    if (!synced) {
      started = false;
      co_return synced.error();
    }
    uint64_t seen = wake->generation();
    auto loaded_now = co_await load();
    if (loaded_now != ErrorCode::kOk) {
      started = false;
      co_return loaded_now;
    }
    spawn<void>(strand, watch_loop(shared_from_this(), seen), [](Result<void>) {});
    co_return value();
  }

  static awaitable<Result<void>> watch_loop(std::shared_ptr<ConfigCore> self, uint64_t seen) {
    while (!self->stopped && !self->lost) {
      co_await self->wake->wait(seen, Clock::time_point::max());
      if (self->stopped || self->lost) break;
      seen = self->wake->generation();
      auto r = co_await self->load();
      if (r == ErrorCode::kOk) continue;
      if (session_gone(r)) break;
      // The ensemble is recovering: read again shortly (the watch may not be set).
      co_await sleep_for(std::chrono::milliseconds(200));
      self->wake->notify();
    }
    co_return ErrorCode::kOk;
  }

  /// setData at `version`; after a connection loss, sent again only if the node is still
  /// at `version` (otherwise the outcome is unknown: ZCONNECTIONLOSS).
  awaitable<Result<client::Stat>> versioned_set(const std::string& data, int32_t version) {
    for (int attempt = 1;; ++attempt) {
      auto r = co_await client.set(path, data, version, use_awaitable);
      if (!client::retryable(r.error())) co_return r;
      if (attempt >= client::RetryPolicy{}.max_attempts) co_return ErrorCode::kConnectionLoss;
      co_await sleep_for(std::chrono::milliseconds(100 * attempt));
      auto synced = co_await retrying([&] { return client.sync(path, use_awaitable); });
      if (!synced) co_return ErrorCode::kConnectionLoss;
      auto now = co_await retrying([&] { return client.exists(path, nullptr, use_awaitable); });
      if (!now || now->version != version) co_return ErrorCode::kConnectionLoss;
    }
  }

  awaitable<Result<ConfigValue>> update(int32_t expected, std::string data) {
    client::Stat stat;
    if (expected < 0) {
      auto made = co_await create_with_parents(client, path, data, CreateMode::kPersistent);
      if (!made)
        co_return made.error() == ErrorCode::kNodeExists ? ErrorCode::kBadVersion : made.error();
      stat = made->stat;
    } else {
      auto set = co_await versioned_set(data, expected);
      if (!set) co_return set.error() == ErrorCode::kNoNode ? ErrorCode::kBadVersion : set.error();
      stat = *set;
    }
    ConfigValue v{std::move(data), stat.version, stat.mzxid};
    apply(v);  // current() shows our write at once; the watch's read of it is then skipped
    co_return v;
  }

  const std::string path;
  mutable std::mutex mu;
  ConfigValue current;  // under mu
  // On the strand.
  ListenerSlot<const ConfigValue&> listeners;
  int64_t newest_mzxid = 0;
  bool loaded = false, started = false, stopped = false;
};

}  // namespace detail

using detail::awaitable;
using detail::ConfigCore;

ConfigNode::ConfigNode(client::Client& client, std::string path)
    : path_(std::move(path)), core_(std::make_shared<ConfigCore>(client, path_)) {
  core_->start_listening();
}

ConfigNode::~ConfigNode() { core_->stop(); }

asio::any_io_executor ConfigNode::executor() const { return core_->client.executor(); }

std::string ConfigNode::dump_json(const nlohmann::json& value) { return value.dump(); }

void ConfigNode::start_impl(Done<ConfigValue> done) {
  detail::spawn<ConfigValue>(
      core_->strand,
      [](std::shared_ptr<ConfigCore> core) -> awaitable<Result<ConfigValue>> {
        co_return co_await core->start();
      }(core_),
      std::move(done));
}

void ConfigNode::update_impl(int32_t expected_version, std::string data, Done<ConfigValue> done) {
  detail::spawn<ConfigValue>(
      core_->strand,
      [](std::shared_ptr<ConfigCore> core, int32_t v,
         std::string d) -> awaitable<Result<ConfigValue>> {
        co_return co_await core->update(v, std::move(d));
      }(core_, expected_version, std::move(data)),
      std::move(done));
}

void ConfigNode::on_change(ConfigListener listener) { core_->listeners.add(std::move(listener)); }

ConfigValue ConfigNode::current() const { return core_->value(); }

Result<nlohmann::json> ConfigNode::current_json() const {
  auto v = current();
  if (!v.exists()) return ErrorCode::kNoNode;
  auto parsed = nlohmann::json::parse(v.data, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return ErrorCode::kMarshallingError;
  return parsed;
}

}  // namespace corral::recipes
