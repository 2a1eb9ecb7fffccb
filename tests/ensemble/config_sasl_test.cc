// The SASL settings: zoo.cfg keys, SERVER_JVMFLAGS' -D properties, and the users of the JAAS
// file with the errors a user sees.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ensemble/server/config.h"
#include "ensemble/server/sasl_settings.h"

namespace corral::server {
namespace {

constexpr std::string_view kBase = "dataDir=/tmp/x\nclientPort=2181\n";

ServerConfig parse(std::string_view extra) {
  return parse_config(std::string(kBase) + std::string(extra), "zoo.cfg");
}

TEST(ConfigSasl, DefaultsAreZooKeepers) {
  ServerConfig c = parse("");
  EXPECT_EQ(c.jaas_config_path, "");
  EXPECT_EQ(c.sasl_login_section, "Server");
  EXPECT_EQ(c.sasl_super_user, "");
  EXPECT_FALSE(c.kerberos_remove_host);
  EXPECT_FALSE(c.kerberos_remove_realm);
}

TEST(ConfigSasl, KeysAreRead) {
  ServerConfig c = parse(
      "java.security.auth.login.config=/etc/zk/jaas.conf\nsasl.serverconfig=ZkServer\n"
      "superUser=admin\nkerberos.removeHostFromPrincipal=true\n"
      "kerberos.removeRealmFromPrincipal=true\n");
  EXPECT_EQ(c.jaas_config_path, "/etc/zk/jaas.conf");
  EXPECT_EQ(c.sasl_login_section, "ZkServer");
  EXPECT_EQ(c.sasl_super_user, "admin");
  EXPECT_TRUE(c.kerberos_remove_host);
  EXPECT_TRUE(c.kerberos_remove_realm);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigSasl, BadBooleanNamesFileLineAndKey) {
  try {
    parse("kerberos.removeRealmFromPrincipal=yes\n");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "zoo.cfg:3: kerberos.removeRealmFromPrincipal: expected true or false, got 'yes'");
  }
}

TEST(ConfigSasl, JvmFlagsAsZkServerShPassesThem) {
  ServerConfig c = parse("");
  apply_jvm_flags(c,
                  "-Xmx1g -Djava.security.auth.login.config=/a/jaas.conf  "
                  "-Dzookeeper.superUser=root -Dzookeeper.sasl.serverconfig=S "
                  "-Dzookeeper.kerberos.removeRealmFromPrincipal=true -Dother=1");
  EXPECT_EQ(c.jaas_config_path, "/a/jaas.conf");
  EXPECT_EQ(c.sasl_super_user, "root");
  EXPECT_EQ(c.sasl_login_section, "S");
  EXPECT_TRUE(c.kerberos_remove_realm);
  EXPECT_FALSE(c.kerberos_remove_host);
}

TEST(ConfigSasl, ZooCfgWinsOverJvmFlags) {
  ServerConfig c = parse("java.security.auth.login.config=/cfg/jaas.conf\nsuperUser=admin\n");
  apply_jvm_flags(c, "-Djava.security.auth.login.config=/flag/jaas.conf -Dzookeeper.superUser=x");
  EXPECT_EQ(c.jaas_config_path, "/cfg/jaas.conf");
  EXPECT_EQ(c.sasl_super_user, "admin");
}

class JaasFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("corral-config-sasl-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text) {
    std::string path = (dir_ / "jaas.conf").string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(JaasFile, UsersOfTheServerSection) {
  ServerConfig c;
  c.jaas_config_path = write(
      "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
      "  user_super=\"adminsecret\" user_bob=\"bobsecret\" debug=\"true\";\n};\n"
      "Client { x.Y required username=\"bob\" password=\"bobsecret\"; };\n");
  load_sasl_users(c);
  EXPECT_EQ(c.sasl_users,
            (std::map<std::string, std::string>{{"bob", "bobsecret"}, {"super", "adminsecret"}}));
}

TEST_F(JaasFile, ErrorsNameTheFileAndLine) {
  ServerConfig c;
  c.jaas_config_path = write("Server {\n  x.Y required user_bob=\"b\"\n};\n");
  try {
    load_sasl_users(c);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              c.jaas_config_path + ":3: expected ';' after the options of x.Y, found '}'");
  }
  // No Server section: no client logins, as in ZooKeeper (a file for the quorum only).
  c.jaas_config_path = write("QuorumServer { x.Y required user_s=\"p\"; };\n");
  load_sasl_users(c);
  EXPECT_TRUE(c.sasl_users.empty());
  c.jaas_config_path = (dir_ / "missing.conf").string();
  EXPECT_THROW(load_sasl_users(c), ConfigError);
}

TEST_F(JaasFile, NoFileNoUsers) {
  ServerConfig c;
  load_sasl_users(c);
  EXPECT_TRUE(c.sasl_users.empty());
}

}  // namespace
}  // namespace corral::server
