#include "bench/corral_bench/options.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

namespace corral::bench {

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names{"create", "set",   "get",  "mixed",  "multi",
                                              "watch",  "churn", "lock", "latency"};
  return names;
}

std::string usage() {
  return R"(usage: corral-bench --connect HOST:PORT[,HOST:PORT...][/chroot] [options]

Drives any ZooKeeper-compatible ensemble with Corral's client and prints throughput and
latency percentiles (exact, from every recorded latency) of each workload.

  --workload LIST        comma-separated, or "all" (default set):
                           create   creates nodes of --value-size bytes
                           set      setData on --keys nodes
                           get      getData on --keys nodes
                           mixed    --read-ratio gets, the rest sets
                           multi    multi of 5 setData on distinct keys
                           watch    every session watches one node, one set; latency is each
                                    notification's, plus the time to the last one per round
                           churn    connect a new session, create an ephemeral, close
                           lock     acquire and release one Mutex (recipes), each session a
                                    contender
                           latency  setData, one session, one request in flight
  --sessions N           client sessions (default 6)
  --inflight N           requests in flight per session (default 100; 1 for lock)
  --value-size BYTES     (default 100)
  --keys N               nodes for set/get/mixed/multi (default 1000)
  --read-ratio R         reads in mixed, 0..1 (default 0.9)
  --duration SECONDS     measured time per workload (default 10)
  --ops N                measured operations per workload instead of a duration
  --warmup SECONDS       unmeasured run-in per workload (default 2)
  --threads N            client I/O threads (default 1)
  --server-pids P,P,...  sample these processes' CPU (utime+stime) and the bytes they
                         write to storage (/proc/PID/io) over the measured window
  --json                 JSON on stdout, the table on stderr
  --no-pin               give every session the whole connect string (the client picks a
                         host) instead of pinning session i to host i mod n
  --session-timeout-ms N (default 10000)
  --root PATH            parent of the run's nodes (default /corral-bench)
  --keep                 leave the run's nodes behind
Exit status: 0, 1 when setup failed, 2 on a usage error, 3 when any operation failed (the
errors are counted per code in the output).
)";
}

namespace {

template <typename T>
bool parse_number(const std::string& text, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    try {
      size_t used = 0;
      out = static_cast<T>(std::stod(text, &used));
      return used == text.size();
    } catch (const std::exception&) {
      return false;
    }
  } else {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
  }
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, sep);) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::optional<std::string> set_workloads(Options& o, const std::string& v) {
  if (v == "all") {
    o.workloads = workload_names();
    return std::nullopt;
  }
  o.workloads = split(v, ',');
  for (const auto& w : o.workloads) {
    const auto& names = workload_names();
    if (std::find(names.begin(), names.end(), w) == names.end()) return "unknown workload " + w;
  }
  if (o.workloads.empty()) return std::string("--workload names none");
  return std::nullopt;
}

std::optional<std::string> set_pids(Options& o, const std::string& v) {
  for (const auto& p : split(v, ',')) {
    pid_t pid = 0;
    if (!parse_number(p, pid) || pid <= 0) return "bad pid " + p;
    o.server_pids.push_back(pid);
  }
  return std::nullopt;
}

/// Reads a number into `field` and checks it is at least `min`.
template <typename T>
std::function<std::optional<std::string>(Options&, const std::string&)> number(T Options::*field,
                                                                               T min) {
  return [field, min](Options& o, const std::string& v) -> std::optional<std::string> {
    T n{};
    if (!parse_number(v, n) || n < min) return "bad value " + v;
    o.*field = n;
    return std::nullopt;
  };
}

std::optional<std::string> check(const Options& o) {
  if (o.connect.empty()) return std::string("--connect is required");
  if (o.read_ratio > 1) return std::string("--read-ratio must be within 0..1");
  bool multi = std::find(o.workloads.begin(), o.workloads.end(), "multi") != o.workloads.end();
  if (multi && o.keys < 5) return std::string("multi needs --keys of at least 5");
  return std::nullopt;
}

}  // namespace

std::variant<Options, ParseError> parse_options(int argc, char** argv) {
  using Setter = std::function<std::optional<std::string>(Options&, const std::string&)>;
  const std::map<std::string, Setter> valued{
      {"--connect",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         o.connect = v;
         return std::nullopt;
       }},
      {"--root",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         if (v.size() < 2 || v[0] != '/' || v.back() == '/') return "bad root " + v;
         o.root = v;
         return std::nullopt;
       }},
      {"--workload", set_workloads},
      {"--server-pids", set_pids},
      {"--sessions", number(&Options::sessions, 1)},
      {"--inflight", number(&Options::inflight, 1)},
      {"--value-size", number(&Options::value_size, 0)},
      {"--keys", number(&Options::keys, 1)},
      {"--read-ratio", number(&Options::read_ratio, 0.0)},
      {"--duration", number(&Options::duration_s, 0.001)},
      {"--ops", number<uint64_t>(&Options::ops, 1)},
      {"--warmup", number(&Options::warmup_s, 0.0)},
      {"--threads", number(&Options::threads, 1)},
      {"--session-timeout-ms", number(&Options::session_timeout_ms, 1)},
  };
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return ParseError{usage(), true};
    if (arg == "--json") {
      o.json = true;
    } else if (arg == "--no-pin") {
      o.pin = false;
    } else if (arg == "--keep") {
      o.keep = true;
    } else if (auto it = valued.find(arg); it != valued.end()) {
      if (i + 1 >= argc) return ParseError{arg + " needs a value"};
      if (auto err = it->second(o, argv[++i])) return ParseError{arg + ": " + *err};
    } else {
      return ParseError{"unknown argument " + arg};
    }
  }
  if (auto err = check(o)) return ParseError{*err};
  return o;
}

}  // namespace corral::bench
