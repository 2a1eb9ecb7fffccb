// The dashboard's event stream (GET /api/events): each event framed as Server-Sent Events
// and written to every open stream, and a `: ping` comment to all every 15 s. The streams
// themselves (HTTP responses) are sse_stream.h's.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace corral::mw {

/// "event: TYPE\ndata: JSON\n\n".
std::string sse_event(const std::string& type, const nlohmann::json& data);

/// Where one subscriber's bytes go.
class EventSink {
 public:
  virtual ~EventSink() = default;
  /// Queues `text` for the subscriber; false once it cannot take more (gone or too slow).
  virtual bool write(const std::string& text) = 0;
  /// Ends the stream.
  virtual void close() = 0;
};

/// Every open event stream. Thread-safe.
class EventHub {
 public:
  /// Starts the ping thread (a comment every `ping_ms`).
  explicit EventHub(int ping_ms = 15000);
  /// stop().
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  /// Adds a subscriber and writes `first` to it; false (sink untouched) once stopped.
  bool add(const std::shared_ptr<EventSink>& sink, const std::string& first);
  /// Removes a subscriber and closes its sink (nothing if it is not there).
  void remove(const std::shared_ptr<EventSink>& sink);
  /// A function that does remove(sink) if the hub still exists, for callbacks that may
  /// outlive it.
  std::function<void()> remover(const std::shared_ptr<EventSink>& sink);
  /// Sends an event to every subscriber; those that cannot take it are removed.
  void publish(const std::string& type, const nlohmann::json& data);
  /// Sends raw text (already framed) to every subscriber.
  void broadcast(const std::string& text);
  /// How many streams are open.
  size_t subscribers() const;
  /// Ends every stream and the ping thread.
  void stop();

 private:
  struct Core;
  void ping_loop(int ping_ms);

  std::shared_ptr<Core> core_;
  std::thread pinger_;
};

}  // namespace corral::mw
