// dynamicConfigFile: reading it at start-up (with ZooKeeper 3.8's rules), and the files an
// activated config writes (dynamic file, zoo.cfg rewritten, one-time .bak), compared with the
// files Apache ZooKeeper 3.8 itself writes for the same legacy zoo.cfg.
#include "ensemble/server/dynamic_config_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "ensemble/server/membership.h"
#include "ensemble/server/startup_config.h"
#include "tests/e2e/ensemble.h"

namespace corral::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "corral-dynfile.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string get(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::set<std::string> names_in(const fs::path& dir, const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with(prefix)) out.insert(name);
  }
  return out;
}

std::multiset<std::string> lines_of(const std::string& text) {
  std::multiset<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

/// A data directory with myid, and a zoo.cfg beside it: three lines, then `lines`.
struct MemberDir {
  TempDir dir;
  std::string cfg = dir.file("zoo.cfg");
  std::string dyn = dir.file("zoo.cfg.dynamic.100000000");
  explicit MemberDir(const std::string& lines, int64_t my_id = 1) {
    fs::create_directories(dir.path() / "data");
    put(dir.file("data/myid"), std::to_string(my_id) + "\n");
    put(cfg, "tickTime=2000\ndataDir=" + dir.file("data") + "\nclientPort=2181\n" + lines);
  }
  ServerConfig load() { return load_startup_config(cfg); }
};

TEST(DynamicConfigFile, VersionComesFromTheNamesHexSuffix) {
  EXPECT_EQ(dynamic_file_version("/etc/zk/zoo.cfg.dynamic.100000000"), 0x100000000);
  EXPECT_EQ(dynamic_file_version("zoo.cfg.dynamic.1a"), 0x1a);
  EXPECT_EQ(dynamic_file_version("zoo.cfg.dynamic"), 0);
  EXPECT_EQ(dynamic_file_version("zoo.cfg.dynamic.next"), 0);
  EXPECT_EQ(dynamic_file_version("/etc/a.b/members"), 0);
  EXPECT_EQ(dynamic_file_name("/etc/zk/zoo.cfg", 0x10000000a), "/etc/zk/zoo.cfg.dynamic.10000000a");
}

TEST(DynamicConfigFile, TextIsSortedAsStringsWithoutVersion) {
  zab::QuorumConfig c;
  c.version = 0x100000000;
  for (int64_t id : {2, 10, 1}) {
    zab::QuorumServer s{id, "h", 2000, 3000, zab::QuorumRole::kParticipant, "", 0, false};
    c.servers[id] = s;
  }
  c.servers[10].role = zab::QuorumRole::kObserver;
  c.servers[2].client_host = "0.0.0.0";
  c.servers[2].client_port = 2181;
  EXPECT_EQ(dynamic_file_text(c),
            // Java sorts whole lines: '0' (0x30) comes before '=' (0x3d).
            "server.10=h:2000:3000:observer\nserver.1=h:2000:3000:participant\n"
            "server.2=h:2000:3000:participant;0.0.0.0:2181");
}

TEST(DynamicConfigFile, StaticTextDropsTheMembershipKeys) {
  std::string cfg =
      "# comment\ntickTime=2000\nserver.1=a:1:2\npeerType=observer\ngroup.1=1\nweight.1=1\n"
      "dynamicConfigFile=/old\nclientPort=2181\nclientPortAddress=127.0.0.1\n\ntickTime=3000\n";
  EXPECT_EQ(
      static_config_text(cfg, "/new", false),
      "tickTime=3000\nclientPort=2181\nclientPortAddress=127.0.0.1\ndynamicConfigFile=/new\n");
  EXPECT_EQ(static_config_text(cfg, "/new", true), "tickTime=3000\ndynamicConfigFile=/new\n");
}

TEST(DynamicConfigFile, ActivationWritesTheFilesAndBacksUpALegacyZooCfgOnce) {
  MemberDir s("server.1=127.0.0.1:2001:3001;2181\nserver.2=127.0.0.1:2002:3002\n");
  std::string legacy = get(s.cfg);
  zab::QuorumConfig c = membership_of(s.load());
  c.version = 0x100000000;
  EXPECT_EQ(write_config_files(s.cfg, c, 1), s.dyn);
  EXPECT_EQ(get(s.cfg + ".bak"), legacy);
  EXPECT_EQ(get(s.dyn),
            "server.1=127.0.0.1:2001:3001:participant;0.0.0.0:2181\n"
            "server.2=127.0.0.1:2002:3002:participant");
  // Its own line has a client part: clientPort goes from zoo.cfg.
  EXPECT_EQ(get(s.cfg), "tickTime=2000\ndataDir=" + s.dir.file("data") +
                            "\ndynamicConfigFile=" + fs::canonical(s.dyn).string() + "\n");
  // Corral reads back what it wrote.
  ServerConfig reread = s.load();
  EXPECT_EQ(reread.dynamic_config_version, 0x100000000);
  EXPECT_EQ(membership_of(reread), c);
  EXPECT_EQ(reread.client_port, 2181);
  // The next activation points zoo.cfg to the new file; the backup stays the legacy file.
  c.version = 0x200000003;
  c.servers.erase(2);
  write_config_files(s.cfg, c, 1);
  EXPECT_EQ(get(s.cfg + ".bak"), legacy);
  EXPECT_EQ(s.load().dynamic_config_version, 0x200000003);
  EXPECT_EQ(names_in(s.dir.path(), "zoo.cfg"),
            (std::set<std::string>{"zoo.cfg", "zoo.cfg.bak", "zoo.cfg.dynamic.100000000",
                                   "zoo.cfg.dynamic.200000003"}));
}

TEST(DynamicConfigFile, TheDynamicFileGivesTheMembersAndThisServersClientAddress) {
  MemberDir s("", 2);
  put(s.dyn, "server.2=127.0.0.1:2002:3002:participant;127.0.0.2:2182\n");
  put(s.cfg, "dataDir=" + s.dir.file("data") + "\ndynamicConfigFile=" + s.dyn + "\n");
  ServerConfig c = s.load();
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].id, 2);
  EXPECT_EQ(c.client_port, 2182);
  EXPECT_EQ(c.client_port_address, "127.0.0.2");
  EXPECT_EQ(membership_of(c).version, 0x100000000);
}

