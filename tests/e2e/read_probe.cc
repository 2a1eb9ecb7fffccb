#include "tests/e2e/read_probe.h"

#include <algorithm>
#include <chrono>

#include "tests/e2e/jute_bytes.h"

namespace corral::e2e {

ReadProbe::ReadProbe(RawClient& client, std::string path)
    : client_(client), path_(std::move(path)), thread_([this] { run(); }) {}

ReadProbe::~ReadProbe() { stop(); }

void ReadProbe::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<double> ReadProbe::sorted_ms() const {
  std::vector<double> out = ms_;
  std::sort(out.begin(), out.end());
  return out;
}

void ReadProbe::run() {
  using Clock = std::chrono::steady_clock;
  while (!stop_) {
    const auto t0 = Clock::now();
    auto read = client_.get_data(path_);
    ms_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!read || read->err != kOk) {
      ok_ = false;
      return;
    }
  }
}

}  // namespace corral::e2e
