// Builds OpenSSL contexts (through Asio) from ZooKeeper-style TLS settings, for the secure
// client port and for ensemble members talking to each other, and reads the identity a peer
// proved with its certificate.
#pragma once

#include <openssl/ssl.h>

#include <asio/ssl/context.hpp>
#include <string>

#include "ensemble/server/tls_settings.h"
#include "wire/tls_peer.h"

namespace corral::server {

/// A context for accepting TLS connections: presents keyStore, and, unless clientAuth is
/// none, asks for the peer's certificate and checks it against trustStore (need refuses a
/// peer without one). Throws ConfigError naming the key and file that cannot be used.
asio::ssl::context make_tls_server_context(const TlsSettings& settings);

/// A context for dialling out: checks the server's certificate against trustStore and, when
/// keyStore is set, presents it. Call tls::set_peer_host on each connection to check the
/// server's name. Throws ConfigError naming the key and file that cannot be used.
asio::ssl::context make_tls_client_context(const TlsSettings& settings);

/// Whether the certificate the peer presented names `host` (DNS name or IP address); for a
/// server checking a connecting ensemble member. False without a verified certificate.
bool tls_peer_matches_host(const SSL* ssl, const std::string& host);

/// The subject of the peer's certificate as Java's X500Principal.getName() writes it (RFC
/// 2253, most specific first: "CN=client,OU=ops,O=Example,C=US"); this is the id of the `x509`
/// ACL scheme. Empty when the peer presented no certificate, or one that failed verification.
std::string tls_peer_subject(const SSL* ssl);

}  // namespace corral::server
