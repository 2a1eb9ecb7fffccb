#include "corral/recipes/mutex.h"

#include "lock_core.h"

namespace corral::recipes {

const char* hold_state_name(HoldState state) {
  switch (state) {
    case HoldState::kSuspended:
      return "suspended";
    case HoldState::kReconnected:
      return "reconnected";
    case HoldState::kLost:
      return "lost";
  }
  return "?";
}

namespace {

/// Curator's lock node name ("_c_<id>-lock-<seq>" once protected) and kazoo's marker.
detail::QueueRule mutex_rule() { return {{"-lock-", "__lock__"}, detail::first_in_line}; }

}  // namespace

Mutex::Mutex(client::Client& client, std::string path, std::string id)
    : path_(std::move(path)),
      core_(
          std::make_shared<detail::LockCore>(client, path_, "lock-", std::move(id), mutex_rule())) {
  core_->start();
}

Mutex::Mutex(std::string path, std::shared_ptr<detail::LockCore> core)
    : path_(std::move(path)), core_(std::move(core)) {
  core_->start();
}

Mutex::~Mutex() {
  core_->close([](Result<void>) {});
}

asio::any_io_executor Mutex::executor() const { return core_->client().executor(); }
void Mutex::acquire_impl(std::chrono::milliseconds timeout, Done<Grant> done) {
  core_->acquire(timeout, std::move(done));
}
void Mutex::release_impl(Done<void> done) { core_->release(std::move(done)); }
void Mutex::participants_impl(Done<std::vector<std::string>> done) {
  core_->contenders(std::move(done));
}
void Mutex::cancel() { core_->cancel(); }
void Mutex::on_hold_state(HoldListener listener) { core_->set_listener(std::move(listener)); }
bool Mutex::held() const { return core_->held(); }
Grant Mutex::grant() const { return core_->grant(); }

}  // namespace corral::recipes
