// corral-load: a load generator speaking ZooKeeper's protocol through Apache's
// C client, so Corral and Apache ZooKeeper are measured with the same client.
//
//   corral-load HOST:PORT create N SIZE INFLIGHT   creates N znodes of SIZE bytes under /bench
//   corral-load HOST:PORT set N SIZE INFLIGHT      N setData calls on /bench-set
//   corral-load HOST:PORT latency N SIZE           N setData calls, one in flight; percentiles
//   corral-load HOST:PORT get N INFLIGHT           N getData calls on /bench-set
//   corral-load HOST:PORT probe PATH SECONDS       retries until getData(PATH) succeeds
// Prints one line: mode, ops, seconds, ops/s (and latency percentiles in µs for latency).
#define THREADED
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// Bounds the requests in flight and counts completions.
struct Window {
  std::mutex mu;
  std::condition_variable cv;
  long in_flight = 0;
  long done = 0;
  long failed = 0;
  int first_error = 0;

  void acquire(long max) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight < max; });
    ++in_flight;
  }
  void release(int rc) {
    std::lock_guard lock(mu);
    --in_flight;
    ++done;
    if (rc != ZOK && rc != ZNODEEXISTS) {
      ++failed;
      if (!first_error) first_error = rc;
    }
    cv.notify_all();
  }
  void wait_all(long total) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done >= total; });
  }
};

void on_string(int rc, const char*, const void* w) { ((Window*)w)->release(rc); }
void on_stat(int rc, const struct Stat*, const void* w) { ((Window*)w)->release(rc); }
void on_data(int rc, const char*, int, const struct Stat*, const void* w) {
  ((Window*)w)->release(rc);
}

zhandle_t* connect(const char* hosts) {
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zhandle_t* zh = zookeeper_init(hosts, nullptr, 30000, nullptr, nullptr, 0);
  for (int i = 0; i < 1000 && zoo_state(zh) != ZOO_CONNECTED_STATE; ++i) {
    struct Stat st;
    zoo_exists(zh, "/", 0, &st);  // drives the handshake; returns once connected or failed
  }
  if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
    std::fprintf(stderr, "corral-load: cannot connect to %s\n", hosts);
    std::exit(1);
  }
  return zh;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void report(const char* mode, long n, double secs, const Window& w) {
  std::printf("%s ops=%ld seconds=%.3f ops_per_sec=%.0f failed=%ld\n", mode, n, secs, n / secs,
              w.failed);
  if (w.failed) std::fprintf(stderr, "first error: %s\n", zerror(w.first_error));
}

/// True when the server at "host:port" answers the four-letter word ruok with imok.
bool answers_imok(const std::string& hosts) {
  auto colon = hosts.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(hosts.c_str() + colon + 1)));
  inet_pton(AF_INET, hosts.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      write(fd, "ruok", 4) == 4) {
    char buf[8] = {0};
    ok = read(fd, buf, 4) == 4 && std::string(buf, 4) == "imok";
  }
  close(fd);
  return ok;
}

/// Waits until the server answers ruok, then reads `path` until it succeeds
/// or `seconds` pass. Polls every millisecond: the figure is a restart time.
int probe(const char* hosts, const char* path, double seconds) {
  zoo_set_debug_level(static_cast<ZooLogLevel>(0));
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (!answers_imok(hosts)) {
      usleep(1000);
      continue;
    }
    zhandle_t* zh = zookeeper_init(hosts, nullptr, 4000, nullptr, nullptr, 0);
    char buf[16];
    int len = sizeof buf;
    struct Stat st;
    int rc = zh ? zoo_get(zh, path, 0, buf, &len, &st) : ZSYSTEMERROR;
    if (zh) zookeeper_close(zh);
    if (rc == ZOK) {
      std::printf("probe ok after %.3f s\n", seconds_since(start));
      return 0;
    }
  }
  std::fprintf(stderr, "probe: %s not readable within %.0f s\n", path, seconds);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: corral-load HOST:PORT create|set|latency|get N [SIZE] [INFLIGHT]\n");
    return 2;
  }
  std::string mode = argv[2];
  if (mode == "probe") return probe(argv[1], argv[3], argc > 4 ? std::atof(argv[4]) : 60);
  long n = std::atol(argv[3]);
  zhandle_t* zh = connect(argv[1]);
  Window w;
  if (mode == "create") {
    std::string data(std::atoi(argv[4]), 'x');
    long inflight = std::atol(argv[5]);
    zoo_create(zh, "/bench", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    auto t = Clock::now();
    char path[64];
    for (long i = 0; i < n; ++i) {
      std::snprintf(path, sizeof path, "/bench/n%ld", i);
      w.acquire(inflight);
      zoo_acreate(zh, path, data.data(), (int)data.size(), &ZOO_OPEN_ACL_UNSAFE, 0, on_string, &w);
    }
    w.wait_all(n);
    report("create", n, seconds_since(t), w);
  } else if (mode == "set" || mode == "latency") {
    std::string data(std::atoi(argv[4]), 'y');
    long inflight = mode == "set" ? std::atol(argv[5]) : 1;
    zoo_create(zh, "/bench-set", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    std::vector<double> lat_us;
    lat_us.reserve(mode == "latency" ? n : 0);
    auto t = Clock::now();
    for (long i = 0; i < n; ++i) {
      auto op_start = Clock::now();
      w.acquire(inflight);
      zoo_aset(zh, "/bench-set", data.data(), (int)data.size(), -1, on_stat, &w);
      if (mode == "latency") {
        w.wait_all(i + 1);
        lat_us.push_back(seconds_since(op_start) * 1e6);
      }
    }
    w.wait_all(n);
    report(mode.c_str(), n, seconds_since(t), w);
    if (!lat_us.empty()) {
      std::sort(lat_us.begin(), lat_us.end());
      auto pct = [&](double p) {
        return lat_us[std::min(lat_us.size() - 1, size_t(p * lat_us.size()))];
      };
      std::printf("latency_us p50=%.0f p90=%.0f p99=%.0f max=%.0f\n", pct(0.5), pct(0.9), pct(0.99),
                  lat_us.back());
    }
  } else if (mode == "get") {
    long inflight = std::atol(argv[4]);
    zoo_create(zh, "/bench-set", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    auto t = Clock::now();
    for (long i = 0; i < n; ++i) {
      w.acquire(inflight);
      zoo_aget(zh, "/bench-set", 0, on_data, &w);
    }
    w.wait_all(n);
    report("get", n, seconds_since(t), w);
  } else {
    std::fprintf(stderr, "corral-load: unknown mode %s\n", mode.c_str());
    return 2;
  }
  zookeeper_close(zh);
  return w.failed ? 1 : 0;
}
