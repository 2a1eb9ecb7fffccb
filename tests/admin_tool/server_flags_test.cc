// corral-server --version and --check-config, as an operator runs them: the version is the
// project's (plus git's description) and is what srvr reports after ZooKeeper's 3.8.0;
// --check-config prints every effective setting with defaults filled in and secrets masked,
// or the first error as file:line:key with the startup exit code 2.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "tests/admin_tool/command_run.h"
#include "tests/e2e/raw_client.h"
#include "tests/e2e/server_process.h"

namespace corral::admin_test {
namespace {

using e2e::ServerProcess;

std::string write_cfg(const ServerProcess& dir, const std::string& name, const std::string& text) {
  std::string path = (dir.dir() / name).string();
  std::ofstream(path) << text;
  return path;
}

TEST(ServerFlags, VersionIsTheProjectVersionAndSrvrReportsIt) {
  ToolRun v = run(CORRAL_SERVER_BIN, {"--version"});
  ASSERT_EQ(v.exit_code, 0) << v.output;
  std::string prefix = std::string("corral-server ") + CORRAL_PROJECT_VERSION;
  ASSERT_EQ(v.output.rfind(prefix, 0), 0u) << v.output;
  std::string version = v.output.substr(std::string("corral-server ").size());
  version.erase(version.find_last_not_of('\n') + 1);
  // Never the build date.
  EXPECT_EQ(version.find(__DATE__), std::string::npos) << version;

  ServerProcess server("admin-version", {});
  ASSERT_TRUE(server.start("")) << server.log();
  auto srvr = e2e::four_letter_word(server.port(), "srvr");
  ASSERT_TRUE(srvr.has_value());
  EXPECT_EQ(srvr->rfind("Zookeeper version: 3.8.0-corral-" + version + "\n", 0), 0u) << *srvr;
}

TEST(ServerFlags, CheckConfigPrintsEffectiveSettingsWithSecretsMasked) {
  ServerProcess dir("admin-check", {});
  std::string cfg = write_cfg(dir, "good.cfg",
                              "tickTime=1000\n"
                              "dataDir=" +
                                  dir.data_dir().string() +
                                  "\n"
                                  "clientPort=2999\n"
                                  "DigestAuthenticationProvider.superDigest=super:SECRETHASH=\n"
                                  "ssl.keyStore.password=SECRETPASS\n"
                                  "admin.serverPort=9999\n"
                                  "someUnknownKey=1\n");
  ToolRun r = run(CORRAL_SERVER_BIN, {"--check-config", cfg});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* line :
       {"\ntickTime=1000\n", "\nclientPort=2999\n",
        // Defaults filled in, derived values computed.
        "\nminSessionTimeout=2000\n", "\nmaxSessionTimeout=20000\n",
        "\ndataLogDir=", "\nsnapCount=100000\n", "\nmaxClientCnxns=60\n",
        "\nadmin.serverPort=9999\n", "\nDigestAuthenticationProvider.superDigest=super:****\n",
        "\nssl.keyStore.password=****\n", "# ignored (not used by Corral): someUnknownKey\n"})
    EXPECT_NE(r.output.find(line), std::string::npos) << "missing " << line << " in\n" << r.output;
  EXPECT_EQ(r.output.find("SECRET"), std::string::npos) << r.output;
  // It only checked: nothing was created in the data directory.
  EXPECT_FALSE(std::filesystem::exists(dir.data_dir() / "corral.db"));
}

// The keys of the parser's tables ({"key", setter} lines in config.cc and config_tls.cc).
std::set<std::string> parser_keys() {
  std::set<std::string> keys;
  std::regex entry(R"re(\{"([A-Za-z][A-Za-z0-9_.]*)",)re");
  for (const char* file : {"config.cc", "config_tls.cc"}) {
    std::string text = e2e::read_file(std::string(CORRAL_SOURCE_DIR) + "/ensemble/server/" + file);
    bool tls = std::string(file) == "config_tls.cc";
    for (std::sregex_iterator it(text.begin(), text.end(), entry), end; it != end; ++it) {
      if (!tls) keys.insert((*it)[1]);
      // ssl.* keys exist for the client port and the quorum.
      if (tls) keys.insert({"ssl." + (*it)[1].str(), "ssl.quorum." + (*it)[1].str()});
    }
  }
  return keys;
}

TEST(ServerFlags, CheckConfigListsEveryKeyTheParserKnows) {
  ServerProcess dir("admin-check-keys", {});
  std::string cfg =
      write_cfg(dir, "min.cfg", "dataDir=" + dir.data_dir().string() + "\nclientPort=2999\n");
  ToolRun r = run(CORRAL_SERVER_BIN, {"--check-config", cfg});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Keys that only check a value (nothing is stored), and an alias.
  const std::set<std::string> valueless = {"serverCnxnFactory", "authProvider.x509",
                                           "ssl.authProvider",
                                           "zookeeper.DigestAuthenticationProvider.superDigest"};
  std::set<std::string> keys = parser_keys();
  ASSERT_GT(keys.size(), 50u) << "the key tables were not found in the sources";
  for (const auto& key : keys) {
    if (!valueless.contains(key)) {
      EXPECT_NE(r.output.find("\n" + key + "="), std::string::npos)
          << key << " is parsed but --check-config does not print it (effective_config.cc)";
    }
  }
}

TEST(ServerFlags, CheckConfigNamesTheFirstErrorAndExits2) {
  ServerProcess dir("admin-check-bad", {});
  std::string bad = write_cfg(dir, "bad.cfg",
                              "dataDir=" + dir.data_dir().string() +
                                  "\nclientPort=2999\n"
                                  "tickTime=abc\n");
  ToolRun r = run(CORRAL_SERVER_BIN, {"--check-config", bad});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(bad + ":3: tickTime: expected a positive integer, got 'abc'"),
            std::string::npos)
      << r.output;
  // A check the server makes after parsing: it needs a client port.
  std::string no_port = write_cfg(dir, "noport.cfg", "dataDir=" + dir.data_dir().string() + "\n");
  ToolRun p = run(CORRAL_SERVER_BIN, {"--check-config", no_port});
  EXPECT_EQ(p.exit_code, 2) << p.output;
  EXPECT_NE(p.output.find(no_port + ": clientPort: missing"), std::string::npos) << p.output;
}

}  // namespace
}  // namespace corral::admin_test
