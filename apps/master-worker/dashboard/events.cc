#include "apps/master-worker/dashboard/events.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace corral::mw {

struct EventHub::Core {
  std::mutex mu;
  std::condition_variable stop_cv;
  bool stopped = false;
  std::vector<std::shared_ptr<EventSink>> sinks;

  void remove(const std::shared_ptr<EventSink>& sink) {
    {
      std::lock_guard lock(mu);
      auto it = std::find(sinks.begin(), sinks.end(), sink);
      if (it == sinks.end()) return;
      sinks.erase(it);
    }
    sink->close();
  }
};

std::string sse_event(const std::string& type, const nlohmann::json& data) {
  // dump() escapes newlines, so the data is one line.
  return "event: " + type + "\ndata: " + data.dump() + "\n\n";
}

EventHub::EventHub(int ping_ms)
    : core_(std::make_shared<Core>()), pinger_([this, ping_ms] { ping_loop(ping_ms); }) {}

EventHub::~EventHub() { stop(); }

bool EventHub::add(const std::shared_ptr<EventSink>& sink, const std::string& first) {
  std::lock_guard lock(core_->mu);
  if (core_->stopped) return false;
  core_->sinks.push_back(sink);
  if (!first.empty()) sink->write(first);
  return true;
}

void EventHub::remove(const std::shared_ptr<EventSink>& sink) { core_->remove(sink); }

std::function<void()> EventHub::remover(const std::shared_ptr<EventSink>& sink) {
  std::weak_ptr<Core> weak = core_;
  return [weak, sink] {
    if (auto core = weak.lock()) core->remove(sink);
  };
}

void EventHub::publish(const std::string& type, const nlohmann::json& data) {
  broadcast(sse_event(type, data));
}

void EventHub::broadcast(const std::string& text) {
  std::vector<std::shared_ptr<EventSink>> gone;
  {
    std::lock_guard lock(core_->mu);
    for (auto& sink : core_->sinks)
      if (!sink->write(text)) gone.push_back(sink);
  }
  for (auto& sink : gone) remove(sink);
}

size_t EventHub::subscribers() const {
  std::lock_guard lock(core_->mu);
  return core_->sinks.size();
}

void EventHub::ping_loop(int ping_ms) {
  std::unique_lock lock(core_->mu);
  while (!core_->stopped) {
    if (core_->stop_cv.wait_for(lock, std::chrono::milliseconds(ping_ms),
                                [this] { return core_->stopped; }))
      break;
    lock.unlock();
    broadcast(": ping\n\n");
    lock.lock();
  }
}

void EventHub::stop() {
  std::vector<std::shared_ptr<EventSink>> all;
  {
    std::lock_guard lock(core_->mu);
    core_->stopped = true;
    all.swap(core_->sinks);
  }
  core_->stop_cv.notify_all();
  if (pinger_.joinable()) pinger_.join();
  for (auto& sink : all) sink->close();
}

}  // namespace corral::mw
