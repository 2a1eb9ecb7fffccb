// The server name a TLS client expects, shared by the client library and the server's
// connections to other ensemble members. Configures an OpenSSL handle; no I/O.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace corral::tls {

/// Before a client handshake: sends `host` as SNI (unless it is an IP address) and, when
/// `verify` (ZooKeeper's hostnameVerification), makes the handshake fail unless the server's
/// certificate names `host` (a DNS name or an IP address, in its subjectAltName or CN).
void set_peer_host(SSL* ssl, const std::string& host, bool verify);

}  // namespace corral::tls
