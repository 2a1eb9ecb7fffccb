#include "bench/corral_bench/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "corral/client/result.h"

namespace corral::bench {

double WorkloadResult::ops_per_sec() const {
  return seconds > 0 ? static_cast<double>(ops) / seconds : 0;
}

double WorkloadResult::total_cpu_seconds() const {
  return std::accumulate(server_cpu_seconds.begin(), server_cpu_seconds.end(), 0.0);
}

double WorkloadResult::ops_per_cpu_sec() const {
  double cpu = total_cpu_seconds();
  return cpu > 0 ? static_cast<double>(ops) / cpu : 0;
}

std::optional<double> WorkloadResult::write_bytes_per_op() const {
  if (!server_write_bytes || ops == 0) return std::nullopt;
  return static_cast<double>(*server_write_bytes) / static_cast<double>(ops);
}

uint64_t WorkloadResult::error_total() const {
  uint64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string settings_line(const Options& o) {
  std::string window = o.ops ? std::to_string(o.ops) + " ops" : format("%g s", o.duration_s);
  return "corral-bench: " + o.connect + (o.pin ? " (pinned)" : " (unpinned)") + ", " +
         std::to_string(o.sessions) + " sessions x " + std::to_string(o.inflight) + " in flight, " +
         std::to_string(o.value_size) + " B values, " + window + " after " +
         format("%g s", o.warmup_s) + " warm-up";
}

}  // namespace

void print_table(std::ostream& out, const Options& o, const std::vector<WorkloadResult>& rs) {
  out << settings_line(o) << "\nlatency percentiles are exact (every latency recorded)\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %10s %8s %11s %10s %10s %10s %7s %9s %10s %9s\n",
                "workload", "ops", "seconds", "ops/s", "p50 us", "p99 us", "p99.9 us", "errors",
                "srv CPU s", "ops/CPU-s", "cli CPU s");
  out << line;
  for (const auto& r : rs) {
    bool cpu = !r.server_cpu_seconds.empty();
    std::snprintf(line, sizeof line,
                  "%-8s %10llu %8.2f %11.0f %10.0f %10.0f %10.0f %7llu %9s %10s %9.2f\n",
                  r.workload.c_str(), static_cast<unsigned long long>(r.ops), r.seconds,
                  r.ops_per_sec(), r.latency.p50_us, r.latency.p99_us, r.latency.p999_us,
                  static_cast<unsigned long long>(r.error_total()),
                  cpu ? format("%.2f", r.total_cpu_seconds()).c_str() : "-",
                  cpu ? format("%.0f", r.ops_per_cpu_sec()).c_str() : "-", r.client_cpu_seconds);
    out << line;
  }
  for (const auto& r : rs) {
    for (const auto& [name, v] : r.extra) out << r.workload << ": " << name << " " << v << "\n";
    if (auto bytes = r.write_bytes_per_op()) {
      out << r.workload << ": servers' bytes written to storage per op " << format("%.0f", *bytes)
          << "\n";
    } else if (!r.server_pids.empty() && !r.server_write_bytes) {
      // Another user's process, or a kernel without I/O accounting: say so, not nothing.
      out << r.workload << ": servers' bytes written unavailable (cannot read /proc/PID/io)\n";
    }
    for (const auto& [code, n] : r.errors) {
      out << r.workload << ": " << n << " x " << client::error_text(code) << "\n";
    }
    if (r.connection_losses) {
      out << r.workload << ": " << r.connection_losses << " connection losses\n";
    }
    if (!r.sessions_lost.empty()) {
      out << r.workload << ": sessions lost (their lanes stopped):";
      for (size_t i : r.sessions_lost) out << " " << i;
      out << "\n";
    }
  }
}

void print_json(std::ostream& out, const Options& o, const std::vector<WorkloadResult>& rs) {
  nlohmann::ordered_json doc;
  doc["tool"] = "corral-bench";
  doc["connect"] = o.connect;
  doc["pinned"] = o.pin;
  doc["sessions"] = o.sessions;
  doc["inflight"] = o.inflight;
  doc["value_size"] = o.value_size;
  doc["warmup_s"] = o.warmup_s;
  doc["percentiles"] = "exact";
  doc["results"] = nlohmann::ordered_json::array();
  for (const auto& r : rs) {
    nlohmann::ordered_json j;
    j["workload"] = r.workload;
    j["ops"] = r.ops;
    j["seconds"] = r.seconds;
    j["ops_per_sec"] = r.ops_per_sec();
    j["latency_us"] = {{"mean", r.latency.mean_us},
                       {"p50", r.latency.p50_us},
                       {"p99", r.latency.p99_us},
                       {"p99.9", r.latency.p999_us},
                       {"max", r.latency.max_us}};
    j["errors"] = r.error_total();
    j["error_counts"] = nlohmann::ordered_json::object();
    for (const auto& [code, n] : r.errors) j["error_counts"][client::error_text(code)] = n;
    j["connection_losses"] = r.connection_losses;
    j["sessions_lost"] = r.sessions_lost;
    if (!r.server_cpu_seconds.empty()) {
      nlohmann::ordered_json per_pid = nlohmann::ordered_json::object();
      for (size_t i = 0; i < r.server_cpu_seconds.size(); ++i) {
        per_pid[std::to_string(r.server_pids[i])] = r.server_cpu_seconds[i];
      }
      j["server_cpu_seconds"] = {{"total", r.total_cpu_seconds()}, {"per_pid", per_pid}};
      j["ops_per_server_cpu_sec"] = r.ops_per_cpu_sec();
    }
    if (r.server_write_bytes) j["server_write_bytes"] = *r.server_write_bytes;
    if (auto bytes = r.write_bytes_per_op()) j["server_write_bytes_per_op"] = *bytes;
    j["client_cpu_seconds"] = r.client_cpu_seconds;
    for (const auto& [name, v] : r.extra) j[name] = v;
    doc["results"].push_back(j);
  }
  out << doc.dump(2) << "\n";
}

}  // namespace corral::bench
