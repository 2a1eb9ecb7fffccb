// The TLS keys of zoo.cfg: `ssl.*` for the secure client port, `ssl.quorum.*` for the quorum
// (sslQuorum); the same names after either prefix.
#include <spdlog/fmt/fmt.h>

#include <map>
#include <string>
#include <utility>

#include "ensemble/server/config_line.h"

namespace corral::server::config_line {
namespace {

using TlsSetter = void (*)(TlsSettings&, const Line&);

// The keys of one TLS settings group, after its prefix: "ssl." sets the secure client port's,
// "ssl.quorum." the quorum's (see assign_tls).
const std::map<std::string_view, TlsSetter>& tls_setters() {
  static const std::map<std::string_view, TlsSetter> table = {
      {"keyStore.location", [](TlsSettings& t, const Line& l) { t.keystore_location = l.value; }},
      {"keyStore.password", [](TlsSettings& t, const Line& l) { t.keystore_password = l.value; }},
      {"keyStore.passwordPath",
       [](TlsSettings& t, const Line& l) { t.keystore_password_path = l.value; }},
      {"keyStore.type", [](TlsSettings& t, const Line& l) { t.keystore_type = l.value; }},
      {"trustStore.location",
       [](TlsSettings& t, const Line& l) { t.truststore_location = l.value; }},
      {"trustStore.password",
       [](TlsSettings& t, const Line& l) { t.truststore_password = l.value; }},
      {"trustStore.passwordPath",
       [](TlsSettings& t, const Line& l) { t.truststore_password_path = l.value; }},
      {"trustStore.type", [](TlsSettings& t, const Line& l) { t.truststore_type = l.value; }},
      {"clientAuth",
       [](TlsSettings& t, const Line& l) {
         auto auth = parse_tls_client_auth(l.value);
         if (!auth) fail(l, fmt::format("expected need, want or none, got '{}'", l.value));
         t.client_auth = *auth;
       }},
      {"protocol",
       [](TlsSettings& t, const Line& l) {
         if (!tls_protocol_known(l.value))
           fail(l, fmt::format("unknown TLS protocol '{}'", l.value));
         t.protocol = l.value;
       }},
      {"enabledProtocols",
       [](TlsSettings& t, const Line& l) {
         t.enabled_protocols = parse_tls_list(l.value);
         for (const std::string& name : t.enabled_protocols) {
           if (!tls_protocol_known(name)) fail(l, fmt::format("unknown TLS protocol '{}'", name));
         }
       }},
      {"ciphersuites",
       [](TlsSettings& t, const Line& l) { t.ciphersuites = parse_tls_list(l.value); }},
      {"hostnameVerification",
       [](TlsSettings& t, const Line& l) {
         t.hostname_verification = boolean(l, "true", "false");
       }},
  };
  return table;
}

}  // namespace

bool assign_tls(ServerConfig& c, const Line& l) {
  for (auto [prefix, settings] : {std::pair{std::string_view("ssl.quorum."), &c.quorum_tls},
                                  std::pair{std::string_view("ssl."), &c.client_tls}}) {
    if (!l.key.starts_with(prefix)) continue;
    auto setter = tls_setters().find(l.key.substr(prefix.size()));
    if (setter == tls_setters().end()) return false;
    setter->second(*settings, l);
    return true;
  }
  return false;
}

}  // namespace corral::server::config_line
