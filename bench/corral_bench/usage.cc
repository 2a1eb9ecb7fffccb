#include "bench/corral_bench/usage.h"

#include <unistd.h>

#include <fstream>
#include <numeric>
#include <sstream>

namespace corral::bench {

std::optional<double> process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: count fields from the
  // last ')'. After it come state (field 3) ... utime (14) and stime (15).
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i < 14; ++i) rest >> field;
  if (!(rest >> utime >> stime)) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<uint64_t> parse_write_bytes(std::istream& proc_io) {
  std::string key;
  uint64_t value = 0;
  while (proc_io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return std::nullopt;
}

std::optional<uint64_t> process_write_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  return parse_write_bytes(in);
}

std::optional<uint64_t> UsageSampler::total_write_bytes() const {
  if (pids_.empty()) return std::nullopt;
  uint64_t total = 0;
  for (pid_t pid : pids_) {
    auto bytes = process_write_bytes(pid);
    if (!bytes) return std::nullopt;
    total += *bytes;
  }
  return total;
}

std::optional<std::string> UsageSampler::sample(std::vector<double>& into) {
  into.clear();
  for (pid_t pid : pids_) {
    auto s = process_cpu_seconds(pid);
    if (!s) return "cannot read /proc/" + std::to_string(pid) + "/stat (is the server running?)";
    into.push_back(*s);
  }
  return std::nullopt;
}

std::optional<std::string> UsageSampler::start() {
  client_before_ = process_cpu_seconds(getpid()).value_or(0);
  write_bytes_before_ = total_write_bytes();
  return sample(before_);
}

std::optional<std::string> UsageSampler::stop() {
  client_after_ = process_cpu_seconds(getpid()).value_or(client_before_);
  auto write_bytes_after = total_write_bytes();
  write_bytes_.reset();
  if (write_bytes_before_ && write_bytes_after && *write_bytes_after >= *write_bytes_before_)
    write_bytes_ = *write_bytes_after - *write_bytes_before_;
  return sample(after_);
}

std::vector<double> UsageSampler::per_pid_seconds() const {
  std::vector<double> out;
  for (size_t i = 0; i < after_.size() && i < before_.size(); ++i) {
    out.push_back(after_[i] - before_[i]);
  }
  return out;
}

double UsageSampler::total_seconds() const {
  auto v = per_pid_seconds();
  return std::accumulate(v.begin(), v.end(), 0.0);
}

}  // namespace corral::bench
