// Reads one node over and over on its own connection and thread, timing each read. A read
// waits for no disk and no quorum, so a server whose event loop stopped shows it as one long
// read.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/raw_client.h"

namespace corral::e2e {

/// getData of one path, one in flight, until stopped.
class ReadProbe {
 public:
  /// Starts reading `path` through `client` (after its handshake), which it then owns the use of.
  ReadProbe(RawClient& client, std::string path);
  /// Stops and joins: a test that returns early leaves no thread behind.
  ~ReadProbe();
  ReadProbe(const ReadProbe&) = delete;
  ReadProbe& operator=(const ReadProbe&) = delete;

  /// Stops reading; what follows is final.
  void stop();
  /// False when a read failed or went unanswered within the client's deadline.
  bool ok() const { return ok_; }
  /// Each read's duration in ms, shortest first (after stop()).
  std::vector<double> sorted_ms() const;

 private:
  void run();

  RawClient& client_;
  const std::string path_;
  std::atomic<bool> stop_{false};
  std::vector<double> ms_;
  bool ok_ = true;
  std::jthread thread_;  // last: it starts once the rest is ready
};

}  // namespace corral::e2e
