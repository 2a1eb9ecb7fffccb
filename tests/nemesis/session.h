// One client session of the nemesis workload: Corral's client (BlockingClient's thread and
// async API) where every call has a deadline, so a request stuck behind a fault ends as "no
// answer" instead of blocking the worker. A session that missed a deadline or expired is
// broken(): its worker replaces it with a new session (a new client in the history).
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "corral/client/blocking.h"
#include "corral/client/client.h"

namespace corral::nemesis {

using client::ErrorCode;
using client::Result;

/// True when a failed call may still have taken effect (no definite answer).
bool indefinite(ErrorCode e);

/// A client session with per-call deadlines.
class Session {
 public:
  /// How long one call may take before it counts as unanswered.
  static constexpr std::chrono::milliseconds kCallDeadline{4000};

  /// Connects to `connect_string` asking for `session_timeout`; check connected().
  Session(const std::string& connect_string, std::chrono::milliseconds session_timeout,
          std::chrono::milliseconds connect_deadline = std::chrono::milliseconds(5000));

  /// True once the session was established.
  bool connected() const { return connected_; }
  /// True after a call missed its deadline or the session expired: stop using it.
  bool broken() const { return broken_; }

  /// Each call's result, or nullopt when it missed its deadline (the session is then broken).
  std::optional<Result<client::DataResult>> get(const std::string& path);
  /// exists without a watch.
  std::optional<Result<client::Stat>> exists(const std::string& path);
  /// setData from `version` (-1: any).
  std::optional<Result<client::Stat>> set(const std::string& path, const std::string& data,
                                          int32_t version);
  /// create with open ACLs.
  std::optional<Result<client::CreateResult>> create(const std::string& path,
                                                     const std::string& data,
                                                     client::CreateMode mode);
  /// sync: the server catches up with the leader before the session's next read.
  std::optional<Result<void>> sync(const std::string& path);
  /// getChildren without a watch.
  std::optional<Result<client::ChildrenResult>> children(const std::string& path);

 private:
  template <typename T>
  std::optional<T> wait(std::future<T> f);

  client::BlockingClient client_;
  bool connected_ = false;
  bool broken_ = false;
};

}  // namespace corral::nemesis
