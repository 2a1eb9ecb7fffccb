// A ZooKeeper client over a plain socket, for the end-to-end tests: it sends the bytes of
// jute_bytes.h (well-formed or not) and reads the server's frames with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace corral::e2e {

/// A server reply.
struct Reply {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  std::string body;
};

/// What a read of one node returned: its error code, data and Stat bytes (empty unless ZOK).
struct NodeView {
  int32_t err = 0;
  std::string data;
  std::string stat;
  bool operator==(const NodeView&) const = default;
};

/// The error code, the data's size and the Stat's fields, for test failure messages.
std::ostream& operator<<(std::ostream& os, const NodeView& v);

/// One TCP connection to the server; every call is synchronous, bounded by a deadline.
class RawClient {
 public:
  /// The deadline of each call unless the constructor is given another.
  static constexpr std::chrono::milliseconds kDefaultDeadline{5000};

  /// Connects to 127.0.0.1:`port`; check connected(). Each later call waits at most
  /// `deadline` for the server.
  explicit RawClient(uint16_t port, std::chrono::milliseconds deadline = kDefaultDeadline);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// True when the TCP connection was established.
  bool connected() const { return fd_ >= 0; }

  /// Writes all of `bytes`; false if the connection is gone.
  bool send(std::string_view bytes);

  /// Tells the server we will send nothing more (it sees end of input).
  void shutdown_write();

  /// The next frame's payload, or nullopt when the connection closed or nothing came in time.
  std::optional<std::string> read_frame();

  /// Sends a ConnectRequest; true when the server answers with a new session.
  bool handshake(int32_t timeout_ms = 30000);

  /// Sends a request with the next xid and reads its reply (skipping notifications).
  std::optional<Reply> call(int32_t op, std::string_view body = {});

  /// create with world:anyone ALL and `flags`: the error code, or nullopt without an answer.
  /// On ZOK the created path (sequential nodes get a suffix) goes to `created` if given.
  std::optional<int32_t> create(std::string_view path, std::string_view data, int32_t flags = 0,
                                std::string* created = nullptr);

  /// setData of any version: the error code, or nullopt without an answer.
  std::optional<int32_t> set_data(std::string_view path, std::string_view data);

  /// delete of any version: the error code, or nullopt without an answer.
  std::optional<int32_t> remove(std::string_view path);

  /// getData without a watch: error, data and Stat; nullopt without a well-formed answer.
  std::optional<NodeView> get_data(std::string_view path);

  /// exists without a watch: error and Stat; nullopt without a well-formed answer.
  std::optional<NodeView> exists(std::string_view path);

  /// True when the server closes the connection (read returns 0 or ECONNRESET) before
  /// the deadline. Bytes that arrive first are appended to `received`.
  bool wait_closed(std::string* received = nullptr);

 private:
  enum class Read { kData, kClosed, kTimeout };

  /// Appends what arrives next to in_.
  Read read_more(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::chrono::milliseconds deadline_;
  std::string in_;
  int32_t next_xid_ = 1;
};

/// Sends a four-letter word on a new connection: everything the server wrote before closing
/// it, or nullopt if the word could not be sent or the connection was not closed in `deadline`.
std::optional<std::string> four_letter_word(
    uint16_t port, std::string_view word,
    std::chrono::milliseconds deadline = RawClient::kDefaultDeadline);

}  // namespace corral::e2e
