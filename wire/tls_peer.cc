#include "wire/tls_peer.h"

#include <openssl/x509v3.h>

namespace corral::tls {

void set_peer_host(SSL* ssl, const std::string& host, bool verify) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  bool is_ip = ip != nullptr;
  ASN1_OCTET_STRING_free(ip);
  // RFC 6066: SNI names a host, never a literal address.
  if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!verify) return;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set1_host(ssl, host.c_str());
  }
}

}  // namespace corral::tls
