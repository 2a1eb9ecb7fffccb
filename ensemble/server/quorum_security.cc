#include "ensemble/server/quorum_security.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "ensemble/auth/server_credentials.h"
#include "wire/sasl/jaas_config.h"

namespace corral::server {
namespace {

void check_flags(const ServerConfig& c) {
  if (!c.quorum_auth_enable_sasl && c.quorum_auth_server_require_sasl)
    throw ConfigError(
        "quorum.auth.serverRequireSasl: quorum.auth.enableSasl is false, so it cannot be true");
  if (!c.quorum_auth_enable_sasl && c.quorum_auth_learner_require_sasl)
    throw ConfigError(
        "quorum.auth.learnerRequireSasl: quorum.auth.enableSasl is false, so it cannot be true");
  // A server that requires authentication but does not authenticate itself could never
  // join a quorum of servers like it.
  if (!c.quorum_auth_learner_require_sasl && c.quorum_auth_server_require_sasl)
    throw ConfigError(
        "quorum.auth.serverRequireSasl: quorum.auth.learnerRequireSasl is false, so it cannot "
        "be true");
}

// This server's own account: the username and password of section `section`.
void load_learner_account(const std::string& path, const std::string& section,
                          PeerAuthSettings& auth) {
  const sasl::JaasConfig jaas = auth::read_jaas_file(path);
  const sasl::JaasSection* found = jaas.section(section);
  if (!found)
    throw ConfigError(fmt::format(
        "{}: no '{}' section (quorum.auth.learner.saslLoginContext: this server's account)", path,
        section));
  if (auto account = found->account()) {
    auth.username = account->username;
    auth.password = account->password;
    return;
  }
  throw ConfigError(
      fmt::format("{}:{}: section '{}' has no username and password", path, found->line, section));
}

}  // namespace

PeerAuthSettings quorum_auth_settings(const ServerConfig& config) {
  check_flags(config);
  PeerAuthSettings auth;
  auth.enabled = config.quorum_auth_enable_sasl;
  auth.learner_require = config.quorum_auth_learner_require_sasl;
  auth.server_require = config.quorum_auth_server_require_sasl;
  if (!auth.enabled) return auth;
  if (config.jaas_config_path.empty())
    throw ConfigError(
        "quorum.auth.enableSasl: true, but no JAAS file is named (java.security.auth.login.config "
        "in zoo.cfg or -Djava.security.auth.login.config= in SERVER_JVMFLAGS)");
  try {
    for (auto& [name, password] :
         auth::load_server_users(config.jaas_config_path, config.quorum_server_login_context))
      auth.users.emplace(name, password);
    load_learner_account(config.jaas_config_path, config.quorum_learner_login_context, auth);
  } catch (const sasl::JaasError& e) {
    throw ConfigError(e.what());
  }
  spdlog::info(
      "quorum authentication: {} accounts from section '{}', this server is '{}' from '{}' of {}; "
      "learnerRequireSasl={} serverRequireSasl={}",
      auth.users.size(), config.quorum_server_login_context, auth.username,
      config.quorum_learner_login_context, config.jaas_config_path, auth.learner_require,
      auth.server_require);
  return auth;
}

}  // namespace corral::server
