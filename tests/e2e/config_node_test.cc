// /zookeeper/config and `conf` on a 3-member ensemble with reconfig off, against corral-server
// or Apache ZooKeeper 3.8 (the oracle), chosen by ENSEMBLE_IMPL: the same assertions must hold
// for both. The expected texts are built from each member's zoo.cfg, so only the ports differ
// between runs.
//
//  - every member's /zookeeper/config holds ZooKeeper's membership text with version=0 and
//    the stat initConfigInZKDatabase gives it (version -1, aversion -1, zxids and ctime 0);
//  - the C client's zoo_getconfig reads the same;
//  - `conf` ends with dumpConf's quorum lines and `membership: ` + the text (server.3 is an
//    observer: `:observer`, peerType=1);
//  - Corral: the members' tree digests (dgst) agree although each set the node itself.
#include <gtest/gtest.h>
#include <zookeeper/zookeeper.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/ensemble.h"
#include "tests/e2e/raw_client.h"

namespace corral::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Impl g_impl = Impl::kCorral;

/// The zoo.cfg server.N lines of member 0 (all members list the same), keyed by N.
std::map<int, std::string> server_lines(const Ensemble& e) {
  std::ifstream in(e.member_dir(0) / "zoo.cfg");
  std::map<int, std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("server.", 0) == 0)
      out[std::stoi(line.substr(7))] = line.substr(line.find('=') + 1);
  return out;
}

bool is_observer(const std::string& spec) { return spec.ends_with(":observer"); }

/// ZooKeeper's text for them: role made explicit, no client part (the static clientPort).
std::string expected_membership(const Ensemble& e) {
  std::string out;
  for (const auto& [id, spec] : server_lines(e))
    out += "server." + std::to_string(id) + "=" + spec + (is_observer(spec) ? "" : ":participant") +
           "\n";
  return out + "version=0";
}

/// A connected synchronous C client on one member, closed on destruction.
class Session {
 public:
  explicit Session(uint16_t port) {
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zh_ = zookeeper_init(("127.0.0.1:" + std::to_string(port)).c_str(), nullptr, 10000, nullptr,
                         nullptr, 0);
    const auto deadline = Clock::now() + 10s;
    while (zh_ && zoo_state(zh_) != ZOO_CONNECTED_STATE && Clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
  }
  ~Session() {
    if (zh_) zookeeper_close(zh_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  bool connected() const { return zh_ && zoo_state(zh_) == ZOO_CONNECTED_STATE; }
  zhandle_t* handle() const { return zh_; }

 private:
  zhandle_t* zh_ = nullptr;
};

std::string stat_text(const Stat& s) {
  std::ostringstream o;
  o << "czxid=" << s.czxid << " mzxid=" << s.mzxid << " ctime=" << s.ctime
    << " version=" << s.version << " cversion=" << s.cversion << " aversion=" << s.aversion
    << " ephemeralOwner=" << s.ephemeralOwner << " dataLength=" << s.dataLength
    << " numChildren=" << s.numChildren << " pzxid=" << s.pzxid;
  return o.str();
}

class ConfigNodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Ensemble::Options o;
    o.impl = g_impl;
    o.name = "corral-config-node";
    o.extra_cfg = "snapCount=2\n";
    o.observers = 1;  // server.3: ":observer" in the text, peerType=1 in its conf
    ensemble_ = new Ensemble(o);
    ASSERT_TRUE(ensemble_->ok()) << ensemble_->error();
    ASSERT_TRUE(ensemble_->start_all(60s)) << ensemble_->describe();
  }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
  }
  static Ensemble* ensemble_;
};
Ensemble* ConfigNodeTest::ensemble_ = nullptr;

TEST_F(ConfigNodeTest, NodeHoldsMembershipWithZooKeepersStat) {
  const std::string want = expected_membership(*ensemble_);
  for (int i = 0; i < ensemble_->size(); ++i) {
    Session s(ensemble_->client_port(i));
    ASSERT_TRUE(s.connected()) << "member " << i;
    char buf[4096];
    int len = sizeof buf;
    Stat stat{};
    ASSERT_EQ(zoo_get(s.handle(), "/zookeeper/config", 0, buf, &len, &stat), ZOK);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(len)), want) << "member " << i;
    EXPECT_EQ(stat_text(stat),
              "czxid=0 mzxid=0 ctime=0 version=-1 cversion=0 aversion=-1 "
              "ephemeralOwner=0 dataLength=" +
                  std::to_string(want.size()) + " numChildren=0 pzxid=0")
        << "member " << i;
    EXPECT_GT(stat.mtime, 0) << "member " << i;  // the local clock at start-up

    len = sizeof buf;
    Stat config_stat{};
    ASSERT_EQ(zoo_getconfig(s.handle(), 0, buf, &len, &config_stat), ZOK);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(len)), want) << "member " << i;
    EXPECT_EQ(stat_text(config_stat), stat_text(stat));
  }
}

