// A TCP relay on loopback for the end-to-end tests: it accepts connections on one port and
// joins each to a target port, copying bytes both ways, and can hold the bytes of either
// direction (they wait in the kernel's socket buffers, in order, until released). Put between
// ensemble members, it delays one member's view of the others' traffic without touching the
// servers: a learner that has not yet received its leader's COMMITs, for instance.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace corral::e2e {

/// Relays 127.0.0.1:listen_port to 127.0.0.1:target_port on a thread of its own.
class TcpProxy {
 public:
  /// Listens on `listen_port` (check ok()); connects each accepted connection to `target_port`.
  TcpProxy(uint16_t listen_port, uint16_t target_port);
  /// Stops the thread and closes every connection.
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  /// True when it listens.
  bool ok() const { return listener_ >= 0; }
  /// While true, bytes from the connecting side to the target are not passed on.
  void hold_forward(bool hold) { hold_forward_ = hold; }
  /// While true, bytes from the target back to the connecting side are not passed on.
  void hold_back(bool hold) { hold_back_ = hold; }
  /// Passes at most `bytes_per_second` through the proxy, both ways and every connection
  /// together (0: no limit), as a slow link would: its one thread sleeps after each part it
  /// passes for as long as that part would take.
  void limit_rate(size_t bytes_per_second) { rate_ = bytes_per_second; }

 private:
  void run();

  int listener_ = -1;
  uint16_t target_port_;
  std::atomic<bool> hold_forward_{false};
  std::atomic<bool> hold_back_{false};
  std::atomic<size_t> rate_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace corral::e2e