TEST(DynamicConfigFile, EveryErrorNamesFileLineAndKey) {
  auto with_dynamic = [](const std::string& cfg_lines, const std::string& dyn_text) {
    MemberDir s(cfg_lines);
    put(s.dyn, dyn_text);
    std::string text = get(s.cfg);
    size_t at = text.find("@DYN@");
    if (at != std::string::npos) put(s.cfg, text.replace(at, 5, s.dyn));
    std::string error = error_of([&] { s.load(); });
    // Messages name paths; compare them without the temporary directory.
    for (size_t p; (p = error.find(s.dir.path().string())) != std::string::npos;)
      error.replace(p, s.dir.path().string().size(), "DIR");
    return error;
  };
  const std::string ok = "server.1=127.0.0.1:2001:3001\n";
  EXPECT_EQ(with_dynamic("server.1=127.0.0.1:2001:3001\ndynamicConfigFile=@DYN@\n", ok),
            "DIR/zoo.cfg:4: server.1: must be in the dynamic config file (dynamicConfigFile is "
            "set)");
  EXPECT_EQ(with_dynamic("dynamicConfigFile=@DYN@\nserver.1=127.0.0.1:2001:3001\n", ok),
            "DIR/zoo.cfg:5: server.1: must be in the dynamic config file (dynamicConfigFile is "
            "set)");
  EXPECT_NE(
      with_dynamic("dynamicConfigFile=@DYN@\ngroup.1=1:2:3\n", ok).find("zoo.cfg:5: group.1:"),
      std::string::npos);
  EXPECT_NE(with_dynamic("dynamicConfigFile=@DYN@\nweight.1=1\n", ok).find("zoo.cfg:5: weight.1:"),
            std::string::npos);
  EXPECT_EQ(with_dynamic("dynamicConfigFile=@DYN@\n", ok + "version=100000000\n"),
            "DIR/zoo.cfg.dynamic.100000000:2: version: a dynamic config file has no version "
            "line: its version is the file name's suffix");
  EXPECT_EQ(with_dynamic("dynamicConfigFile=@DYN@\n", ok + "tickTime=1\n"),
            "DIR/zoo.cfg.dynamic.100000000:2: tickTime: only server.N lines belong in a dynamic "
            "config file");
  EXPECT_EQ(with_dynamic("dynamicConfigFile=@DYN@\n", ok + "garbage\n"),
            "DIR/zoo.cfg.dynamic.100000000:2: garbage: only server.N lines belong in a dynamic "
            "config file");
  EXPECT_EQ(with_dynamic("dynamicConfigFile=@DYN@\n", "server.x=127.0.0.1:2001:3001\n"),
            "DIR/zoo.cfg.dynamic.100000000:1: server.x: expected server.N with N a non-negative "
            "integer");
  EXPECT_NE(with_dynamic("dynamicConfigFile=@DYN@\n", "server.1=127.0.0.1:2001\n")
                .find("zoo.cfg.dynamic.100000000:1: server.1: expected host:quorumPort"),
            std::string::npos);
  EXPECT_EQ(with_dynamic("dynamicConfigFile=@DYN@\n", "server.1=127.0.0.1:2001:3001:observer\n"),
            "DIR/zoo.cfg.dynamic.100000000: observers without participants");
  EXPECT_NE(with_dynamic("dynamicConfigFile=DIR/missing\n", ok)
                .find("zoo.cfg:4: dynamicConfigFile: cannot read DIR/missing"),
            std::string::npos);
  EXPECT_NE(with_dynamic("dynamicConfigFile=@DYN@\n", "server.1=127.0.0.1:2001:3001;2999\n")
                .find("client address 0.0.0.0:2999 differs from clientPortAddress:clientPort"),
            std::string::npos);
}

