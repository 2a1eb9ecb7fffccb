// An HTTP listener (cpprestsdk) whose answers are computed on the server core's thread: the
// core is single-threaded, so a request is posted to it and cpprestsdk's thread waits for the
// answer, up to a timeout. Nothing here touches core state on another thread. (cpprestsdk
// brings Boost.Asio, which cannot share a file with the core's standalone Asio: hence `post`.)
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace corral::ops {

/// What a handler answers.
struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
};

/// Answers GET requests on one address and port.
class HttpEndpoint {
 public:
  /// Runs on the core's thread with the request's decoded URL path.
  using Handler = std::function<HttpReply(const std::string& path)>;

  /// Runs a function on the core's thread (e.g. asio::post to its io_context).
  using Post = std::function<void(std::function<void()>)>;

  /// Serves http://`host`:`port`/ with `handler` run through `post`; a request the core does
  /// not answer within `timeout` gets 503.
  HttpEndpoint(Post post, std::string host, int port, Handler handler,
               std::chrono::milliseconds timeout);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  /// Starts listening. Throws std::runtime_error (naming the URL) when it cannot.
  void open();
  /// Stops listening. Call it once the core's thread no longer runs (requests waiting for it
  /// would otherwise hold the close up to the timeout).
  void close();
  /// The URL it listens on.
  const std::string& url() const { return url_; }

 private:
  struct State;
  std::string url_;
  std::shared_ptr<State> state_;
};

}  // namespace corral::ops
