#include "ensemble/server/startup_config.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cstdlib>

#include "ensemble/server/sasl_settings.h"

namespace corral::server {

ServerConfig load_startup_config(const std::string& path) {
  ServerConfig config = load_config(path);
  if (const char* flags = std::getenv("SERVER_JVMFLAGS")) apply_jvm_flags(config, flags);
  load_sasl_users(config);
  if (config.client_port == 0 && config.secure_client_port == 0)
    throw ConfigError(fmt::format("{}: clientPort: missing (required, or secureClientPort)", path));
  bool member = std::any_of(config.servers.begin(), config.servers.end(),
                            [&](const PeerSpec& s) { return s.id == config.my_id; });
  if (!config.servers.empty() && !member)
    throw ConfigError(fmt::format("{}: myid {} (from {}/myid) is not one of the server.N lines",
                                  path, config.my_id, config.data_dir));
  return config;
}

}  // namespace corral::server
