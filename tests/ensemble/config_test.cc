#include "ensemble/server/config.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace corral::server {
namespace {

namespace fs = std::filesystem;

ServerConfig parse(std::string_view text) { return parse_config(text, "zoo.cfg"); }

// The message of the ConfigError that parsing `text` throws, or "" if it parses.
std::string parse_error(std::string_view text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The message of the ConfigError that loading `path` throws, or "" if it loads.
std::string load_error(const std::string& path) {
  try {
    load_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "corral-config-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

  /// Writes `text` to `name` inside the directory; returns its path.
  std::string write(const std::string& name, std::string_view text) const {
    fs::path file = path_ / name;
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  fs::path path_;
};

/// Routes spdlog's default logger into a string for the lifetime of the object.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(ConfigTest, DefaultsAreZooKeeper38s) {
  ServerConfig c = parse("dataDir=/var/lib/zk\n");
  EXPECT_EQ(c.tick_ms, 3000);
  EXPECT_EQ(c.data_dir, "/var/lib/zk");
  EXPECT_EQ(c.data_log_dir, "/var/lib/zk");
  EXPECT_EQ(c.client_port, 0);
  EXPECT_EQ(c.client_port_address, "0.0.0.0");
  EXPECT_EQ(c.max_client_cnxns, 60);
  EXPECT_EQ(c.min_session_timeout_ms, -1);
  EXPECT_EQ(c.max_session_timeout_ms, -1);
  EXPECT_EQ(c.effective_min_session_timeout_ms(), 6000);
  EXPECT_EQ(c.effective_max_session_timeout_ms(), 60000);
  EXPECT_EQ(c.four_letter_words, std::vector<std::string>{"srvr"});
  EXPECT_EQ(c.jute_max_buffer, 0xfffff);
  EXPECT_EQ(c.container_check_interval_ms, 60000);
  EXPECT_FALSE(c.extended_types_enabled);
  EXPECT_EQ(c.super_digest, "");
  EXPECT_EQ(c.init_limit, 10);
  EXPECT_EQ(c.sync_limit, 5);
  EXPECT_EQ(c.peer_type, PeerType::participant);
  EXPECT_TRUE(c.force_sync);
  EXPECT_EQ(c.snap_count, 100000);
  EXPECT_EQ(c.autopurge_snap_retain_count, 3);
  EXPECT_EQ(c.autopurge_purge_interval_hours, 0);
  EXPECT_FALSE(c.readonly_mode_enabled);
  EXPECT_EQ(c.my_id, 0);
  EXPECT_TRUE(c.servers.empty());
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigTest, ReadsEveryKey) {
  ServerConfig c = parse(
      "tickTime=2000\n"
      "dataDir=/data\n"
      "dataLogDir=/datalog\n"
      "clientPort=2181\n"
      "clientPortAddress=127.0.0.1\n"
      "maxClientCnxns=0\n"
      "minSessionTimeout=4000\n"
      "maxSessionTimeout=50000\n"
      "4lw.commands.whitelist=stat, ruok\n"
      "jute.maxbuffer=4194304\n"
      "znode.container.checkIntervalMs=1000\n"
      "extendedTypesEnabled=true\n"
      "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
      "initLimit=20\n"
      "syncLimit=4\n"
      "peerType=observer\n"
      "forceSync=no\n"
      "snapCount=5000\n"
      "autopurge.snapRetainCount=7\n"
      "autopurge.purgeInterval=24\n"
      "readonlymode.enabled=true\n");
  EXPECT_EQ(c.tick_ms, 2000);
  EXPECT_EQ(c.data_dir, "/data");
  EXPECT_EQ(c.data_log_dir, "/datalog");
  EXPECT_EQ(c.client_port, 2181);
  EXPECT_EQ(c.client_port_address, "127.0.0.1");
  EXPECT_EQ(c.max_client_cnxns, 0);
  EXPECT_EQ(c.effective_min_session_timeout_ms(), 4000);
  EXPECT_EQ(c.effective_max_session_timeout_ms(), 50000);
  EXPECT_EQ(c.four_letter_words, (std::vector<std::string>{"stat", "ruok"}));
  EXPECT_EQ(c.jute_max_buffer, 4194304);
  EXPECT_EQ(c.container_check_interval_ms, 1000);
  EXPECT_TRUE(c.extended_types_enabled);
  EXPECT_EQ(c.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");  // '=' inside a value
  EXPECT_EQ(c.init_limit, 20);
  EXPECT_EQ(c.sync_limit, 4);
  EXPECT_EQ(c.peer_type, PeerType::observer);
  EXPECT_FALSE(c.force_sync);
  EXPECT_EQ(c.snap_count, 5000);
  EXPECT_EQ(c.autopurge_snap_retain_count, 7);
  EXPECT_EQ(c.autopurge_purge_interval_hours, 24);
  EXPECT_TRUE(c.readonly_mode_enabled);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigTest, SuperDigestAcceptsTheSystemPropertyName) {
  ServerConfig c = parse(
      "dataDir=/d\n"
      "zookeeper.DigestAuthenticationProvider.superDigest=admin:abc=\n");
  EXPECT_EQ(c.super_digest, "admin:abc=");
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigTest, SkipsCommentsBlankLinesAndTrimsWhitespace) {
  ServerConfig c = parse(
      "# a comment\n"
      "! also a comment\n"
      "   # an indented comment with key=value\n"
      "\n"
      "   \t\n"
      "  tickTime \t=  2500  \r\n"
      "dataDir=/d\r\n"
      "clientPort = 2181");  // no final newline
  EXPECT_EQ(c.tick_ms, 2500);
  EXPECT_EQ(c.data_dir, "/d");
  EXPECT_EQ(c.client_port, 2181);
  EXPECT_TRUE(c.ignored_keys.empty());
}

TEST(ConfigTest, LaterDuplicateKeyWins) {
  ServerConfig c = parse("dataDir=/d\ntickTime=1000\ntickTime=4000\n");
  EXPECT_EQ(c.tick_ms, 4000);
}

TEST(ConfigTest, SessionTimeoutDefaultsFollowTickTime) {
  ServerConfig c = parse("dataDir=/d\ntickTime=100\nmaxSessionTimeout=-1\n");
  EXPECT_EQ(c.effective_min_session_timeout_ms(), 200);
  EXPECT_EQ(c.effective_max_session_timeout_ms(), 2000);
  ServerConfig slow = parse("dataDir=/d\ntickTime=2147483647\n");
  EXPECT_EQ(slow.effective_max_session_timeout_ms(), 2147483647);  // saturated, no overflow
}

TEST(ConfigTest, FourLetterWordWhitelist) {
  ServerConfig c = parse("dataDir=/d\n4lw.commands.whitelist= stat ,, mntr ,\n");
  EXPECT_EQ(c.four_letter_words, (std::vector<std::string>{"stat", "mntr"}));
  EXPECT_TRUE(c.four_letter_word_enabled("stat"));
  EXPECT_TRUE(c.four_letter_word_enabled("mntr"));
  EXPECT_TRUE(c.four_letter_word_enabled("srvr"));  // zkServer.sh needs it, always on
  EXPECT_FALSE(c.four_letter_word_enabled("ruok"));
  EXPECT_FALSE(c.four_letter_word_enabled("isro"));

  ServerConfig all = parse("dataDir=/d\n4lw.commands.whitelist=stat, *\n");
  EXPECT_EQ(all.four_letter_words, std::vector<std::string>{"*"});
  EXPECT_TRUE(all.four_letter_word_enabled("ruok"));
  EXPECT_TRUE(all.four_letter_word_enabled("dump"));

  ServerConfig defaults = parse("dataDir=/d\nreadonlymode.enabled=true\n");
  EXPECT_TRUE(defaults.four_letter_word_enabled("srvr"));
  EXPECT_TRUE(defaults.four_letter_word_enabled("isro"));
  EXPECT_FALSE(defaults.four_letter_word_enabled("stat"));
}

TEST(ConfigTest, BooleansIgnoreCase) {
  ServerConfig c =
      parse("dataDir=/d\nforceSync=YES\nextendedTypesEnabled=False\nreadonlymode.enabled=TRUE\n");
  EXPECT_TRUE(c.force_sync);
  EXPECT_FALSE(c.extended_types_enabled);
  EXPECT_TRUE(c.readonly_mode_enabled);
  EXPECT_EQ(parse("dataDir=/d\npeerType=Participant\n").peer_type, PeerType::participant);
}

TEST(ConfigTest, IntegersMayBeHexadecimal) {
  EXPECT_EQ(parse("dataDir=/d\njute.maxbuffer=0x400000\n").jute_max_buffer, 0x400000);
}

TEST(ConfigTest, SnapRetainCountBelowThreeBecomesThree) {
  EXPECT_EQ(parse("dataDir=/d\nautopurge.snapRetainCount=1\n").autopurge_snap_retain_count, 3);
}

TEST(ConfigTest, ServerLinesInEveryForm) {
  ServerConfig c = parse(
      "dataDir=/d\n"
      "server.1=zk1:2888:3888\n"
      "server.2=zk2.example.com:2889:3889:participant\n"
      "server.3=10.0.0.3:2888:3888:observer\n"
      "server.4=zk4:2888:3888;2181\n"
      "server.5=zk5:2888:3888:observer;10.0.0.5:2182\n"
      "server.6=[fe80::1]:2888:3888;[::1]:2183\n"
      "server.007=zk7:2888:3888:OBSERVER\n"
      "server.0=zk0:2888:3888\n");
  ASSERT_EQ(c.servers.size(), 8u);
  auto expect_peer = [&](size_t i, int64_t id, const std::string& host, bool observer,
                         const std::string& client_address, int client_port) {
    SCOPED_TRACE("server index " + std::to_string(i));
    const PeerSpec& p = c.servers[i];
    EXPECT_EQ(p.id, id);
    EXPECT_EQ(p.host, host);
    EXPECT_EQ(p.quorum_port, i == 1 ? 2889 : 2888);
    EXPECT_EQ(p.election_port, i == 1 ? 3889 : 3888);
    EXPECT_EQ(p.observer, observer);
    EXPECT_EQ(p.client_address, client_address);
    EXPECT_EQ(p.client_port, client_port);
  };
  expect_peer(0, 1, "zk1", false, "", 0);
  expect_peer(1, 2, "zk2.example.com", false, "", 0);
  expect_peer(2, 3, "10.0.0.3", true, "", 0);
  expect_peer(3, 4, "zk4", false, "0.0.0.0", 2181);
  expect_peer(4, 5, "zk5", true, "10.0.0.5", 2182);
  expect_peer(5, 6, "fe80::1", false, "::1", 2183);
  expect_peer(6, 7, "zk7", true, "", 0);
  expect_peer(7, 0, "zk0", false, "", 0);
}

TEST(ConfigTest, TheSpecExampleMessage) {
  EXPECT_EQ(parse_error("dataDir=/d\n\ntickTime=abc\n"),
            "zoo.cfg:3: tickTime: expected a positive integer, got 'abc'");
}

/// A config line that must be rejected, and what the message must say about it.
struct BadLine {
  std::string line;
  std::string key;
  std::string detail;
};

class ConfigErrorTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(ConfigErrorTest, NamesFileLineAndKey) {
  const BadLine& bad = GetParam();
  // The bad line is line 4, after a comment, a blank line and dataDir.
  std::string message = parse_error("# zoo.cfg\n\ndataDir=/d\n" + bad.line + "\ntickTime=2000\n");
  EXPECT_TRUE(Contains(message, "zoo.cfg:4: " + bad.key + ": "));
  EXPECT_TRUE(Contains(message, bad.detail));
}

INSTANTIATE_TEST_SUITE_P(
    MalformedValues, ConfigErrorTest,
    ::testing::Values(
        BadLine{"tickTime=abc", "tickTime", "expected a positive integer, got 'abc'"},
        BadLine{"tickTime=0", "tickTime", "positive integer, got '0'"},
        BadLine{"tickTime=-5", "tickTime", "positive integer, got '-5'"},
        BadLine{"tickTime=2000ms", "tickTime", "got '2000ms'"},
        BadLine{"tickTime=99999999999", "tickTime", "got '99999999999'"},
        BadLine{"tickTime=", "tickTime", "got ''"},
        BadLine{"tickTime=2000 # two seconds", "tickTime", "got '2000 # two seconds'"},
        BadLine{"clientPort=-1", "clientPort", "port number (0-65535), got '-1'"},
        BadLine{"clientPort=65536", "clientPort", "got '65536'"},
        BadLine{"maxClientCnxns=-1", "maxClientCnxns", "non-negative integer, got '-1'"},
        BadLine{"minSessionTimeout=-2", "minSessionTimeout", "got '-2'"},
        BadLine{"maxSessionTimeout=x", "maxSessionTimeout", "got 'x'"},
        BadLine{"jute.maxbuffer=0xZZ", "jute.maxbuffer", "got '0xZZ'"},
        BadLine{"znode.container.checkIntervalMs=0", "znode.container.checkIntervalMs", "got '0'"},
        BadLine{"initLimit=0", "initLimit", "got '0'"},
        BadLine{"syncLimit=five", "syncLimit", "got 'five'"},
        BadLine{"snapCount=-1", "snapCount", "got '-1'"},
        BadLine{"autopurge.snapRetainCount=-3", "autopurge.snapRetainCount", "got '-3'"},
        BadLine{"autopurge.purgeInterval=1h", "autopurge.purgeInterval", "got '1h'"},
        BadLine{"extendedTypesEnabled=yes", "extendedTypesEnabled",
                "expected true or false, got 'yes'"},
        BadLine{"readonlymode.enabled=1", "readonlymode.enabled", "got '1'"},
        BadLine{"forceSync=false", "forceSync", "expected yes or no, got 'false'"},
        BadLine{"peerType=leader", "peerType", "got 'leader'"},
        BadLine{"DigestAuthenticationProvider.superDigest=nocolon",
                "DigestAuthenticationProvider.superDigest", "expected user:base64hash"},
        BadLine{"zookeeper.DigestAuthenticationProvider.superDigest=super:",
                "zookeeper.DigestAuthenticationProvider.superDigest", "expected user:base64hash"},
        BadLine{"tickTime 2000", "tickTime 2000", "expected key=value"},
        BadLine{"= 2000", "= 2000", "expected a key before '='"}));

INSTANTIATE_TEST_SUITE_P(
    MalformedServerLines, ConfigErrorTest,
    ::testing::Values(
        BadLine{"server.x=zk1:2888:3888", "server.x", "N a non-negative integer"},
        BadLine{"server.-1=zk1:2888:3888", "server.-1", "N a non-negative integer"},
        BadLine{"server.=zk1:2888:3888", "server.", "N a non-negative integer"},
        BadLine{"server.1=zk1:2888", "server.1", "expected host:quorumPort:electionPort"},
        BadLine{"server.1=zk1", "server.1", "got 'zk1'"},
        BadLine{"server.1=", "server.1", "expected host:quorumPort"},
        BadLine{"server.1=zk1:2888:3888:observer:x", "server.1", "expected host:quorumPort"},
        BadLine{"server.1=:2888:3888", "server.1", "expected host:quorumPort"},
        BadLine{"server.1=zk1:2888:3888:leader", "server.1",
                "expected participant or observer, got 'leader'"},
        BadLine{"server.1=zk1:abc:3888", "server.1", "quorum port: expected a port number"},
        BadLine{"server.1=zk1:70000:3888", "server.1", "quorum port: expected a port number"},
        BadLine{"server.1=zk1:2888:-1", "server.1", "election port: expected a port number"},
        BadLine{"server.1=zk1:2888:0", "server.1", "election port: expected a port number"},
        BadLine{"server.1=zk1:2888:3888;", "server.1", "client port: expected a port number"},
        BadLine{"server.1=zk1:2888:3888;x", "server.1", "client port: expected"},
        BadLine{"server.1=zk1:2888:3888;a:b:2181", "server.1",
                "expected [clientAddress:]clientPort after ';'"},
        BadLine{"server.1=zk1:2888:3888;:2181", "server.1", "expected [clientAddress:]clientPort"},
        BadLine{"server.1=zk1:2888:3888;2181;2182", "server.1", "expected host:quorumPort"},
        BadLine{"server.1=zk1:2888:3888|zk1b:2888:3888", "server.1", "'|'"},
        BadLine{"server.1=[fe80::1:2888:3888", "server.1", "expected host:quorumPort"},
        BadLine{"server.1=fe80::1:2888:3888", "server.1", "expected host:quorumPort"}));

TEST(ConfigTest, DuplicateServerIdIsAnError) {
  std::string message = parse_error(
      "dataDir=/d\n"
      "server.1=zk1:2888:3888\n"
      "server.2=zk2:2888:3888\n"
      "server.01=zk3:2888:3888\n");
  EXPECT_TRUE(Contains(message, "zoo.cfg:4: server.01: duplicate server id 1 (first at line 2)"));
}

TEST(ConfigTest, MissingDataDirIsAnError) {
  EXPECT_EQ(parse_error("tickTime=2000\n"), "zoo.cfg: dataDir: missing (required)");
  EXPECT_TRUE(Contains(parse_error("dataDir=\n"), "dataDir"));
}

TEST(ConfigTest, ClientPortAddressNeedsClientPort) {
  EXPECT_EQ(parse_error("dataDir=/d\nclientPortAddress=127.0.0.1\n"),
            "zoo.cfg:2: clientPortAddress: set but clientPort is not");
}

TEST(ConfigTest, MinSessionTimeoutMustNotExceedMax) {
  EXPECT_TRUE(
      Contains(parse_error("dataDir=/d\nminSessionTimeout=90000\n"),
               "zoo.cfg:2: minSessionTimeout: the minimum session timeout (90000 ms) is larger "
               "than the maximum (60000 ms)"));
  // Only the maximum is set, and it is below the default minimum (2 * tickTime).
  EXPECT_TRUE(Contains(parse_error("dataDir=/d\ntickTime=2000\nmaxSessionTimeout=1000\n"),
                       "zoo.cfg:3: maxSessionTimeout: "));
}

TEST(ConfigTest, UnusedKeysAreLoggedNotFatal) {
  CapturedLog log;
  ServerConfig c = parse(
      "dataDir=/d\n"
      "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
      "quorumListenOnAllIPs=true\n"
      "audit.enable=true\n"
      "clientPortListenBacklog=50\n"
      "tickTIme=2000\n");
  EXPECT_EQ(c.ignored_keys,
            (std::vector<std::string>{"authProvider.1", "quorumListenOnAllIPs", "audit.enable",
                                      "clientPortListenBacklog", "tickTIme"}));
  EXPECT_EQ(c.tick_ms, 3000);
  EXPECT_TRUE(Contains(log.text(), "zoo.cfg:3: ignoring 'quorumListenOnAllIPs'"));
  EXPECT_TRUE(Contains(log.text(), "zoo.cfg:6: ignoring 'tickTIme'"));
  EXPECT_TRUE(Contains(log.text(), "[warning]"));
}

TEST(LoadConfigTest, ReadsMyIdFromDataDir) {
  TempDir dir;
  std::string cfg = dir.write("zoo.cfg", "dataDir=" + dir.path().string() + "\ntickTime=2000\n");
  dir.write("myid", " 3 \nignored second line\n");
  ServerConfig c = load_config(cfg);
  EXPECT_EQ(c.my_id, 3);
  EXPECT_EQ(c.tick_ms, 2000);
  EXPECT_EQ(c.data_dir, dir.path().string());
}

TEST(LoadConfigTest, MyIdIsZeroWithoutTheFile) {
  TempDir dir;
  std::string cfg = dir.write("zoo.cfg", "dataDir=" + dir.path().string() + "\n");
  EXPECT_EQ(load_config(cfg).my_id, 0);
}

TEST(LoadConfigTest, BadMyIdNamesTheMyIdFile) {
  TempDir dir;
  std::string cfg = dir.write("zoo.cfg", "dataDir=" + dir.path().string() + "\n");
  std::string myid = dir.write("myid", "three\n");
  EXPECT_TRUE(Contains(load_error(cfg), myid + ": expected a server id"));
  EXPECT_TRUE(Contains(load_error(cfg), "got 'three'"));
  dir.write("myid", "");
  EXPECT_TRUE(Contains(load_error(cfg), myid + ": expected a server id"));
  dir.write("myid", "-1");
  EXPECT_TRUE(Contains(load_error(cfg), "got '-1'"));
}

TEST(LoadConfigTest, MissingOrUnreadableFileNamesThePath) {
  TempDir dir;
  std::string missing = (dir.path() / "nope.cfg").string();
  EXPECT_EQ(load_error(missing), missing + ": cannot read: No such file or directory");
  std::string directory = dir.path().string();
  EXPECT_EQ(load_error(directory), directory + ": cannot read: Is a directory");
}

TEST(LoadConfigTest, ErrorsNameThePath) {
  TempDir dir;
  std::string cfg = dir.write("zoo.cfg", "dataDir=/d\ntickTime=abc\n");
  EXPECT_TRUE(Contains(load_error(cfg), cfg + ":2: tickTime: "));
}

TEST(LoadConfigTest, OwnServerLineSuppliesTheClientAddress) {
  TempDir dir;
  std::string servers =
      "server.1=zk1:2888:3888;2181\n"
      "server.2=zk2:2888:3888;10.0.0.2:2182\n"
      "server.3=zk3:2888:3888\n";
  std::string data_dir = "dataDir=" + dir.path().string() + "\n";
  std::string cfg = dir.write("zoo.cfg", data_dir + servers);
  dir.write("myid", "2\n");
  ServerConfig c = load_config(cfg);
  EXPECT_EQ(c.client_port, 2182);
  EXPECT_EQ(c.client_port_address, "10.0.0.2");

  // clientPort may repeat the server line's port.
  dir.write("zoo.cfg", data_dir + "clientPort=2182\n" + servers);
  EXPECT_EQ(load_config(cfg).client_port_address, "10.0.0.2");

  // ... but not contradict it.
  dir.write("zoo.cfg", data_dir + "clientPort=2181\n" + servers);
  EXPECT_TRUE(Contains(load_error(cfg), cfg + ": server.2: client address 10.0.0.2:2182 differs"));
  dir.write("zoo.cfg", data_dir + "clientPort=2182\nclientPortAddress=10.9.9.9\n" + servers);
  EXPECT_TRUE(Contains(load_error(cfg), "server.2: client address"));

  // A server line without a client part leaves clientPort alone.
  dir.write("myid", "3\n");
  dir.write("zoo.cfg", data_dir + "clientPort=2190\n" + servers);
  EXPECT_EQ(load_config(cfg).client_port, 2190);
}

}  // namespace
}  // namespace corral::server
