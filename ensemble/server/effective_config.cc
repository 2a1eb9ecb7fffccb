#include "ensemble/server/effective_config.h"

#include <sstream>

namespace corral::server {
namespace {

constexpr const char* kMasked = "****";

std::string masked(const std::string& secret) { return secret.empty() ? "" : kMasked; }

// "user:****": the user is worth seeing, the hash is what grants super.
std::string masked_digest(const std::string& digest) {
  return digest.empty() ? "" : digest.substr(0, digest.find(':')) + ":" + kMasked;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

const char* yes_no(bool v) { return v ? "yes" : "no"; }
const char* true_false(bool v) { return v ? "true" : "false"; }

/// Writes `key=value` lines.
class Lines {
 public:
  template <typename T>
  Lines& operator()(const std::string& key, const T& value) {
    out_ << key << "=" << value << "\n";
    return *this;
  }
  std::ostringstream& raw() { return out_; }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

void core_keys(Lines& k, const ServerConfig& c) {
  k("tickTime", c.tick_ms)("dataDir", c.data_dir)("dataLogDir", c.data_log_dir);
  k("clientPort", c.client_port)("clientPortAddress", c.client_port_address);
  k("maxClientCnxns", c.max_client_cnxns);
  k("minSessionTimeout", c.effective_min_session_timeout_ms());
  k("maxSessionTimeout", c.effective_max_session_timeout_ms());
  k("4lw.commands.whitelist", joined(c.four_letter_words));
  k("jute.maxbuffer", c.jute_max_buffer);
  k("znode.container.checkIntervalMs", c.container_check_interval_ms);
  k("extendedTypesEnabled", true_false(c.extended_types_enabled));
  k("DigestAuthenticationProvider.superDigest", masked_digest(c.super_digest));
  k("forceSync", yes_no(c.force_sync))("snapCount", c.snap_count);
  k("autopurge.snapRetainCount", c.autopurge_snap_retain_count);
  k("autopurge.purgeInterval", c.autopurge_purge_interval_hours);
  k("readonlymode.enabled", true_false(c.readonly_mode_enabled));
  k("corral.exists.checkReadAcl", true_false(c.exists_checks_read));
  k("skipACL", yes_no(c.skip_acl));
}

void ensemble_keys(Lines& k, const ServerConfig& c) {
  k("myid", c.my_id)("initLimit", c.init_limit)("syncLimit", c.sync_limit);
  k("peerType", c.peer_type == PeerType::observer ? "observer" : "participant");
  for (const auto& s : c.servers) {
    std::string host = s.host.find(':') == std::string::npos ? s.host : "[" + s.host + "]";
    std::ostringstream v;
    v << host << ":" << s.quorum_port << ":" << s.election_port
      << (s.observer ? ":observer" : ":participant");
    if (s.client_port != 0) v << ";" << s.client_address << ":" << s.client_port;
    k("server." + std::to_string(s.id), v.str());
  }
  k("reconfigEnabled", true_false(c.reconfig_enabled));
  k("standaloneEnabled", true_false(c.standalone_enabled));
  k("dynamicConfigFile", c.dynamic_config_file);
  if (c.servers.empty()) return;
  // The database's config wins at start-up when newer (reconfigEnabled): not read here.
  k.raw() << "# server.N from "
          << (c.dynamic_config_file.empty() ? "zoo.cfg" : c.dynamic_config_file) << " (version 0x"
          << std::hex << c.dynamic_config_version << std::dec << ")"
          << (c.reconfig_enabled ? "; a newer config stored in the data directory wins" : "")
          << "\n";
}

void sasl_keys(Lines& k, const ServerConfig& c) {
  k("java.security.auth.login.config", c.jaas_config_path);
  k("sasl.serverconfig", c.sasl_login_section)("superUser", c.sasl_super_user);
  k("kerberos.removeHostFromPrincipal", true_false(c.kerberos_remove_host));
  k("kerberos.removeRealmFromPrincipal", true_false(c.kerberos_remove_realm));
  std::vector<std::string> users;
  for (const auto& [name, password] : c.sasl_users) users.push_back(name);
  if (!users.empty())
    k.raw() << "# DIGEST-MD5 users from the JAAS file (passwords not shown): " << joined(users)
            << "\n";
}

void tls_keys(Lines& k, const TlsSettings& t) {
  const std::string& p = t.prefix;
  k(p + "keyStore.location", t.keystore_location);
  k(p + "keyStore.password", masked(t.keystore_password));
  k(p + "keyStore.passwordPath", t.keystore_password_path)(p + "keyStore.type", t.keystore_type);
  k(p + "trustStore.location", t.truststore_location);
  k(p + "trustStore.password", masked(t.truststore_password));
  k(p + "trustStore.passwordPath", t.truststore_password_path);
  k(p + "trustStore.type", t.truststore_type);
  k(p + "clientAuth", tls_client_auth_name(t.client_auth))(p + "protocol", t.protocol);
  k(p + "enabledProtocols",
    joined(t.enabled_protocols.empty() ? std::vector<std::string>{t.protocol}
                                       : t.enabled_protocols));
  k(p + "ciphersuites", joined(t.ciphersuites));
  k(p + "hostnameVerification", true_false(t.hostname_verification));
}

void security_keys(Lines& k, const ServerConfig& c) {
  k("secureClientPort", c.secure_client_port);
  k("secureClientPortAddress", c.secure_client_port_address);
  tls_keys(k, c.client_tls);
  k("sslQuorum", true_false(c.ssl_quorum));
  tls_keys(k, c.quorum_tls);
  k("X509AuthenticationProvider.superUser", c.x509_super_user);
  k("quorum.auth.enableSasl", true_false(c.quorum_auth_enable_sasl));
  k("quorum.auth.learnerRequireSasl", true_false(c.quorum_auth_learner_require_sasl));
  k("quorum.auth.serverRequireSasl", true_false(c.quorum_auth_server_require_sasl));
  k("quorum.auth.learner.saslLoginContext", c.quorum_learner_login_context);
  k("quorum.auth.server.saslLoginContext", c.quorum_server_login_context);
  k("corral.quorum.sendQueueMaxBytes", c.quorum_send_queue_max_bytes);
  k("corral.quorum.maxFrameBytes", c.quorum_max_frame_bytes);
}

void limit_keys(Lines& k, const ServerConfig& c) {
  k("globalOutstandingLimit", c.global_outstanding_limit);
  k("corral.connectionOutstandingLimit", c.connection_outstanding_limit);
  k("corral.connectionOutputLimitBytes", c.connection_output_limit_bytes);
  k("corral.outputBudgetBytes", c.output_budget_bytes);
}

void ops_keys(Lines& k, const ServerConfig& c) {
  k("metricsProvider.className", c.metrics_provider_class);
  k("metricsProvider.httpHost", c.metrics_http_host);
  k("metricsProvider.httpPort", c.metrics_http_port);
  k("metricsProvider.exportJvmInfo", true_false(c.metrics_export_jvm_info));
  k("admin.enableServer", true_false(c.admin_enable_server));
  k("admin.serverAddress", c.admin_server_address)("admin.serverPort", c.admin_server_port);
  k("admin.commandURL", c.admin_command_url)("admin.idleTimeout", c.admin_idle_timeout_ms);
}

}  // namespace

std::string effective_config_text(const ServerConfig& config) {
  Lines k;
  core_keys(k, config);
  ensemble_keys(k, config);
  sasl_keys(k, config);
  security_keys(k, config);
  limit_keys(k, config);
  ops_keys(k, config);
  for (const auto& key : config.ignored_keys)
    k.raw() << "# ignored (not used by Corral): " << key << "\n";
  return k.str();
}

}  // namespace corral::server
