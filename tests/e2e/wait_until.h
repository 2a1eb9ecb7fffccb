// Waiting in the end-to-end tests: a condition polled until it holds, never a fixed sleep.
#pragma once

#include <chrono>
#include <thread>

namespace corral::e2e {

/// Polls `done` every `every` until it holds (true) or `timeout` passes (false).
template <class F>
bool wait_until(std::chrono::steady_clock::duration timeout, F&& done,
                std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace corral::e2e
