#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <stdexcept>

#include "corral/client/types.h"

namespace corral::client {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  std::array<char, 256> text{};
  if (code != 0) ERR_error_string_n(code, text.data(), text.size());
  return code == 0 ? "unknown error" : text.data();
}

[[noreturn]] void fail(const std::string& what, const std::string& file) {
  throw std::invalid_argument("TLS: " + what + " '" + file + "': " + openssl_error());
}

bool is_true(std::string_view value) {
  return value == "true" || value == "TRUE" || value == "True";
}

}  // namespace

asio::ssl::context make_tls_context(const TlsOptions& options) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX* ctx = context.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    SSL_CTX_set_default_verify_paths(ctx);
  } else if (SSL_CTX_load_verify_file(ctx, options.ca_file.c_str()) != 1) {
    fail("no CA certificate in", options.ca_file);
  }
  if (options.cert_file.empty()) return context;
  // Always a callback: without one OpenSSL would prompt on the terminal for an encrypted key.
  context.set_password_callback(
      [password = options.key_password](size_t, asio::ssl::context::password_purpose) {
        return password;
      });
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    fail("no certificate in", options.cert_file);
  }
  const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("no usable private key (wrong password?) in", key);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) fail("the key does not match the certificate in", key);
  return context;
}

std::string set_zookeeper_client_property(Options& options, std::string_view name,
                                          std::string_view value) {
  if (name == "zookeeper.client.secure") {
    if (!is_true(value)) {
      options.tls.reset();
    } else if (!options.tls) {
      options.tls.emplace();
    }
    return "";
  }
  TlsOptions& tls = options.tls ? *options.tls : options.tls.emplace();
  if (name == "zookeeper.ssl.trustStore.location") {
    tls.ca_file = value;
  } else if (name == "zookeeper.ssl.keyStore.location") {
    tls.cert_file = value;
  } else if (name == "zookeeper.ssl.keyStore.password") {
    tls.key_password = value;
  } else if (name == "zookeeper.ssl.hostnameVerification") {
    tls.verify_hostname = is_true(value);
  } else if (name == "zookeeper.ssl.keyStore.type" || name == "zookeeper.ssl.trustStore.type") {
    if (value != "PEM" && value != "pem") return std::string(name) + ": only PEM is supported";
  } else {
    return "unknown property " + std::string(name);
  }
  return "";
}

}  // namespace corral::client
