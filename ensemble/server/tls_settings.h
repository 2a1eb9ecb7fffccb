// TLS settings as ZooKeeper 3.8 names them in zoo.cfg: `ssl.*` for the client port
// (secureClientPort), `ssl.quorum.*` for the quorum and election ports (sslQuorum).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::server {

/// Whether a TLS server asks for the other side's certificate (ssl.clientAuth).
enum class TlsClientAuth {
  none,  ///< Do not ask for a certificate.
  want,  ///< Ask; a client without one is accepted, one with an untrusted one is refused.
  need,  ///< Ask and refuse a client without a trusted certificate (ZooKeeper's default).
};

/// One set of `ssl.*` (or `ssl.quorum.*`) keys. Defaults are ZooKeeper 3.8's.
struct TlsSettings {
  std::string prefix = "ssl.";           ///< The keys' prefix in zoo.cfg, for error messages.
  std::string keystore_location;         ///< keyStore.location: PEM with the private key and chain.
  std::string keystore_password;         ///< keyStore.password: for an encrypted PEM private key.
  std::string keystore_password_path;    ///< keyStore.passwordPath: a file holding the password.
  std::string keystore_type;             ///< keyStore.type; empty = from the file's extension.
  std::string truststore_location;       ///< trustStore.location: PEM with trusted CA certificates;
                                         ///< empty = the system's CA store.
  std::string truststore_password;       ///< trustStore.password (unused for PEM; accepted).
  std::string truststore_password_path;  ///< trustStore.passwordPath.
  std::string truststore_type;           ///< trustStore.type; empty = from the file's extension.
  TlsClientAuth client_auth = TlsClientAuth::need;  ///< clientAuth: need, want or none.
  std::string protocol = "TLSv1.2";                 ///< protocol: the TLS version to speak.
  std::vector<std::string> enabled_protocols;       ///< enabledProtocols; empty = {protocol}.
  /// ciphersuites, by Java/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or OpenSSL
  /// names; empty = ZooKeeper's default list (ECDHE with AES-GCM, then AES-CBC).
  std::vector<std::string> ciphersuites;
  bool hostname_verification = true;  ///< hostnameVerification: a client checks the server's
                                      ///< name against its certificate.

  /// Defaults with another key prefix (ssl.quorum.).
  static TlsSettings with_prefix(std::string prefix) {
    TlsSettings settings;
    settings.prefix = std::move(prefix);
    return settings;
  }
};

/// ssl.clientAuth's value, case-insensitive as Java's enum lookup; empty means need.
std::optional<TlsClientAuth> parse_tls_client_auth(std::string_view text);

/// "need", "want" or "none".
std::string_view tls_client_auth_name(TlsClientAuth auth);

/// Whether `name` is a TLS version Corral speaks, by Java's names: TLSv1, TLSv1.1, TLSv1.2,
/// TLSv1.3, or TLS (any).
bool tls_protocol_known(std::string_view name);

/// A comma-separated list (enabledProtocols, ciphersuites), items trimmed, empty ones dropped.
std::vector<std::string> parse_tls_list(std::string_view text);

}  // namespace corral::server