TEST(DynamicConfigFile, AtomicWritesLeaveNoTemporaryFile) {
  TempDir dir;
  write_file_atomically(dir.file("f"), "one");
  write_file_atomically(dir.file("f"), "two");
  EXPECT_EQ(get(dir.file("f")), "two");
  EXPECT_EQ(names_in(dir.path(), "f"), std::set<std::string>{"f"});
  EXPECT_THROW(write_file_atomically(dir.file("no/such/dir/f"), "x"), std::system_error);
}

// Gives every server.N line of member i's zoo.cfg the client part `;127.0.0.1:<its port>`.
void add_client_parts(const e2e::Ensemble& zk, int i) {
  std::istringstream in(get((zk.member_dir(i) / "zoo.cfg").string()));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("server.")) {
      int id = std::stoi(line.substr(7, line.find('=') - 7));
      line += ";127.0.0.1:" + std::to_string(zk.client_port(id - 1));
    }
    out += line + "\n";
  }
  put((zk.member_dir(i) / "zoo.cfg").string(), out);
}

// The oracle: a 3-member Apache ZooKeeper 3.8 ensemble with reconfigEnabled=true on legacy
// zoo.cfg files activates version 0x100000000 (ZOOKEEPER-1783) and rewrites its files. Corral's
// writer, given a copy of the same legacy zoo.cfg and that config, writes files of the same
// names; the dynamic file and the backup are equal byte for byte, zoo.cfg line for line (ZooKeeper
// writes its keys in hash-table order, Corral in the file's order) once the directory is renamed.
void expect_same_files_as_zookeeper(bool client_parts) {
  e2e::Ensemble::Options o;
  o.impl = e2e::Impl::kZooKeeper;
  o.extra_cfg = "reconfigEnabled=true\n";
  o.name = "corral-dynfile-zk";
  e2e::Ensemble zk(o);
  ASSERT_TRUE(zk.ok()) << zk.error();
  std::vector<std::string> legacy;
  for (int i = 0; i < zk.size(); ++i) {
    if (client_parts) add_client_parts(zk, i);
    legacy.push_back(get(zk.member_dir(i) / "zoo.cfg"));
  }
  ASSERT_TRUE(zk.start_all()) << zk.error() << zk.describe();
  const std::string dynamic_name = "zoo.cfg.dynamic.100000000";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < zk.size(); ++i) {
    while (get(zk.member_dir(i) / "zoo.cfg").find("dynamicConfigFile=") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  zk.stop_all();
  for (int i = 0; i < zk.size(); ++i) {
    SCOPED_TRACE("server." + std::to_string(i + 1));
    fs::path zk_dir = zk.member_dir(i);
    TempDir mine;
    fs::create_directories(mine.path() / "data");
    put(mine.file("data/myid"), std::to_string(i + 1) + "\n");
    std::string cfg = legacy[static_cast<size_t>(i)];
    std::string zk_data = (zk_dir / "data").string();
    cfg.replace(cfg.find(zk_data), zk_data.size(), mine.file("data"));
    put(mine.file("zoo.cfg"), cfg);
    zab::QuorumConfig c = membership_of(load_startup_config(mine.file("zoo.cfg")));
    c.version = 0x100000000;
    write_config_files(mine.file("zoo.cfg"), c, i + 1);

    EXPECT_EQ(names_in(mine.path(), "zoo.cfg"), names_in(zk_dir, "zoo.cfg"));
    EXPECT_EQ(get(mine.file(dynamic_name)), get((zk_dir / dynamic_name).string()));
    EXPECT_EQ(get(mine.file("zoo.cfg.bak")), cfg);
    EXPECT_EQ(get((zk_dir / "zoo.cfg.bak").string()), legacy[static_cast<size_t>(i)]);
    std::string zk_cfg = get((zk_dir / "zoo.cfg").string());
    std::string from = fs::canonical(zk_dir).string();
    for (size_t p; (p = zk_cfg.find(from)) != std::string::npos;)
      zk_cfg.replace(p, from.size(), fs::canonical(mine.path()).string());
    EXPECT_EQ(lines_of(get(mine.file("zoo.cfg"))), lines_of(zk_cfg)) << zk_cfg;
    EXPECT_EQ(zk_cfg.find("clientPort") == std::string::npos, client_parts) << zk_cfg;
  }
}

TEST(DynamicConfigFileVsZooKeeper, SameFilesForALegacyZooCfgWithAStaticClientPort) {
  expect_same_files_as_zookeeper(false);
}

// Each server.N line has a client part: ZooKeeper drops clientPort* from zoo.cfg.
TEST(DynamicConfigFileVsZooKeeper, SameFilesForALegacyZooCfgWithClientPartsInServerLines) {
  expect_same_files_as_zookeeper(true);
}

}  // namespace
}  // namespace corral::server
