// A 64-bit counter shared by every process that names the same path.
//
// Stored as Curator's DistributedAtomicLong stores it: the node's data is the value as 8
// bytes, big-endian (Java's ByteBuffer.putLong), and a missing node or empty data reads as
// 0; so a Java service using Curator's DistributedAtomicLong and a C++ service using Corral
// share one counter. (Curator's SharedCount uses 4 bytes instead and is not compatible.)
//
//   SharedCounter hits(client, "/counters/hits");
//   auto now = co_await hits.add(1, asio::use_awaitable);   // Result<int64_t>: the new value
//
// Keep the Client alive as long as the SharedCounter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "corral/client/client.h"
#include "corral/recipes/async.h"

namespace corral::recipes {

namespace detail {
struct CounterCore;
}

/// A counter's value and the node version it was read at (-1: the node does not exist).
struct CounterValue {
  /// The counter (0 when the node does not exist).
  int64_t value = 0;
  /// The node's data version, for compare_and_set (-1: no node).
  int32_t version = -1;
};

/// A shared int64 counter on `path`.
class SharedCounter {
 public:
  /// A counter on `path` (created, with its parents as containers, on the first write).
  SharedCounter(client::Client& client, std::string path);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  /// The value now, with its version. ZMARSHALLINGERROR when the node does not hold a
  /// counter (data neither empty nor 8 bytes).
  template <typename Token>
  auto get(Token&& token) {
    return detail::initiate<CounterValue>(
        executor(), token, [this](Done<CounterValue> done) { get_impl(std::move(done)); });
  }
  /// Adds `delta` (wrapping on overflow, as Java does) and returns the new value; retries
  /// on concurrent updates. ZCONNECTIONLOSS when the connection was lost and the add may
  /// or may not have happened.
  template <typename Token>
  auto add(int64_t delta, Token&& token) {
    return detail::initiate<int64_t>(
        executor(), token, [this, delta](Done<int64_t> done) { add_impl(delta, std::move(done)); });
  }
  /// Writes `value` only if the node is still at `expected_version` (-1: only if the node
  /// does not exist yet); the new value and version, or ZBADVERSION when it changed.
  template <typename Token>
  auto compare_and_set(int32_t expected_version, int64_t value, Token&& token) {
    return detail::initiate<CounterValue>(executor(), token,
                                          [this, expected_version, value](Done<CounterValue> done) {
                                            write_impl(expected_version, value, std::move(done));
                                          });
  }
  /// Writes `value` whatever the counter held; the new value and version.
  template <typename Token>
  auto set(int64_t value, Token&& token) {
    return detail::initiate<CounterValue>(executor(), token,
                                          [this, value](Done<CounterValue> done) {
                                            write_impl(kAnyVersion, value, std::move(done));
                                          });
  }
  /// The counter's path.
  const std::string& path() const { return path_; }

 private:
  static constexpr int32_t kAnyVersion = -2;
  asio::any_io_executor executor() const;
  void get_impl(Done<CounterValue> done);
  void add_impl(int64_t delta, Done<int64_t> done);
  void write_impl(int32_t expected_version, int64_t value, Done<CounterValue> done);

  std::string path_;
  std::shared_ptr<detail::CounterCore> core_;
};

}  // namespace corral::recipes
