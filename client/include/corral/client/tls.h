// TLS to the servers' secureClientPort, as ZooKeeper's Java client does with
// zookeeper.client.secure=true and ClientCnxnSocketNetty.
#pragma once

#include <string>
#include <string_view>

namespace corral::client {

struct Options;

/// How the client speaks TLS. Files are PEM, as ZooKeeper's ssl.keyStore.type=PEM.
struct TlsOptions {
  /// CAs that sign the servers' certificates (zookeeper.ssl.trustStore.location); empty =
  /// the system's CA store.
  std::string ca_file;
  /// This client's certificate chain (zookeeper.ssl.keyStore.location), needed by servers with
  /// ssl.clientAuth=need and giving the session its x509 identity; empty = none.
  std::string cert_file;
  /// The certificate's private key; empty = in cert_file (a ZooKeeper PEM keystore holds both).
  std::string key_file;
  /// The password of an encrypted private key (zookeeper.ssl.keyStore.password).
  std::string key_password;
  /// Refuse a server whose certificate does not name the host connected to (its DNS name or
  /// IP address); zookeeper.ssl.hostnameVerification.
  bool verify_hostname = true;
};

/// Applies one of ZooKeeper's Java client properties to `options`: zookeeper.client.secure
/// (true turns TLS on), zookeeper.ssl.trustStore.location, zookeeper.ssl.keyStore.location,
/// zookeeper.ssl.keyStore.password, zookeeper.ssl.hostnameVerification; the .type keys accept
/// PEM only. Setting a zookeeper.ssl key turns TLS on too. Returns an error message, empty when
/// applied; unknown names are an error.
std::string set_zookeeper_client_property(Options& options, std::string_view name,
                                          std::string_view value);

}  // namespace corral::client
