// A configuration node that every process watches: each keeps the current value, learns
// of every change (in order, each once), and updates it with compare-and-set so that two
// editors never overwrite each other unknowingly.
//
//   ConfigNode cfg(client, "/config/search");
//   cfg.on_change([](const ConfigValue& v) { reload(v.data); });
//   co_await cfg.start(asio::use_awaitable);
//   auto now = cfg.current();
//   auto r = co_await cfg.update(now.version, R"({"replicas":3})", asio::use_awaitable);
//   if (r.error() == ErrorCode::kBadVersion) { /* someone else changed it first: re-read */ }
//
// Keep the Client alive as long as the ConfigNode.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "corral/client/client.h"
#include "corral/recipes/async.h"

namespace corral::recipes {

namespace detail {
class ConfigCore;
}

/// A config node's value: its data and version (-1 when the node does not exist), and the
/// zxid of the write that made it (what orders values, also across a delete and re-create).
struct ConfigValue {
  /// The node's data (empty when it does not exist).
  std::string data;
  /// The node's data version, for update() (-1: no node).
  int32_t version = -1;
  /// The zxid of the write that made this value (0: no node).
  int64_t mzxid = 0;
  /// True when the node exists.
  bool exists() const { return version >= 0; }
};

/// Called (on a strand of the client's executor, one call at a time) with each new value.
using ConfigListener = std::function<void(const ConfigValue&)>;

/// A watched config node on `path`.
class ConfigNode {
 public:
  /// A config node on `path` (not read until start()).
  ConfigNode(client::Client& client, std::string path);
  /// Stops watching; listeners are not called again.
  ~ConfigNode();
  ConfigNode(const ConfigNode&) = delete;
  ConfigNode& operator=(const ConfigNode&) = delete;

  /// Loads the node and starts watching it; the value loaded (a missing node is a value
  /// too: version -1). Listeners get it, then every later value in zxid order: a value is
  /// never delivered twice nor after a newer one; changes made in quick succession may
  /// arrive as the last of them only, and the last is always delivered.
  template <typename Token>
  auto start(Token&& token) {
    return detail::initiate<ConfigValue>(
        executor(), token, [this](Done<ConfigValue> done) { start_impl(std::move(done)); });
  }
  /// Writes `data` only if the node is still at `expected_version` (-1: only if it does not
  /// exist; it is then created with its parents). The new value, or ZBADVERSION when the
  /// node changed first. ZCONNECTIONLOSS when the write may or may not have happened.
  template <typename Token>
  auto update(int32_t expected_version, std::string data, Token&& token) {
    return detail::initiate<ConfigValue>(
        executor(), token,
        [this, expected_version, data = std::move(data)](Done<ConfigValue> done) mutable {
          update_impl(expected_version, std::move(data), std::move(done));
        });
  }
  /// update() with `value` serialised as JSON.
  template <typename Token>
  auto update_json(int32_t expected_version, const nlohmann::json& value, Token&& token) {
    return update(expected_version, dump_json(value), std::forward<Token>(token));
  }
  /// Adds a listener for new values (call before start() to see the first).
  void on_change(ConfigListener listener);

  /// The latest value seen (thread-safe).
  ConfigValue current() const;
  /// The latest value parsed as JSON: ZNONODE when the node does not exist,
  /// ZMARSHALLINGERROR when its data is not JSON. Never throws.
  Result<nlohmann::json> current_json() const;
  /// The node's path.
  const std::string& path() const { return path_; }

 private:
  static std::string dump_json(const nlohmann::json& value);
  asio::any_io_executor executor() const;
  void start_impl(Done<ConfigValue> done);
  void update_impl(int32_t expected_version, std::string data, Done<ConfigValue> done);

  std::string path_;
  std::shared_ptr<detail::ConfigCore> core_;
};

}  // namespace corral::recipes