TEST_F(ConfigNodeTest, ConfEndsWithQuorumPart) {
  const std::string membership = expected_membership(*ensemble_);
  const auto lines = server_lines(*ensemble_);
  for (int i = 0; i < ensemble_->size(); ++i) {
    // "127.0.0.1:quorumPort:electionPort[:observer]"
    const std::string& spec = lines.at(i + 1);
    const size_t a = spec.find(':'), b = spec.find(':', a + 1), c = spec.find(':', b + 1);
    const std::string want =
        "serverId=" + std::to_string(i + 1) +
        "\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=" +
        spec.substr(b + 1, c - b - 1) + "\nquorumPort=" + spec.substr(a + 1, b - a - 1) +
        "\npeerType=" + (is_observer(spec) ? "1" : "0") + "\nmembership: \n" + membership;
    auto conf = four_letter_word(ensemble_->client_port(i), "conf", 5000ms);
    ASSERT_TRUE(conf) << "member " << i;
    const size_t at = conf->find("serverId=");
    ASSERT_NE(at, std::string::npos) << *conf;
    // dumpConf prints the text last, with no final newline.
    EXPECT_EQ(conf->substr(at), want);
  }
}

/// Every member's `dgst` once all stand at the same zxid (empty if they never do).
std::vector<std::string> digests_at_one_zxid(Ensemble& e) {
  std::vector<std::string> out;
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    out.clear();
    for (int i = 0; i < e.size(); ++i)
      out.push_back(four_letter_word(e.client_port(i), "dgst", 2000ms).value_or(""));
    auto zxid = [](const std::string& d) { return d.substr(0, d.find('\n')); };
    bool same = true;
    for (const auto& d : out) same = same && !d.empty() && zxid(d) == zxid(out[0]);
    if (same) return out;
    std::this_thread::sleep_for(20ms);
  }
  return {};
}

// The node is set outside the log with a local mtime: digests must still agree.
TEST_F(ConfigNodeTest, MembersDigestsAgree) {
  auto d = digests_at_one_zxid(*ensemble_);
  ASSERT_EQ(d.size(), 3u) << ensemble_->describe();
  EXPECT_EQ(d[1], d[0]);
  EXPECT_EQ(d[2], d[0]);
}

// A member (the observer) restarted after writes and a snapshot (snapCount=2) recovers the node
// from its snapshot and sets it again; the digests still agree.
TEST_F(ConfigNodeTest, RestartedMemberShowsConfigAndAgrees) {
  {
    Session s(ensemble_->client_port(0));
    ASSERT_TRUE(s.connected());
    for (int k = 0; k < 5; ++k) {
      std::string path = "/s1-" + std::to_string(k);
      ASSERT_EQ(zoo_create(s.handle(), path.c_str(), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0),
                ZOK);
    }
  }
  ASSERT_TRUE(ensemble_->restart(2));
  ASSERT_GE(ensemble_->wait_for_quorum(Clock::now() + 30s), 0) << ensemble_->describe();
  // The other two make the quorum: the restarted member (a JVM for ZooKeeper) may not serve yet.
  ASSERT_TRUE(ensemble_->wait_serving(2, Clock::now() + 60s)) << ensemble_->describe();
  Session s(ensemble_->client_port(2));
  ASSERT_TRUE(s.connected());
  char buf[4096];
  int len = sizeof buf;
  Stat stat{};
  ASSERT_EQ(zoo_get(s.handle(), "/zookeeper/config", 0, buf, &len, &stat), ZOK);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(len)), expected_membership(*ensemble_));
  EXPECT_EQ(stat.version, -1);
  EXPECT_EQ(stat.mzxid, 0);
  if (g_impl != Impl::kCorral) return;
  auto d = digests_at_one_zxid(*ensemble_);
  ASSERT_EQ(d.size(), 3u) << ensemble_->describe();
  EXPECT_EQ(d[1], d[0]);
  EXPECT_EQ(d[2], d[0]);
}

}  // namespace
}  // namespace corral::e2e

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  corral::e2e::g_impl = corral::e2e::impl_from_env();
  std::printf("config_node_test impl=%s\n", corral::e2e::impl_name(corral::e2e::g_impl));
  std::fflush(stdout);
  return RUN_ALL_TESTS();
}
