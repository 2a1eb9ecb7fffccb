// A minimal HTTP/1.1 client over a plain socket for the REST tests: one request per
// connection (Connection: close), chunked bodies decoded, and an event-stream reader. Raw
// on purpose: the tests send what a library would refuse to (bad lengths, huge bodies).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace corral::mw::test {

/// An answer: status 0 when the server could not be reached or answered garbage.
struct HttpResponse {
  int status = 0;
  /// Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  /// The body as JSON (discarded when it is not JSON).
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

/// Sends `method target` with `body` (and Content-Length, unless `chunked`: then the body is
/// sent in 16 KiB chunks) to 127.0.0.1:port.
HttpResponse http(uint16_t port, const std::string& method, const std::string& target,
                  const std::string& body = "", bool chunked = false,
                  std::chrono::milliseconds timeout = std::chrono::seconds(15));

/// An open GET of an event stream; reads as data arrives.
class EventStream {
 public:
  /// Connects and sends the request; check ok().
  EventStream(uint16_t port, const std::string& target);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  bool ok() const { return fd_ >= 0; }
  /// Reads until `text` (everything received so far, headers included) contains `needle` at
  /// `from` or after, or `timeout` passes; true if it does.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout, size_t from = 0);
  /// Everything received so far.
  const std::string& text() const { return text_; }

 private:
  int fd_ = -1;
  std::string text_;
};

}  // namespace corral::mw::test
