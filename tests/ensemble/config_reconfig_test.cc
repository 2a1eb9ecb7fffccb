// The zoo.cfg keys of dynamic reconfiguration: reconfigEnabled, standaloneEnabled and
// dynamicConfigFile (ZooKeeper 3.8's defaults and values), no longer ignored, shown by
// --check-config with the source of the server.N lines, and the start-up membership check.
#include "ensemble/server/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ensemble/server/effective_config.h"
#include "ensemble/server/startup_config.h"

namespace corral::server {
namespace {

namespace fs = std::filesystem;

ServerConfig parse(const std::string& lines) {
  return parse_config("dataDir=/tmp/corral-unused\n" + lines, "zoo.cfg");
}

std::string error_of(const std::string& lines) {
  try {
    parse(lines);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ConfigReconfig, DefaultsAreZooKeepers) {
  ServerConfig c = parse("");
  EXPECT_FALSE(c.reconfig_enabled);
  EXPECT_TRUE(c.standalone_enabled);
  EXPECT_EQ(c.dynamic_config_file, "");
  EXPECT_EQ(c.dynamic_config_version, 0);
}

TEST(ConfigReconfig, KeysAreReadAndNoLongerIgnored) {
  ServerConfig c = parse(
      "reconfigEnabled=TRUE\nstandaloneEnabled=false\ndynamicConfigFile=/etc/zk/"
      "zoo.cfg.dynamic.100000000\n");
  EXPECT_TRUE(c.reconfig_enabled);
  EXPECT_FALSE(c.standalone_enabled);
  EXPECT_EQ(c.dynamic_config_file, "/etc/zk/zoo.cfg.dynamic.100000000");
  EXPECT_TRUE(c.ignored_keys.empty());
  EXPECT_FALSE(parse("reconfigEnabled=false\n").reconfig_enabled);
}

TEST(ConfigReconfig, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(error_of("reconfigEnabled=yes\n"),
            "zoo.cfg:2: reconfigEnabled: expected true or false, got 'yes'");
  EXPECT_EQ(error_of("tickTime=2000\nstandaloneEnabled=1\n"),
            "zoo.cfg:3: standaloneEnabled: expected true or false, got '1'");
  EXPECT_EQ(error_of("dynamicConfigFile=\n"),
            "zoo.cfg:2: dynamicConfigFile: expected the path of a dynamic config file");
}

/// A zoo.cfg and data/myid in a temporary directory.
class Dir {
 public:
  Dir() {
    std::string tmpl = (fs::temp_directory_path() / "corral-cfg-reconfig.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
    fs::create_directories(path_ / "data");
  }
  ~Dir() { fs::remove_all(path_); }
  std::string write(const std::string& lines, int64_t my_id) {
    std::ofstream((path_ / "data" / "myid").string()) << my_id << "\n";
    std::string cfg = (path_ / "zoo.cfg").string();
    std::ofstream(cfg) << "dataDir=" << (path_ / "data").string() << "\nclientPort=2181\n" << lines;
    return cfg;
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string startup_error(const std::string& cfg) {
  try {
    load_startup_config(cfg);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

const std::string kMembers = "server.1=127.0.0.1:2001:3001\nserver.2=127.0.0.1:2002:3002\n";

TEST(ConfigReconfig, WithoutReconfigMyidMustBeListedAsBefore) {
  Dir d;
  std::string cfg = d.write(kMembers, 3);
  EXPECT_TRUE(contains(startup_error(cfg), "myid 3 (from " + d.file("data") +
                                               "/myid) is not one of the server.N lines"))
      << startup_error(cfg);
}

TEST(ConfigReconfig, WithReconfigAServerStillListsItselfForItsPorts) {
  Dir d;
  std::string cfg = d.write("reconfigEnabled=true\n" + kMembers, 3);
  EXPECT_TRUE(contains(startup_error(cfg),
                       "myid 3 (from " + d.file("data") + "/myid) has no server.N line"))
      << startup_error(cfg);
  EXPECT_EQ(startup_error(d.write("reconfigEnabled=true\n" + kMembers, 2)), "no error");
}

TEST(ConfigReconfig, CheckConfigShowsTheKeysAndTheMembersSource) {
  Dir d;
  std::string text = effective_config_text(load_startup_config(d.write(kMembers, 1)));
  EXPECT_TRUE(contains(text, "reconfigEnabled=false\nstandaloneEnabled=true\ndynamicConfigFile=\n"))
      << text;
  EXPECT_TRUE(contains(text, "# server.N from zoo.cfg (version 0x0)\n")) << text;

  std::string dyn = d.file("zoo.cfg.dynamic.100000000");
  std::ofstream(dyn) << kMembers;
  text = effective_config_text(
      load_startup_config(d.write("reconfigEnabled=true\ndynamicConfigFile=" + dyn + "\n", 1)));
  EXPECT_TRUE(contains(text, "server.2=127.0.0.1:2002:3002:participant\n")) << text;
  EXPECT_TRUE(contains(text, "dynamicConfigFile=" + dyn + "\n")) << text;
  EXPECT_TRUE(contains(text, "# server.N from " + dyn +
                                 " (version 0x100000000); a newer config stored in the data "
                                 "directory wins\n"))
      << text;
}

}  // namespace
}  // namespace corral::server
