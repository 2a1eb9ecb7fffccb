// A blocking wrapper around Client for scripts, tools and tests: it owns an
// io_context on a thread of its own, and each call waits for its answer.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "corral/client/multi.h"
#include "corral/client/result.h"
#include "corral/client/types.h"

namespace corral::client {

class Client;
struct CreateOptions;

/// A Client whose calls wait for their answers. Watchers and state callbacks run on its
/// thread; they must not call back into this BlockingClient (use async() from there).
class BlockingClient {
 public:
  /// Starts connecting at once.
  explicit BlockingClient(Options options);
  /// Closes the session (waiting up to a second) and stops the thread.
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  /// Waits until the client is connected (or connected read-only); false on timeout or
  /// when the session was lost.
  bool wait_connected(std::chrono::milliseconds timeout);
  /// The asynchronous client underneath.
  Client& async();
  /// The connection's state now.
  ConnectionState state() const;

  Result<CreateResult> create(const std::string& path, const std::string& data,
                              CreateMode mode = CreateMode::kPersistent,
                              AclList acl = open_acl_unsafe(), int64_t ttl_ms = -1);
  /// See Client::create_protected.
  Result<CreateResult> create_protected(const std::string& path, const std::string& data,
                                        CreateMode mode, AclList acl = open_acl_unsafe());
  Result<void> remove(const std::string& path, int32_t version = -1);
  Result<Stat> exists(const std::string& path, Watcher watcher = nullptr);
  Result<DataResult> get(const std::string& path, Watcher watcher = nullptr);
  Result<Stat> set(const std::string& path, const std::string& data, int32_t version = -1);
  Result<ChildrenResult> children(const std::string& path, Watcher watcher = nullptr);
  Result<int32_t> descendant_count(const std::string& path);
  Result<AclResult> get_acl(const std::string& path);
  Result<Stat> set_acl(const std::string& path, AclList acl, int32_t version = -1);
  Result<void> sync(const std::string& path);
  Result<std::vector<OpResult>> multi(Multi ops);
  Result<void> add_watch(const std::string& path, AddWatchMode mode, Watcher watcher);
  Result<void> remove_watches(const std::string& path, WatcherType type);
  Result<std::vector<std::string>> ephemerals(const std::string& prefix);
  Result<std::vector<Identity>> who_am_i();
  /// See Client::reconfig.
  Result<DataResult> reconfig(ReconfigSpec spec);
  /// See Client::get_config.
  Result<DataResult> get_config(Watcher watcher = nullptr);
  Result<void> add_auth(const std::string& scheme, const std::string& credentials);
  Result<void> close();

 private:
  struct Runtime;
  std::unique_ptr<Runtime> rt_;
};

}  // namespace corral::client
