#include "ensemble/server/startup_config.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cstdlib>

#include "ensemble/server/dynamic_config_file.h"
#include "ensemble/server/sasl_settings.h"

namespace corral::server {

ServerConfig load_startup_config(const std::string& path) {
  ServerConfig config = load_config(path);
  load_dynamic_config(config, path);
  if (const char* flags = std::getenv("SERVER_JVMFLAGS")) apply_jvm_flags(config, flags);
  load_sasl_users(config);
  if (config.client_port == 0 && config.secure_client_port == 0)
    throw ConfigError(fmt::format("{}: clientPort: missing (required, or secureClientPort)", path));
  bool member = std::any_of(config.servers.begin(), config.servers.end(),
                            [&](const PeerSpec& s) { return s.id == config.my_id; });
  if (!config.servers.empty() && !member && !config.reconfig_enabled)
    throw ConfigError(fmt::format("{}: myid {} (from {}/myid) is not one of the server.N lines",
                                  path, config.my_id, config.data_dir));
  // A joiner lists itself, as in ZooKeeper; only the ensemble's newer config may leave it out.
  if (!config.servers.empty() && !member)
    throw ConfigError(fmt::format(
        "{}: myid {} (from {}/myid) has no server.N line: its quorum and election ports come "
        "from it (a server the ensemble's config leaves out then follows without a vote)",
        config.dynamic_config_file.empty() ? path : config.dynamic_config_file, config.my_id,
        config.data_dir));
  return config;
}

}  // namespace corral::server
