#include "corral/recipes/shared_counter.h"

#include "paths.h"

namespace corral::recipes {
namespace detail {

using client::CreateMode;

/// What the counter's coroutines share; they run on `strand`.
struct CounterCore {
  CounterCore(Client& client, std::string path)
      : client(client), strand(asio::make_strand(client.executor())), path(std::move(path)) {}
  Client& client;
  Strand strand;
  const std::string path;
};

namespace {

constexpr int32_t kAnyVersion = -2;  // SharedCounter::kAnyVersion

/// Curator's DistributedAtomicLong layout: 8 bytes, big-endian.
std::string encode(int64_t value) {
  std::string out(8, '\0');
  auto u = static_cast<uint64_t>(value);
  for (int i = 7; i >= 0; --i, u >>= 8) out[i] = static_cast<char>(u & 0xff);
  return out;
}

/// Empty data (or none) is 0, as in Curator; other lengths are not a counter.
Result<int64_t> decode(const std::string& data) {
  if (data.empty()) return int64_t{0};
  if (data.size() != 8) return ErrorCode::kMarshallingError;
  uint64_t u = 0;
  for (unsigned char c : data) u = (u << 8) | c;
  return static_cast<int64_t>(u);
}

awaitable<Result<CounterValue>> read(CounterCore& core) {
  auto got = co_await retrying([&] { return core.client.get(core.path, nullptr, use_awaitable); });
  if (got.error() == ErrorCode::kNoNode) co_return CounterValue{};
  if (!got) co_return got.error();
  auto value = decode(got->data);
  if (!value) co_return value.error();
  co_return CounterValue{*value, got->stat.version};
}

/// setData at `version`. A versioned write cannot simply be sent again after a connection
/// loss (the first may have gone through, and the second then fails with ZBADVERSION): so
/// read the node back; if it is still at `version`, nothing was written and we try again,
/// otherwise the outcome is unknown (ZCONNECTIONLOSS).
awaitable<Result<client::Stat>> versioned_set(CounterCore& core, std::string data,
                                              int32_t version) {
  for (int attempt = 1;; ++attempt) {
    auto r = co_await core.client.set(core.path, data, version, use_awaitable);
    if (!client::retryable(r.error())) co_return r;
    if (attempt >= client::RetryPolicy{}.max_attempts) co_return ErrorCode::kConnectionLoss;
    co_await sleep_for(std::chrono::milliseconds(100 * attempt));
    auto synced = co_await retrying([&] { return core.client.sync(core.path, use_awaitable); });
    if (!synced) co_return ErrorCode::kConnectionLoss;
    auto now =
        co_await retrying([&] { return core.client.exists(core.path, nullptr, use_awaitable); });
    if (!now || now->version != version) co_return ErrorCode::kConnectionLoss;
  }
}

awaitable<Result<CounterValue>> write(CounterCore& core, int32_t expected, int64_t value) {
  const std::string data = encode(value);
  for (;;) {
    if (expected == -1) {
      auto made =
          co_await create_with_parents(core.client, core.path, data, CreateMode::kPersistent);
      if (made) co_return CounterValue{value, made->stat.version};
      co_return made.error() == ErrorCode::kNodeExists ? ErrorCode::kBadVersion : made.error();
    }
    if (expected >= 0) {
      auto set = co_await versioned_set(core, data, expected);
      if (set) co_return CounterValue{value, set->version};
      // A versioned write to a node that is gone: the version is stale.
      co_return set.error() == ErrorCode::kNoNode ? ErrorCode::kBadVersion : set.error();
    }
    // Unconditional: setting the same value again is harmless, so plain retries will do.
    auto set =
        co_await retrying([&] { return core.client.set(core.path, data, -1, use_awaitable); });
    if (set) co_return CounterValue{value, set->version};
    if (set.error() != ErrorCode::kNoNode) co_return set.error();
    auto made = co_await create_with_parents(core.client, core.path, data, CreateMode::kPersistent);
    if (made) co_return CounterValue{value, made->stat.version};
    if (made.error() != ErrorCode::kNodeExists) co_return made.error();
    // Created by someone else meanwhile: set it.
  }
}

awaitable<Result<int64_t>> add(std::shared_ptr<CounterCore> core, int64_t delta) {
  for (;;) {
    auto now = co_await read(*core);
    if (!now) co_return now.error();
    // Wraps like Java's long arithmetic rather than overflowing (undefined in C++).
    auto next =
        static_cast<int64_t>(static_cast<uint64_t>(now->value) + static_cast<uint64_t>(delta));
    auto written = co_await write(*core, now->version, next);
    if (written) co_return next;
    if (written.error() != ErrorCode::kBadVersion) co_return written.error();
  }
}

}  // namespace
}  // namespace detail

using detail::awaitable;
using detail::CounterCore;

SharedCounter::SharedCounter(client::Client& client, std::string path)
    : path_(std::move(path)), core_(std::make_shared<CounterCore>(client, path_)) {}

SharedCounter::~SharedCounter() = default;

asio::any_io_executor SharedCounter::executor() const { return core_->client.executor(); }

void SharedCounter::get_impl(Done<CounterValue> done) {
  detail::spawn<CounterValue>(
      core_->strand,
      [](std::shared_ptr<CounterCore> core) -> awaitable<Result<CounterValue>> {
        co_return co_await detail::read(*core);
      }(core_),
      std::move(done));
}

void SharedCounter::add_impl(int64_t delta, Done<int64_t> done) {
  detail::spawn<int64_t>(core_->strand, detail::add(core_, delta), std::move(done));
}

void SharedCounter::write_impl(int32_t expected_version, int64_t value, Done<CounterValue> done) {
  static_assert(kAnyVersion == detail::kAnyVersion);
  detail::spawn<CounterValue>(
      core_->strand,
      [](std::shared_ptr<CounterCore> core, int32_t v,
         int64_t x) -> awaitable<Result<CounterValue>> {
        co_return co_await detail::write(*core, v, x);
      }(core_, expected_version, value),
      std::move(done));
}

}  // namespace corral::recipes
