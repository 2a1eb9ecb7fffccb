#include "corral/recipes/distributed_queue.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "corral/recipes/node_names.h"
#include "paths.h"
#include "waiting_core.h"

namespace corral::recipes {
namespace detail {

using client::ConnectionState;
using client::CreateMode;

namespace {

constexpr std::string_view kItemMarker = "qn-";
constexpr std::string_view kClaimPrefix = "claim-";

/// What an item is ordered by: its name after the marker (priority and sequence number),
/// so the protected prefix does not count. Empty for nodes that are not items.
std::string_view order_key(std::string_view name) {
  if (name.substr(0, kClaimPrefix.size()) == kClaimPrefix) return {};
  auto at = name.find(kItemMarker);
  return at == std::string_view::npos ? std::string_view{} : name.substr(at + kItemMarker.size());
}

std::vector<std::string> items_in_order(std::vector<std::string> names) {
  std::erase_if(names, [](const std::string& n) { return order_key(n).empty(); });
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return order_key(a) < order_key(b); });
  return names;
}

std::string nonce() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

}  // namespace

/// A queue's takers' shared state, on a strand of the client's executor; takers sleep on
/// `wake`, notified by the child watch, cancel() and the loss of the session.
class QueueCore : public WaitingCore, public std::enable_shared_from_this<QueueCore> {
 public:
  QueueCore(Client& client, std::string path) : WaitingCore(client), path(std::move(path)) {}

  void start() { watch_session(shared_from_this()); }

  void cancel() { cancel_waits(shared_from_this()); }

  awaitable<Result<std::string>> put(std::string data, std::string stem) {
    auto made = co_await create_protected_with_parents(client, join_path(path, stem), data,
                                                       CreateMode::kPersistentSequential);
    if (!made) co_return made.error();
    co_return made->path;
  }

  awaitable<Result<std::string>> take(std::chrono::milliseconds timeout) {
    const auto deadline = timeout.count() < 0 ? Clock::time_point::max() : Clock::now() + timeout;
    const uint64_t epoch = cancel_epoch;
    for (;;) {
      const uint64_t seen = wake->generation();
      if (epoch != cancel_epoch) co_return ErrorCode::kClosing;
      if (lost) co_return ErrorCode::kSessionExpired;
      auto items = co_await list_watched();
      if (!items) co_return items.error();
      for (const auto& name : *items) {
        auto taken = co_await take_one(name);
        if (taken.error() != ErrorCode::kNoNode) co_return taken;  // ours, or a real error
      }
      // Every item went to another taker meanwhile: look again before sleeping.
      if (!items->empty()) continue;
      if (!co_await wake->wait(seen, deadline)) co_return ErrorCode::kOperationTimeout;
    }
  }

  /// The items in order, leaving a watch that wakes us when the children change (or the
  /// queue's node is created, when it does not exist).
  awaitable<Result<std::vector<std::string>>> list_watched() {
    for (;;) {
      auto listed =
          co_await retrying([&] { return client.children(path, wake->watcher(), use_awaitable); });
      if (listed) co_return items_in_order(std::move(listed->children));
      if (listed.error() != ErrorCode::kNoNode) co_return listed.error();
      auto there =
          co_await retrying([&] { return client.exists(path, wake->watcher(), use_awaitable); });
      if (there.error() == ErrorCode::kNoNode) co_return std::vector<std::string>{};
      if (!there) co_return there.error();
    }
  }

  /// Takes the item `name`: its data, or ZNONODE when another taker got it first.
  awaitable<Result<std::string>> take_one(const std::string& name) {
    const std::string item = join_path(path, name);
    auto got = co_await retrying([&] { return client.get(item, nullptr, use_awaitable); });
    if (!got) co_return got.error();
    const std::string claim = join_path(path, std::string(kClaimPrefix) + name);
    const std::string mine = nonce();
    client::Multi ops;
    ops.remove(item, got->stat.version).create(claim, mine, CreateMode::kEphemeral);
    auto done = co_await client.multi(std::move(ops), use_awaitable);
    if (client::retryable(done.error())) {
      // The reply was lost: our claim, if there, says the take went through.
      auto synced = co_await retrying([&] { return client.sync(path, use_awaitable); });
      if (!synced) co_return synced.error();
      auto claimed = co_await retrying([&] { return client.get(claim, nullptr, use_awaitable); });
      if (!claimed.ok() && claimed.error() != ErrorCode::kNoNode) co_return claimed.error();
      if (!claimed.ok() || claimed->data != mine) co_return ErrorCode::kNoNode;
    } else if (!done) {
      const auto e = done.error();
      bool lost_race =
          e == ErrorCode::kNoNode || e == ErrorCode::kBadVersion || e == ErrorCode::kNodeExists;
      co_return lost_race ? ErrorCode::kNoNode : e;
    }
    // The claim only told a taker whose reply was lost that the item is its own.
    co_await retrying([&] { return client.remove(claim, -1, use_awaitable); });
    co_return std::move(got->data);
  }

  const std::string path;
  // On the strand.
};

}  // namespace detail

using detail::awaitable;
using detail::QueueCore;

DistributedQueue::DistributedQueue(client::Client& client, std::string path)
    : core_(std::make_shared<QueueCore>(client, std::move(path))) {
  core_->start();
}

DistributedQueue::~DistributedQueue() { core_->cancel(); }

asio::any_io_executor DistributedQueue::executor() const { return core_->client.executor(); }
const std::string& DistributedQueue::path() const { return core_->path; }
void DistributedQueue::cancel() { core_->cancel(); }

void DistributedQueue::put_impl(std::string data, Done<std::string> done, std::string stem) {
  // The coroutine holds the core (not `this`): the queue object may go first.
  detail::spawn<std::string>(
      core_->strand,
      [](std::shared_ptr<QueueCore> core, std::string d,
         std::string s) -> awaitable<Result<std::string>> {
        co_return co_await core->put(d, s);
      }(core_, std::move(data), std::move(stem)),
      std::move(done));
}

void DistributedQueue::take_impl(std::chrono::milliseconds timeout, Done<std::string> done) {
  detail::spawn<std::string>(
      core_->strand,
      [](std::shared_ptr<QueueCore> core, std::chrono::milliseconds t)
          -> awaitable<Result<std::string>> { co_return co_await core->take(t); }(core_, timeout),
      std::move(done));
}

PriorityQueue::PriorityQueue(client::Client& client, std::string path)
    : DistributedQueue(client, std::move(path)) {}

std::string PriorityQueue::priority_stem(int32_t priority) {
  // Curator's priorityToString: a leading 0 for negative priorities, 1 for the others,
  // then the 32-bit two's complement in 8 hex digits, so names sort by priority.
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%08X", priority >= 0 ? '1' : '0',
                static_cast<uint32_t>(priority));
  return std::string(detail::kItemMarker) + buf;
}

}  // namespace corral::recipes
