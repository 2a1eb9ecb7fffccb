#include "ensemble/server/admin/ops_view.h"

#include <sys/resource.h>

#include <filesystem>

#include "ensemble/server/network_server.h"
#include "ensemble/server/server_core.h"

namespace corral::server {

int64_t uptime_ms(const OpsView& view) { return NetworkServer::now_ms() - view.core.started_ms(); }

int64_t open_file_descriptors() {
  std::error_code ec;
  int64_t count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++count;
  // The iterator's own descriptor is one of those counted.
  return ec ? -1 : count - 1;
}

int64_t max_file_descriptors() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  return limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<int64_t>(limit.rlim_cur);
}

int64_t voting_members(const ServerCore& core) {
  int64_t n = 0;
  for (const auto& s : core.config().servers) n += s.observer ? 0 : 1;
  return n;
}

}  // namespace corral::server
