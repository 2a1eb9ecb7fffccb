// What the lock recipes (Mutex, ReadWriteLock, Semaphore) hand out and report.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace corral::recipes {

/// A granted lock.
struct Grant {
  /// The full path of the lock node this holder owns.
  std::string node;
  /// The lock node's creation zxid. Later holders of the same lock always get a larger
  /// token, so a downstream store that remembers the largest token it has seen can refuse
  /// writes from a holder that was cut off and replaced (fencing).
  int64_t fencing_token = 0;
};

/// What a holder learns about the safety of what it holds.
enum class HoldState {
  kSuspended,    ///< the connection is lost: the session (and the lock) may expire any moment
  kReconnected,  ///< the same session is back: the lock is still held
  kLost,         ///< the session expired: the lock is no longer held
};

/// "suspended", "reconnected" or "lost".
const char* hold_state_name(HoldState state);

/// Called (on the client's executor) when the state of a held lock changes.
using HoldListener = std::function<void(HoldState)>;

/// No timeout: wait for as long as it takes (or until cancelled).
inline constexpr std::chrono::milliseconds kWaitForever{-1};

}  // namespace corral::recipes
