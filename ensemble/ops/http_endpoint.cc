#include "ensemble/ops/http_endpoint.h"

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>

#include <future>
#include <stdexcept>

namespace corral::ops {

namespace http = web::http;
using http::experimental::listener::http_listener;

struct HttpEndpoint::State {
  Post post;
  Handler handler;
  std::chrono::milliseconds timeout;
  std::unique_ptr<http_listener> listener;
  bool open = false;
};

namespace {

// Runs `handler` on the core's thread and waits for its answer.
HttpReply answer_on_core(const std::shared_ptr<HttpEndpoint::Handler>& handler,
                         const HttpEndpoint::Post& post, std::string path,
                         std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<HttpReply>>();
  auto future = promise->get_future();
  post([handler, promise, path = std::move(path)] {
    try {
      promise->set_value((*handler)(path));
    } catch (const std::exception& e) {
      promise->set_value({500, "text/plain", std::string("internal error: ") + e.what() + "\n"});
    }
  });
  if (future.wait_for(timeout) != std::future_status::ready)
    return {503, "text/plain", "the server did not answer in time\n"};
  return future.get();
}

}  // namespace

HttpEndpoint::HttpEndpoint(Post post, std::string host, int port, Handler handler,
                           std::chrono::milliseconds timeout)
    : url_("http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port)),
      state_(std::make_shared<State>(
          State{std::move(post), std::move(handler), timeout, nullptr, false})) {}

HttpEndpoint::~HttpEndpoint() { close(); }

void HttpEndpoint::open() {
  http::experimental::listener::http_listener_config config;
  config.set_timeout(std::chrono::duration_cast<std::chrono::seconds>(state_->timeout) +
                     std::chrono::seconds(1));
  state_->listener = std::make_unique<http_listener>(url_, config);
  // The handler is shared with requests in flight, which may outlive a closed endpoint.
  auto handler = std::make_shared<Handler>(state_->handler);
  Post post = state_->post;
  auto timeout = state_->timeout;
  state_->listener->support([handler, post, timeout](const http::http_request& request) {
    if (request.method() != http::methods::GET && request.method() != http::methods::HEAD) {
      request.reply(http::status_codes::MethodNotAllowed, "only GET\n", "text/plain");
      return;
    }
    HttpReply reply =
        answer_on_core(handler, post, http::uri::decode(request.request_uri().path()), timeout);
    request.reply(reply.status, reply.body, reply.content_type);
  });
  try {
    state_->listener->open().wait();
  } catch (const std::exception& e) {
    state_->listener.reset();
    throw std::runtime_error("cannot listen on " + url_ + ": " + e.what());
  }
  state_->open = true;
}

void HttpEndpoint::close() {
  if (!state_->open) return;
  state_->open = false;
  try {
    state_->listener->close().wait();
  } catch (const std::exception& e) {
    spdlog::warn("closing {}: {}", url_, e.what());
  }
}

}  // namespace corral::ops
