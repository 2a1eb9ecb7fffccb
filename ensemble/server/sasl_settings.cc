#include "ensemble/server/sasl_settings.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "ensemble/auth/server_credentials.h"
#include "wire/sasl/jaas_config.h"

namespace corral::server {
namespace {

void set_if_default(std::string& field, std::string_view default_value, const std::string& value) {
  if (field == default_value) field = value;
}

}  // namespace

void apply_jvm_flags(ServerConfig& config, std::string_view jvm_flags) {
  // zkServer.sh expands $SERVER_JVMFLAGS unquoted: the shell splits it at whitespace only.
  std::istringstream words{std::string(jvm_flags)};
  for (std::string word; words >> word;) {
    if (!word.starts_with("-D")) continue;
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    std::string name = word.substr(2, eq - 2);
    std::string value = word.substr(eq + 1);
    if (name == "java.security.auth.login.config")
      set_if_default(config.jaas_config_path, "", value);
    if (name == "zookeeper.sasl.serverconfig")
      set_if_default(config.sasl_login_section, "Server", value);
    if (name == "zookeeper.superUser") set_if_default(config.sasl_super_user, "", value);
    // ZooKeeper tests these with "true".equals(...): any other value is false.
    if (name == "zookeeper.kerberos.removeHostFromPrincipal")
      config.kerberos_remove_host = config.kerberos_remove_host || value == "true";
    if (name == "zookeeper.kerberos.removeRealmFromPrincipal")
      config.kerberos_remove_realm = config.kerberos_remove_realm || value == "true";
    // ZooKeeperServer.skipACL tests "yes".equals(...).
    if (name == "zookeeper.skipACL" && !config.skip_acl_in_cfg) {
      config.skip_acl = value == "yes";
      if (config.skip_acl)
        spdlog::warn("SERVER_JVMFLAGS: -Dzookeeper.skipACL=yes: no ACL is checked");
    }
  }
}

void load_sasl_users(ServerConfig& config) {
  if (config.jaas_config_path.empty()) return;
  try {
    // A file with only the quorum's sections is fine, as in ZooKeeper: no client logins.
    config.sasl_users =
        auth::load_server_users(config.jaas_config_path, config.sasl_login_section, false);
  } catch (const sasl::JaasError& e) {
    throw ConfigError(e.what());
  }
  spdlog::info("SASL DIGEST-MD5: {} users from section '{}' of {}", config.sasl_users.size(),
               config.sasl_login_section, config.jaas_config_path);
}

}  // namespace corral::server
