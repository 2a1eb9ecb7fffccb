// Where a recipe keeps its user's listeners (internal): calls and clear() exclude each other,
// so once clear() returns no call is under way or will start (a recipe's destructor relies on
// it); recursive, so a listener may clear the slot (close its recipe) from inside a call.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace corral::recipes::detail {

/// Listeners of one signature, called in the order they were added.
template <typename... Args>
class ListenerSlot {
 public:
  /// Replaces every listener by `f`.
  void set(std::function<void(Args...)> f) {
    std::lock_guard lock(mu_);
    listeners_.clear();
    if (f) listeners_.push_back(std::move(f));
  }
  /// Adds `f` after the others.
  void add(std::function<void(Args...)> f) {
    std::lock_guard lock(mu_);
    if (f) listeners_.push_back(std::move(f));
  }
  /// Drops every listener; waits for a call under way on another thread.
  void clear() {
    std::lock_guard lock(mu_);
    listeners_.clear();
    cleared_ = true;
  }
  /// Calls every listener (nothing once cleared).
  void call(Args... args) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < listeners_.size() && !cleared_; ++i) listeners_[i](args...);
  }
  /// True if a listener is set.
  bool any() {
    std::lock_guard lock(mu_);
    return !listeners_.empty();
  }

 private:
  std::recursive_mutex mu_;
  std::vector<std::function<void(Args...)>> listeners_;
  bool cleared_ = false;
};

}  // namespace corral::recipes::detail
