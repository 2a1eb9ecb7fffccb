#include "paths.h"

#include "corral/recipes/node_names.h"

namespace corral::recipes::detail {

using client::CreateMode;
using client::CreateResult;

awaitable<ErrorCode> ensure_path(Client& client, std::string path, bool container) {
  if (path == "/") co_return ErrorCode::kOk;
  auto there = co_await retrying([&] { return client.exists(path, nullptr, use_awaitable); });
  if (there.ok()) co_return ErrorCode::kOk;
  if (there.error() != ErrorCode::kNoNode) co_return there.error();
  auto up = co_await ensure_path(client, parent_path(path), container);
  if (up != ErrorCode::kOk) co_return up;
  client::CreateOptions options(container ? CreateMode::kContainer : CreateMode::kPersistent);
  auto made = co_await retrying([&] { return client.create(path, "", options, use_awaitable); });
  if (made.error() == ErrorCode::kUnimplemented && container) {
    client::CreateOptions plain(CreateMode::kPersistent);
    made = co_await retrying([&] { return client.create(path, "", plain, use_awaitable); });
  }
  if (made.ok() || made.error() == ErrorCode::kNodeExists) co_return ErrorCode::kOk;
  co_return made.error();
}

awaitable<Result<CreateResult>> create_with_parents(Client& client, std::string path,
                                                    std::string data, CreateMode mode) {
  client::CreateOptions options(mode);
  bool idempotent = !client::is_sequential(mode) && !client::is_ephemeral(mode);
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Not `c ? co_await a : co_await b`: g++ 12 destroys that temporary twice (free(): invalid
    // pointer), as with GCC bug 100611.
    Result<CreateResult> made = ErrorCode::kSystemError;
    if (idempotent)
      made = co_await retrying([&] { return client.create(path, data, options, use_awaitable); });
    else
      made = co_await client.create(path, data, options, use_awaitable);
    if (made.error() != ErrorCode::kNoNode) co_return made;
    auto up = co_await ensure_path(client, parent_path(path));
    if (up != ErrorCode::kOk) co_return up;
  }
  // The parent is a container that was reaped between ensure_path and the create: once more.
  co_return co_await client.create(path, data, options, use_awaitable);
}

awaitable<Result<CreateResult>> create_protected_with_parents(Client& client, std::string path,
                                                              std::string data, CreateMode mode) {
  client::CreateOptions options(mode);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto made = co_await client.create_protected(path, data, options, use_awaitable);
    if (made.error() != ErrorCode::kNoNode) co_return made;
    auto up = co_await ensure_path(client, parent_path(path));
    if (up != ErrorCode::kOk) co_return up;
  }
  co_return ErrorCode::kNoNode;
}

awaitable<ErrorCode> create_own_ephemeral(Client& client, const std::string& path,
                                          const std::string& data) {
  for (int attempt = 1;; ++attempt) {
    auto made = co_await create_with_parents(client, path, data, CreateMode::kEphemeral);
    if (made.ok()) co_return ErrorCode::kOk;
    if (made.error() == ErrorCode::kNodeExists) {
      auto there = co_await retrying([&] { return client.exists(path, nullptr, use_awaitable); });
      if (there.ok()) {
        co_return there->ephemeral_owner == client.session_id() ? ErrorCode::kOk
                                                                : ErrorCode::kNodeExists;
      }
      if (there.error() != ErrorCode::kNoNode) co_return there.error();
      continue;  // gone again meanwhile: create it once more
    }
    if (!client::retryable(made.error()) || attempt >= client::RetryPolicy{}.max_attempts)
      co_return made.error();
    co_await sleep_for(std::chrono::milliseconds(100 * attempt));
  }
}

}  // namespace corral::recipes::detail
