// Many client connections at once for the overload and scale tests: non-blocking sockets
// driven by one epoll loop in the test's thread. Each connection sends what it is given and
// splits what it receives into frames, keeping only each frame's first bytes, so that a
// thousand 1 MiB replies cost the test no memory. Connections spread over the source
// addresses 127.0.0.1, .2, ... so that tens of thousands of them do not run out of ports.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::e2e {

/// Raises RLIMIT_NOFILE (soft and hard, as root may) to at least `n`; false if it cannot.
bool raise_open_files(uint64_t n);

/// The VmRSS or VmHWM line of /proc/`pid`/status, in KiB; -1 if unreadable.
int64_t proc_kib(int pid, std::string_view field);

/// N connections to 127.0.0.1:port in one epoll loop.
class Crowd {
 public:
  /// What the test learns of a received frame.
  struct Frame {
    int conn = 0;           ///< Which connection.
    std::string_view head;  ///< The payload's first bytes (up to kHeadBytes).
    size_t size = 0;        ///< The payload's whole size.
  };
  /// How many bytes of each payload Frame::head keeps.
  static constexpr size_t kHeadBytes = 256;

  /// The first source address by default: 127.0.0.1, in host byte order.
  static constexpr uint32_t kLoopback = 0x7f000001;

  /// Connections to 127.0.0.1:`port` from `first_source`, `first_source` + 1, ... (host byte
  /// order; several crowds in separate processes take separate ranges so that they do not
  /// share ephemeral ports); none open yet.
  explicit Crowd(uint16_t port, uint32_t first_source = kLoopback);
  ~Crowd();
  Crowd(const Crowd&) = delete;
  Crowd& operator=(const Crowd&) = delete;

  /// Opens `n` more connections, a few hundred connects in flight at a time; false if one
  /// failed or they did not all connect within `deadline`.
  bool open(int n, std::chrono::milliseconds deadline);
  /// Connections opened so far.
  int size() const { return static_cast<int>(conns_.size()); }
  /// Queues `frame` (length prefix included) on connection `i`; run() writes it.
  void send(int i, std::string_view frame);
  /// Handles I/O until `done()` holds (checked after each batch of events) or `deadline`
  /// passes; true when done.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline);

  /// Frames received so far on connection `i`, and in all.
  int64_t frames(int i) const { return conns_[i].frames; }
  int64_t total_frames() const { return total_frames_; }
  /// Connections the server closed (or reset).
  int closed() const { return closed_; }
  /// Called with every frame received.
  std::function<void(const Frame&)> on_frame;

 private:
  struct Conn {
    int fd = -1;
    bool connecting = true;
    bool closed = false;
    bool want_write = false;
    std::string out;
    size_t out_at = 0;
    char len_bytes[4] = {};
    size_t len_have = 0;
    size_t need = 0;  // payload bytes still to come of the current frame
    size_t size = 0;  // payload size of the current frame
    std::string head;
    int64_t frames = 0;
  };
  bool start_connect(Conn& c, int index);
  void on_event(int i, uint32_t events);
  void do_write(int i);
  void do_read(int i);
  void consume(int i, const char* p, size_t n);
  void mark_closed(int i);
  void update_interest(int i);

  uint16_t port_;
  uint32_t first_source_;
  int epoll_ = -1;
  std::vector<Conn> conns_;
  std::vector<char> buf_;
  int64_t total_frames_ = 0;
  int closed_ = 0;
  int connecting_ = 0;
};

}  // namespace corral::e2e
