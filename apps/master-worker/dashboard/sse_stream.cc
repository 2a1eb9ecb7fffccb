#include "apps/master-worker/dashboard/sse_stream.h"

#include <cpprest/producerconsumerstream.h>

namespace corral::mw {
namespace {

/// The most that may wait unread for one subscriber.
constexpr size_t kMaxBacklogBytes = 1 << 20;

/// A response body that the server reads as events are written.
class BufferSink : public EventSink {
 public:
  concurrency::streams::producer_consumer_buffer<uint8_t>& buffer() { return buffer_; }

  bool write(const std::string& text) override {
    if (!buffer_.can_write() || buffer_.in_avail() > kMaxBacklogBytes) return false;
    auto data = reinterpret_cast<const uint8_t*>(text.data());
    if (buffer_.putn_nocopy(data, text.size()).get() != text.size()) return false;
    // Without sync the server's reader waits for a whole chunk; with it, it takes what
    // there is at once.
    buffer_.sync().wait();
    return true;
  }

  void close() override {
    // The end of the body: the server ends the chunked response.
    if (buffer_.can_write()) buffer_.close(std::ios_base::out).wait();
  }

 private:
  concurrency::streams::producer_consumer_buffer<uint8_t> buffer_;
};

}  // namespace

void open_event_stream(const web::http::http_request& request, EventHub& hub,
                       const std::string& first) {
  auto sink = std::make_shared<BufferSink>();
  web::http::http_response response(web::http::status_codes::OK);
  response.headers().set_content_type("text/event-stream");
  response.headers().add("Cache-Control", "no-cache");
  response.headers().add("X-Accel-Buffering", "no");
  response.set_body(concurrency::streams::istream(sink->buffer()));
  // A comment first, so the headers and a first chunk go out at once.
  if (!hub.add(sink, ": connected\nretry: 2000\n\n" + first)) {
    request.reply(web::http::status_codes::ServiceUnavailable);
    return;
  }
  // The reply completes when the response ends: the client went (a write failed) or the
  // hub closed the stream.
  request.reply(response).then([remove = hub.remover(sink)](pplx::task<void> done) {
    try {
      done.get();
    } catch (...) {
      // A client that went away: nothing to report.
    }
    remove();
  });
}

}  // namespace corral::mw
