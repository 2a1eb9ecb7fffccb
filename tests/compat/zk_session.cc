#include "zk_session.h"

namespace corral::compat {

ZkSession::ZkSession(std::string name, const std::string& hosts, int session_timeout_ms)
    : name_(std::move(name)) {
  void* ctx = watcher_ctx("default");
  zh_ = zookeeper_init(hosts.c_str(), &on_watch, session_timeout_ms, nullptr, ctx, 0);
}

ZkSession::~ZkSession() { close(); }

bool ZkSession::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [&] { return state_ == ZOO_CONNECTED_STATE; });
  if (ok) id_ = zoo_client_id(zh_)->client_id;
  return ok;
}

void ZkSession::close() {
  if (zh_ == nullptr) return;
  zookeeper_close(zh_);
  zh_ = nullptr;
}

void* ZkSession::watcher_ctx(const std::string& tag) {
  std::lock_guard lock(mu_);
  auto& slot = tags_[tag];
  if (!slot) slot = std::make_unique<Tag>(Tag{this, tag});
  return slot.get();
}

void ZkSession::on_watch(zhandle_t*, int type, int state, const char* path, void* ctx) {
  auto* tag = static_cast<Tag*>(ctx);
  tag->session->push(tag->name, type, state, path);
}

void ZkSession::push(const std::string& tag, int type, int state, const char* path) {
  std::lock_guard lock(mu_);
  if (type == ZOO_SESSION_EVENT) {
    state_ = state;
  } else {
    events_.push_back(WatchEvent{tag, type, state, path ? path : ""});
  }
  cv_.notify_all();
}

int ZkSession::last_state() {
  std::lock_guard lock(mu_);
  return state_;
}

void ZkSession::on_drained(int, const struct Stat*, const void* data) {
  auto* self = static_cast<ZkSession*>(const_cast<void*>(data));
  std::lock_guard lock(self->mu_);
  ++self->drains_done_;
  self->cv_.notify_all();
}

bool ZkSession::drain(std::chrono::milliseconds timeout) {
  // Asynchronous completions and watch events share one FIFO queue in the C client, so
  // once this completion has run, every event received before its reply has been delivered.
  int target;
  {
    std::lock_guard lock(mu_);
    target = drains_done_ + 1;
  }
  if (zoo_aexists(zh_, "/", 0, &on_drained, this) != ZOK) return false;
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return drains_done_ >= target; });
}

std::vector<WatchEvent> ZkSession::take_events(size_t count, std::chrono::milliseconds timeout) {
  if (count > 0) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= count; });
  }
  if (zh_ != nullptr) drain(std::chrono::seconds(10));
  std::lock_guard lock(mu_);
  std::vector<WatchEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace corral::compat
