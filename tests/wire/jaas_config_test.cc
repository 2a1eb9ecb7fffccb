// The JAAS configuration syntax: ZooKeeper's Server/Client sections and the errors users see.
#include "wire/sasl/jaas_config.h"

#include <gtest/gtest.h>

namespace corral::sasl {
namespace {

TEST(JaasConfig, ZooKeeperServerAndClientSections) {
  JaasConfig c = parse_jaas(R"(
// The server's users.
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
/* The client's login,
   across lines. */
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule Required
  username='bob' password="bob\"secret" debug=true;
};
)",
                            "jaas.conf");
  ASSERT_EQ(c.sections.size(), 2u);
  const JaasSection* server = c.section("Server");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->line, 3);
  ASSERT_EQ(server->modules.size(), 1u);
  EXPECT_EQ(server->modules[0].class_name, "org.apache.zookeeper.server.auth.DigestLoginModule");
  EXPECT_EQ(server->modules[0].flag, "required");
  EXPECT_EQ(server->modules[0].options.at("user_super"), "adminsecret");
  EXPECT_EQ(server->modules[0].options.at("user_bob"), "bobsecret");
  const JaasSection* client = c.section("Client");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->modules[0].flag, "required");
  EXPECT_EQ(client->modules[0].options.at("username"), "bob");
  EXPECT_EQ(client->modules[0].options.at("password"), "bob\"secret");
  EXPECT_EQ(client->modules[0].options.at("debug"), "true");
  EXPECT_EQ(c.section("server"), nullptr);  // names are case-sensitive
}

TEST(JaasConfig, SeveralModulesAndEmptySections) {
  JaasConfig c =
      parse_jaas("QuorumServer { a.B required user_x=\"1\"; c.D optional; };\nEmpty { };", "f");
  ASSERT_EQ(c.section("QuorumServer")->modules.size(), 2u);
  EXPECT_EQ(c.section("QuorumServer")->modules[1].flag, "optional");
  EXPECT_TRUE(c.section("Empty")->modules.empty());
  EXPECT_TRUE(parse_jaas("  // nothing\n", "f").sections.empty());
}

void expect_error(std::string_view text, std::string_view message) {
  try {
    parse_jaas(text, "jaas.conf");
    ADD_FAILURE() << "parsed: " << text;
  } catch (const JaasError& e) {
    EXPECT_EQ(std::string(e.what()), message) << text;
  }
}

TEST(JaasConfig, ErrorsNameFileAndLine) {
  expect_error("Server {\n  a.B required user_bob=\"x\"\n};",
               "jaas.conf:3: expected ';' after the options of a.B, found '}'");
  expect_error("Server {\n  a.B mandatory;\n};",
               "jaas.conf:2: invalid control flag 'mandatory' (expected required, requisite, "
               "sufficient or optional)");
  expect_error("Server {\n a.B required user_bob=\"x;\n};",
               "jaas.conf:2: unterminated quoted string");
  expect_error("Server {\n a.B required;\n}",
               "jaas.conf:3: expected ';' after the '}' of "
               "section Server, found the end of the file");
  expect_error("Server\n a.B required; };",
               "jaas.conf:2: expected '{' after section name "
               "Server, found 'a.B'");
  expect_error("Server { a.B required user_bob; };",
               "jaas.conf:1: expected '=' after option user_bob, found ';'");
  expect_error("/* open\n\n", "jaas.conf:1: unterminated /* comment");
  expect_error("S { a.B required; };\n\nS { };",
               "jaas.conf:3: section S repeats the one at line 1");
  expect_error("Server { a.B required",
               "jaas.conf:1: expected ';' after the options of a.B, found "
               "the end of the file");
}

}  // namespace
}  // namespace corral::sasl
