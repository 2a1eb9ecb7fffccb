#include "ensemble/server/tls_context.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

#include "ensemble/server/config.h"

namespace corral::server {
namespace {

// ZooKeeper's default cipher suites on Java 9+ (X509Util): ECDHE with AES-GCM, then AES-CBC.
constexpr std::string_view kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:"
    "ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

template <typename T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;
using Pkcs12 = std::unique_ptr<PKCS12, Freer<PKCS12, PKCS12_free>>;
using PKey = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Freer<X509, X509_free>>;

void free_certs(STACK_OF(X509) * certs) { sk_X509_pop_free(certs, X509_free); }
using Certs = std::unique_ptr<STACK_OF(X509), Freer<STACK_OF(X509), free_certs>>;

// OpenSSL's most recent error, drained from its queue.
std::string openssl_error() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

[[noreturn]] void fail(const TlsSettings& s, std::string_view key, std::string_view problem) {
  throw ConfigError(fmt::format("{}{}: {}", s.prefix, key, problem));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The store's type: the type key if set, else from the file name as ZooKeeper's
// KeyStoreFileType.fromFilename does. Only PEM and PKCS12 can be read without a JVM.
std::string store_type(const TlsSettings& s, std::string_view store, const std::string& location,
                       const std::string& type) {
  std::string kind = lower(type);
  if (kind.empty()) {
    std::string name = lower(location);
    if (name.ends_with(".pem")) kind = "pem";
    if (name.ends_with(".p12") || name.ends_with(".pfx")) kind = "pkcs12";
    if (name.ends_with(".jks")) kind = "jks";
    if (name.ends_with(".bcfks")) kind = "bcfks";
  }
  if (kind == "pem" || kind == "pkcs12") return kind;
  std::string key = fmt::format("{}.type", store);
  if (kind.empty()) {
    fail(s, key,
         fmt::format("not set and not known from the name of '{}' (use PEM or PKCS12)", location));
  }
  std::string named =
      type.empty() ? fmt::format("'{}' (a {} store)", location, kind) : fmt::format("'{}'", type);
  fail(s, key, fmt::format("{} is not supported; Corral reads PEM and PKCS12 stores", named));
}

// A store's password, or the content of its passwordPath file without the final newline (as
// ZooKeeper's SecretUtils reads it).
std::string store_password(const TlsSettings& s, std::string_view store,
                           const std::string& password, const std::string& path) {
  if (!password.empty() || path.empty()) return password;
  std::ifstream file(path, std::ios::binary);
  std::string secret((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!file.good() && !file.eof()) {
    fail(s, fmt::format("{}.passwordPath", store), fmt::format("cannot read '{}'", path));
  }
  if (secret.ends_with('\n')) secret.pop_back();
  return secret;
}

std::string keystore_password(const TlsSettings& s) {
  return store_password(s, "keyStore", s.keystore_password, s.keystore_password_path);
}

struct Pkcs12Contents {
  PKey key;
  Cert cert;
  Certs chain;
};

Pkcs12Contents read_pkcs12(const TlsSettings& s, std::string_view store,
                           const std::string& location, const std::string& password) {
  Bio file(BIO_new_file(location.c_str(), "rb"));
  std::string key = fmt::format("{}.location", store);
  if (!file) fail(s, key, fmt::format("cannot read '{}': {}", location, openssl_error()));
  Pkcs12 p12(d2i_PKCS12_bio(file.get(), nullptr));
  if (!p12) fail(s, key, fmt::format("'{}' is not a PKCS12 file: {}", location, openssl_error()));
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  if (!PKCS12_parse(p12.get(), password.c_str(), &pkey, &cert, &chain)) {
    fail(s, key, fmt::format("cannot open '{}' (wrong password?): {}", location, openssl_error()));
  }
  return {PKey(pkey), Cert(cert), Certs(chain)};
}

void load_keystore(SSL_CTX* ctx, const TlsSettings& s) {
  const std::string& location = s.keystore_location;
  std::string kind = store_type(s, "keyStore", location, s.keystore_type);
  if (kind == "pkcs12") {
    Pkcs12Contents p12 = read_pkcs12(s, "keyStore", location, keystore_password(s));
    if (!p12.key || !p12.cert) {
      fail(s, "keyStore.location",
           fmt::format("'{}' has no private key and certificate", location));
    }
    STACK_OF(X509)* chain = p12.chain.release();
    if (SSL_CTX_use_cert_and_key(ctx, p12.cert.get(), p12.key.get(), chain, 1) != 1) {
      sk_X509_pop_free(chain, X509_free);
      fail(s, "keyStore.location", fmt::format("'{}': {}", location, openssl_error()));
    }
    sk_X509_pop_free(chain, X509_free);
    return;
  }
  // One PEM file holds the certificate chain and the (possibly encrypted) private key.
  if (SSL_CTX_use_certificate_chain_file(ctx, location.c_str()) != 1) {
    fail(s, "keyStore.location",
         fmt::format("no certificate in '{}': {}", location, openssl_error()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, location.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail(s, "keyStore.location",
         fmt::format("no usable private key in '{}' (wrong keyStore.password?): {}", location,
                     openssl_error()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    fail(s, "keyStore.location",
         fmt::format("the private key in '{}' does not match its certificate", location));
  }
}

void load_truststore(SSL_CTX* ctx, const TlsSettings& s) {
  const std::string& location = s.truststore_location;
  if (location.empty()) {
    SSL_CTX_set_default_verify_paths(ctx);
    return;
  }
  std::string kind = store_type(s, "trustStore", location, s.truststore_type);
  if (kind == "pem") {
    if (SSL_CTX_load_verify_file(ctx, location.c_str()) != 1) {
      fail(s, "trustStore.location",
           fmt::format("no CA certificate in '{}': {}", location, openssl_error()));
    }
    return;
  }
  Pkcs12Contents p12 = read_pkcs12(
      s, "trustStore", location,
      store_password(s, "trustStore", s.truststore_password, s.truststore_password_path));
  X509_STORE* trusted = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  if (p12.cert) added += X509_STORE_add_cert(trusted, p12.cert.get());
  for (int i = 0; p12.chain && i < sk_X509_num(p12.chain.get()); ++i) {
    added += X509_STORE_add_cert(trusted, sk_X509_value(p12.chain.get(), i));
  }
  if (added == 0) {
    fail(s, "trustStore.location", fmt::format("no CA certificate in '{}'", location));
  }
}

int protocol_version(const TlsSettings& s, std::string_view key, const std::string& name) {
  if (name == "TLSv1") return TLS1_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  fail(s, key,
       fmt::format("unknown TLS protocol '{}' (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, TLS)", name));
}

// Java's generic "TLS" means every version it supports; OpenSSL takes a min..max range.
void set_protocols(SSL_CTX* ctx, const TlsSettings& s) {
  bool listed = !s.enabled_protocols.empty();
  std::vector<std::string> names = listed ? s.enabled_protocols : std::vector{s.protocol};
  std::string_view key = listed ? "enabledProtocols" : "protocol";
  int min = TLS1_3_VERSION;
  int max = TLS1_VERSION;
  for (const std::string& name : names) {
    if (name == "TLS") {
      min = std::min(min, TLS1_2_VERSION);
      max = TLS1_3_VERSION;
      continue;
    }
    int version = protocol_version(s, key, name);
    min = std::min(min, version);
    max = std::max(max, version);
  }
  SSL_CTX_set_min_proto_version(ctx, min);
  SSL_CTX_set_max_proto_version(ctx, max);
}

bool is_tls13_suite(const std::string& name) {
  return name == "TLS_AES_128_GCM_SHA256" || name == "TLS_AES_256_GCM_SHA384" ||
         name == "TLS_CHACHA20_POLY1305_SHA256" || name == "TLS_AES_128_CCM_SHA256" ||
         name == "TLS_AES_128_CCM_8_SHA256";
}

// Java names the suites as IANA does (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); OpenSSL has
// its own names for TLS 1.2 and below, and takes TLS 1.3 suites in a separate list.
void set_ciphers(SSL_CTX* ctx, const TlsSettings& s) {
  std::string tls12 = s.ciphersuites.empty() ? std::string(kDefaultCiphers) : "";
  std::string tls13;
  for (const std::string& name : s.ciphersuites) {
    std::string& list = is_tls13_suite(name) ? tls13 : tls12;
    std::string_view openssl_name = name;
    if (!is_tls13_suite(name) && name.starts_with("TLS_"))
      openssl_name = OPENSSL_cipher_name(name.c_str());
    if (openssl_name == "(NONE)")
      fail(s, "ciphersuites", fmt::format("unknown cipher suite '{}'", name));
    list += fmt::format("{}{}", list.empty() ? "" : ":", openssl_name);
  }
  if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1) {
    fail(s, "ciphersuites",
         fmt::format("no usable cipher suite in '{}': {}", tls12, openssl_error()));
  }
  if (!tls13.empty() && SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1) {
    fail(s, "ciphersuites",
         fmt::format("no usable cipher suite in '{}': {}", tls13, openssl_error()));
  }
  if (s.ciphersuites.empty()) return;
  // A Java list without a suite of one version leaves that version out: it is not negotiated.
  // OpenSSL would keep its default suites for the list it was not given, and it settles the
  // version before the suite, so the version range itself must exclude it.
  if (tls13.empty()) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  if (tls12.empty()) SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
}

// What both sides share: versions, suites, trusted CAs and the certificate to present.
asio::ssl::context make_context(const TlsSettings& s, asio::ssl::context::method method) {
  asio::ssl::context context(method);
  SSL_CTX* ctx = context.native_handle();
  // Client-initiated renegotiation is refused, as ZooKeeper does (jdk.tls.rejectClient...).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  set_protocols(ctx, s);
  set_ciphers(ctx, s);
  // Always a callback: without one OpenSSL would prompt on the terminal for an encrypted key.
  context.set_password_callback(
      [password = keystore_password(s)](size_t, asio::ssl::context::password_purpose) {
        return password;
      });
  if (!s.keystore_location.empty()) load_keystore(ctx, s);
  load_truststore(ctx, s);
  return context;
}

// RFC 2253 escaping as X500Principal.getName() does it.
std::string escape_dn_value(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
    bool special = std::string_view(",=+<>;\"\\").find(c) != std::string_view::npos;
    if (edge_space || special || (c == '#' && i == 0)) out += '\\';
    out += c;
  }
  return out;
}

// The attribute names Java writes as keywords; any other is written as its OID.
std::string attribute_name(const ASN1_OBJECT* object) {
  switch (OBJ_obj2nid(object)) {
    case NID_commonName:
      return "CN";
    case NID_countryName:
      return "C";
    case NID_localityName:
      return "L";
    case NID_stateOrProvinceName:
      return "ST";
    case NID_organizationName:
      return "O";
    case NID_organizationalUnitName:
      return "OU";
    case NID_streetAddress:
      return "STREET";
    case NID_domainComponent:
      return "DC";
    case NID_userId:
      return "UID";
    default:
      break;
  }
  std::array<char, 128> oid{};
  OBJ_obj2txt(oid.data(), oid.size(), object, 1);
  return oid.data();
}

// A known attribute's value as escaped text; any other's as '#' and its DER bytes in hex.
std::string attribute_value(const X509_NAME_ENTRY* entry, bool known) {
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
  if (!known) {
    ASN1_TYPE* any = ASN1_TYPE_new();
    ASN1_TYPE_set1(any, ASN1_STRING_type(data), data);
    unsigned char* der = nullptr;
    int len = i2d_ASN1_TYPE(any, &der);
    ASN1_TYPE_free(any);
    std::string hex = "#";
    for (int i = 0; i < len; ++i) hex += fmt::format("{:02x}", der[i]);
    OPENSSL_free(der);
    return hex;
  }
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  std::string text = len < 0 ? "" : std::string(reinterpret_cast<char*>(utf8), len);
  OPENSSL_free(utf8);
  return escape_dn_value(text);
}

// The peer's certificate, only if it passed verification against the trust store. The
// handshake already fails for an untrusted one (SSL_VERIFY_PEER without a callback); this
// keeps an unverified certificate from ever becoming an identity should that change.
X509* verified_peer_certificate(const SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return nullptr;
  return cert;
}

}  // namespace

asio::ssl::context make_tls_server_context(const TlsSettings& settings) {
  if (settings.keystore_location.empty()) {
    fail(settings, "keyStore.location", "required for a TLS server (a PEM key and certificate)");
  }
  asio::ssl::context context = make_context(settings, asio::ssl::context::tls_server);
  SSL_CTX* ctx = context.native_handle();
  int mode = SSL_VERIFY_NONE;
  if (settings.client_auth == TlsClientAuth::want) mode = SSL_VERIFY_PEER;
  if (settings.client_auth == TlsClientAuth::need) {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
  // Sessions resumed with a verified client need an id context, or the resumption fails.
  static constexpr unsigned char kSessionContext[] = "corral";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return context;
}

asio::ssl::context make_tls_client_context(const TlsSettings& settings) {
  asio::ssl::context context = make_context(settings, asio::ssl::context::tls_client);
  SSL_CTX_set_verify(context.native_handle(), SSL_VERIFY_PEER, nullptr);
  return context;
}

bool tls_peer_matches_host(const SSL* ssl, const std::string& host) {
  X509* cert = verified_peer_certificate(ssl);
  if (!cert) return false;
  if (X509_check_ip_asc(cert, host.c_str(), 0) == 1) return true;
  return X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
}

std::string tls_peer_subject(const SSL* ssl) {
  X509* cert = verified_peer_certificate(ssl);
  if (!cert) return "";
  const X509_NAME* name = X509_get_subject_name(cert);
  std::string dn;
  int previous_set = -1;
  // RFC 2253 writes the most specific RDN first, the reverse of the certificate's order;
  // attributes of one multi-valued RDN are joined with '+'.
  for (int i = X509_NAME_entry_count(name) - 1; i >= 0; --i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(entry);
    if (!dn.empty()) dn += set == previous_set ? "+" : ",";
    previous_set = set;
    std::string attribute = attribute_name(X509_NAME_ENTRY_get_object(entry));
    bool known = !attribute.empty() && !std::isdigit(static_cast<unsigned char>(attribute[0]));
    dn += attribute + "=" + attribute_value(entry, known);
  }
  return dn;
}

}  // namespace corral::server
