// The ssl.* / ssl.quorum.* zoo.cfg keys and the TLS contexts made from them: ZooKeeper's
// defaults, errors that name file, line and key, PEM keystores (also encrypted), the stores
// Corral cannot read, and the x509 id a client certificate gives (RFC 2253, as Java writes it).
#include "ensemble/server/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "ensemble/server/config.h"

namespace corral::server {
namespace {

ServerConfig parse(const std::string& keys) {
  return parse_config("dataDir=/d\n" + keys, "zoo.cfg");
}

std::string config_error(const std::string& keys) {
  try {
    parse(keys);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigTls, DefaultsAreZooKeepers) {
  ServerConfig c = parse("");
  EXPECT_EQ(c.secure_client_port, 0);
  EXPECT_EQ(c.client_tls.client_auth, TlsClientAuth::need);
  EXPECT_EQ(c.client_tls.protocol, "TLSv1.2");
  EXPECT_TRUE(c.client_tls.hostname_verification);
  EXPECT_FALSE(c.ssl_quorum);
  EXPECT_EQ(c.quorum_tls.prefix, "ssl.quorum.");
}

TEST(ConfigTls, ReadsClientAndQuorumKeys) {
  ServerConfig c = parse(
      "secureClientPort=2281\nsecureClientPortAddress=127.0.0.1\n"
      "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
      "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
      "ssl.keyStore.location=/k.pem\nssl.keyStore.password=pw\nssl.keyStore.type=PEM\n"
      "ssl.trustStore.location=/ca.pem\nssl.clientAuth=WANT\nssl.protocol=TLSv1.3\n"
      "ssl.enabledProtocols=TLSv1.2, TLSv1.3\nssl.ciphersuites=TLS_AES_128_GCM_SHA256\n"
      "ssl.hostnameVerification=false\nsslQuorum=true\nssl.quorum.keyStore.location=/q.pem\n"
      "ssl.quorum.clientAuth=none\nX509AuthenticationProvider.superUser=CN=admin\n");
  EXPECT_EQ(c.secure_client_port, 2281);
  EXPECT_EQ(c.secure_client_port_address, "127.0.0.1");
  EXPECT_EQ(c.client_tls.keystore_location, "/k.pem");
  EXPECT_EQ(c.client_tls.keystore_password, "pw");
  EXPECT_EQ(c.client_tls.truststore_location, "/ca.pem");
  EXPECT_EQ(c.client_tls.client_auth, TlsClientAuth::want);
  EXPECT_EQ(c.client_tls.protocol, "TLSv1.3");
  EXPECT_EQ(c.client_tls.enabled_protocols, (std::vector<std::string>{"TLSv1.2", "TLSv1.3"}));
  EXPECT_EQ(c.client_tls.ciphersuites, std::vector<std::string>{"TLS_AES_128_GCM_SHA256"});
  EXPECT_FALSE(c.client_tls.hostname_verification);
  EXPECT_TRUE(c.ssl_quorum);
  EXPECT_EQ(c.quorum_tls.keystore_location, "/q.pem");
  EXPECT_EQ(c.quorum_tls.client_auth, TlsClientAuth::none);
  EXPECT_EQ(c.x509_super_user, "CN=admin");
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigTls, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(config_error("ssl.clientAuth=maybe"),
            "zoo.cfg:2: ssl.clientAuth: expected need, want or none, got 'maybe'");
  EXPECT_EQ(config_error("ssl.quorum.protocol=SSLv3"),
            "zoo.cfg:2: ssl.quorum.protocol: unknown TLS protocol 'SSLv3'");
  EXPECT_EQ(config_error("ssl.enabledProtocols=TLSv1.2,TLSv9"),
            "zoo.cfg:2: ssl.enabledProtocols: unknown TLS protocol 'TLSv9'");
  EXPECT_NE(config_error("secureClientPort=70000").find("zoo.cfg:2: secureClientPort:"),
            std::string::npos);
  EXPECT_NE(config_error("authProvider.x509=com.example.Other").find("authProvider.x509"),
            std::string::npos);
  EXPECT_NE(config_error("ssl.hostnameVerification=yes").find("expected true or false"),
            std::string::npos);
}

/// Certificates from make_certs.sh, made once for the suite.
class TlsContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        std::filesystem::temp_directory_path() / ("corral-tls-test-" + std::to_string(::getpid()));
    std::string make = std::string(CORRAL_MAKE_CERTS) + " " + dir_.string();
    ASSERT_EQ(std::system(make.c_str()), 0);
    // The server's key encrypted with a password (PKCS#8), with its certificate.
    std::string encrypt = "cd " + dir_.string() +
                          " && openssl pkcs8 -topk8 -v2 aes256 -passout pass:secret -in "
                          "server.key -out enc.key && cat enc.key server.crt > enc.pem";
    ASSERT_EQ(std::system(encrypt.c_str()), 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::string file(const std::string& name) { return (dir_ / name).string(); }

  static TlsSettings server_settings() {
    TlsSettings s;
    s.keystore_location = file("server.pem");
    s.truststore_location = file("ca.crt");
    s.truststore_type = "PEM";
    return s;
  }

  static std::string error_of(const TlsSettings& s) {
    try {
      make_tls_server_context(s);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  static std::filesystem::path dir_;
};

std::filesystem::path TlsContextTest::dir_;

TEST_F(TlsContextTest, LoadsPemKeystoreAndTruststore) {
  EXPECT_EQ(error_of(server_settings()), "no error");
}

TEST_F(TlsContextTest, EncryptedKeyNeedsItsPassword) {
  TlsSettings s = server_settings();
  s.keystore_location = file("enc.pem");
  EXPECT_NE(error_of(s).find("ssl.keyStore.location"), std::string::npos);
  s.keystore_password = "secret";
  EXPECT_EQ(error_of(s), "no error");
}

TEST_F(TlsContextTest, StoresCorralCannotReadAreNamed) {
  TlsSettings s = server_settings();
  s.keystore_type = "JKS";
  EXPECT_EQ(error_of(s),
            "ssl.keyStore.type: 'JKS' is not supported; Corral reads PEM and PKCS12 stores");
  s = server_settings();
  s.truststore_type = "";
  s.truststore_location = file("truststore.jks");
  EXPECT_NE(error_of(s).find("ssl.trustStore.type"), std::string::npos);
  s = server_settings();
  s.keystore_location = file("missing.pem");
  EXPECT_NE(error_of(s).find("ssl.keyStore.location: no certificate in '" + file("missing.pem")),
            std::string::npos);
}

TEST_F(TlsContextTest, CipherSuitesTakeJavaNames) {
  TlsSettings s = server_settings();
  s.ciphersuites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"};
  EXPECT_EQ(error_of(s), "no error");
  s.ciphersuites = {"TLS_NO_SUCH_SUITE"};
  EXPECT_EQ(error_of(s), "ssl.ciphersuites: unknown cipher suite 'TLS_NO_SUCH_SUITE'");
}

/// One handshake between the two contexts over an in-memory BIO pair.
struct Handshake {
  std::unique_ptr<SSL, decltype(&SSL_free)> server{nullptr, SSL_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> client{nullptr, SSL_free};
  bool ok = false;
};

Handshake handshake(asio::ssl::context& server_ctx, asio::ssl::context& client_ctx,
                    const std::string& host) {
  Handshake h;
  h.server.reset(SSL_new(server_ctx.native_handle()));
  h.client.reset(SSL_new(client_ctx.native_handle()));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
  SSL_set_bio(h.server.get(), server_bio, server_bio);
  SSL_set_bio(h.client.get(), client_bio, client_bio);
  SSL_set_accept_state(h.server.get());
  SSL_set_connect_state(h.client.get());
  tls::set_peer_host(h.client.get(), host, true);
  for (int round = 0; round < 20; ++round) {
    int c = SSL_do_handshake(h.client.get());
    int s = SSL_do_handshake(h.server.get());
    if (c == 1 && s == 1) {
      h.ok = true;
      break;
    }
  }
  return h;
}

TEST_F(TlsContextTest, ClientCertificateSubjectIsTheX509Id) {
  asio::ssl::context server = make_tls_server_context(server_settings());
  TlsSettings client_settings;
  client_settings.keystore_location = file("client.pem");
  client_settings.truststore_location = file("ca.crt");
  client_settings.truststore_type = "PEM";
  asio::ssl::context client = make_tls_client_context(client_settings);
  Handshake h = handshake(server, client, "127.0.0.1");
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(tls_peer_subject(h.server.get()), "CN=client,OU=Clients,O=Corral,C=US");
  EXPECT_TRUE(tls_peer_matches_host(h.client.get(), "localhost"));
  EXPECT_FALSE(tls_peer_matches_host(h.client.get(), "example.com"));
}

TEST_F(TlsContextTest, RefusesWrongHostOtherCaAndMissingCertificate) {
  asio::ssl::context server = make_tls_server_context(server_settings());
  TlsSettings client_settings;
  client_settings.keystore_location = file("client.pem");
  client_settings.truststore_location = file("ca.crt");
  client_settings.truststore_type = "PEM";
  asio::ssl::context client = make_tls_client_context(client_settings);
  EXPECT_FALSE(handshake(server, client, "example.com").ok);

  client_settings.keystore_location = file("rogue.pem");
  asio::ssl::context rogue = make_tls_client_context(client_settings);
  EXPECT_FALSE(handshake(server, rogue, "127.0.0.1").ok);

  client_settings.keystore_location = "";
  asio::ssl::context anonymous = make_tls_client_context(client_settings);
  EXPECT_FALSE(handshake(server, anonymous, "127.0.0.1").ok);
  TlsSettings none = server_settings();
  none.client_auth = TlsClientAuth::none;
  asio::ssl::context lenient = make_tls_server_context(none);
  Handshake h = handshake(lenient, anonymous, "127.0.0.1");
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(tls_peer_subject(h.server.get()), "");
}

}  // namespace
}  // namespace corral::server
