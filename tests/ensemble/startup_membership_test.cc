// startup_membership: which membership a server starts with, from its files (zoo.cfg's
// server.N lines or the dynamic file) and its database's 'active' and 'next' rows.
#include "ensemble/server/startup_membership.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "ensemble/server/membership.h"
#include "ensemble/storage/database.h"
#include "tests/e2e/ensemble.h"
#include "tests/e2e/raw_client.h"

namespace corral::server {
namespace {

using storage::StoredQuorumConfig;

zab::QuorumConfig members(int64_t version, std::initializer_list<int64_t> ids) {
  zab::QuorumConfig c;
  c.version = version;
  for (int64_t id : ids) {
    zab::QuorumServer s;
    s.id = id;
    s.host = "127.0.0.1";
    s.quorum_port = 2000 + static_cast<int>(id);
    s.election_port = 3000 + static_cast<int>(id);
    c.servers[id] = s;
  }
  return c;
}

StoredQuorumConfig row(const zab::QuorumConfig& c) { return {c.version, c.text()}; }

const BootstrapConfig kZooCfg{members(0, {1, 2, 3}), "/etc/corral/zoo.cfg"};

StartupMembership chosen(const BootstrapConfig& files,
                         const std::optional<StoredQuorumConfig>& active,
                         const std::optional<StoredQuorumConfig>& next, bool reconfig,
                         int64_t my_id = 1) {
  auto out = startup_membership(files, active, next, reconfig, my_id);
  if (auto* error = std::get_if<std::string>(&out)) ADD_FAILURE() << *error;
  return std::get<StartupMembership>(std::move(out));
}

std::string refusal(const BootstrapConfig& files, const std::optional<StoredQuorumConfig>& active,
                    const std::optional<StoredQuorumConfig>& next, bool reconfig,
                    int64_t my_id = 1) {
  auto out = startup_membership(files, active, next, reconfig, my_id);
  if (!std::holds_alternative<std::string>(out)) ADD_FAILURE() << "started, expected a refusal";
  auto* error = std::get_if<std::string>(&out);
  return error ? *error : "";
}

TEST(StartupMembership, WithoutRowsTheFilesGiveTheMembers) {
  for (bool reconfig : {false, true}) {
    auto m = chosen(kZooCfg, std::nullopt, std::nullopt, reconfig);
    EXPECT_EQ(*m.active, kZooCfg.config);
    EXPECT_EQ(m.active_source, kZooCfg.source);
    EXPECT_FALSE(m.last_seen);
  }
}

// A member restarted on its original zoo.cfg after a reconfig keeps the newer config.
TEST(StartupMembership, ANewerStoredConfigWinsOverTheOriginalZooCfg) {
  zab::QuorumConfig grown = members(0x100000004, {1, 2, 3, 4, 5});
  auto m = chosen(kZooCfg, row(grown), std::nullopt, true);
  EXPECT_EQ(*m.active, grown);
  EXPECT_EQ(m.active_source, "the database");
  ASSERT_EQ(m.notices.size(), 1u);
  EXPECT_NE(m.notices[0].find("newer"), std::string::npos) << m.notices[0];
}

TEST(StartupMembership, ANewerDynamicFileWinsOverTheStoredConfig) {
  BootstrapConfig file{members(0x200000000, {1, 2}), "/etc/corral/zoo.cfg.dynamic.200000000"};
  auto m = chosen(file, row(members(0x100000004, {1, 2, 3})), std::nullopt, true);
  EXPECT_EQ(*m.active, file.config);
  EXPECT_EQ(m.active_source, file.source);
}

TEST(StartupMembership, EqualVersionsWithOtherMembersRefuseNamingBoth) {
  BootstrapConfig file{members(0x100000004, {1, 2, 3}), "/etc/corral/zoo.cfg.dynamic.100000004"};
  std::string error = refusal(file, row(members(0x100000004, {1, 2, 4})), std::nullopt, true);
  EXPECT_NE(error.find(file.source), std::string::npos) << error;
  EXPECT_NE(error.find("the database"), std::string::npos) << error;
  EXPECT_NE(error.find("0x100000004"), std::string::npos) << error;
  EXPECT_NE(error.find("server.4="), std::string::npos) << error;
}

TEST(StartupMembership, EqualVersionsWithTheSameMembersStart) {
  BootstrapConfig file{members(0x100000004, {1, 2, 3}), "/etc/corral/zoo.cfg.dynamic.100000004"};
  auto m = chosen(file, row(file.config), std::nullopt, true);
  EXPECT_EQ(*m.active, file.config);
  EXPECT_TRUE(m.notices.empty());
}

TEST(StartupMembership, WithoutReconfigTheFilesAlwaysWinAndTheRowIsNoted) {
  auto m = chosen(kZooCfg, row(members(0x100000004, {1, 2, 3, 4, 5})), std::nullopt, false);
  EXPECT_EQ(*m.active, kZooCfg.config);
  EXPECT_EQ(m.active_source, kZooCfg.source);
  ASSERT_EQ(m.notices.size(), 1u);
  EXPECT_NE(m.notices[0].find("reconfigEnabled=false"), std::string::npos) << m.notices[0];
  // Nothing to note when the row is the file's own config.
  EXPECT_TRUE(chosen(kZooCfg, row(kZooCfg.config), std::nullopt, false).notices.empty());
}

TEST(StartupMembership, WithoutReconfigANextRowIsNotLastSeen) {
  auto m = chosen(kZooCfg, std::nullopt, row(members(0x100000004, {1, 2})), false);
  EXPECT_FALSE(m.last_seen);
}

TEST(StartupMembership, ANewerNextRowIsTheLastSeenConfig) {
  zab::QuorumConfig active = members(0x100000001, {1, 2, 3});
  zab::QuorumConfig pending = members(0x100000007, {1, 2, 3, 4});
  auto m = chosen(kZooCfg, row(active), row(pending), true);
  EXPECT_EQ(*m.active, active);
  ASSERT_TRUE(m.last_seen);
  EXPECT_EQ(*m.last_seen, pending);
  // A next row the active config caught up with is no longer pending.
  EXPECT_FALSE(chosen(kZooCfg, row(pending), row(active), true).last_seen);
}

TEST(StartupMembership, WithoutReconfigAnUnlistedServerIsRefused) {
  std::string error = refusal(kZooCfg, std::nullopt, std::nullopt, false, 7);
  EXPECT_NE(error.find("myid 7"), std::string::npos) << error;
  EXPECT_NE(error.find(kZooCfg.source), std::string::npos) << error;
}

// ZooKeeper refuses to boot a server its config leaves out; Corral starts it without a vote.
TEST(StartupMembership, WithReconfigARemovedServerStartsAsANonVotingFollower) {
  zab::QuorumConfig shrunk = members(0x100000004, {1, 2});
  auto m = chosen(kZooCfg, row(shrunk), std::nullopt, true, 3);
  EXPECT_EQ(m.active->role_of(3), zab::QuorumRole::kAbsent);
  ASSERT_EQ(m.notices.size(), 2u);
  EXPECT_NE(m.notices[1].find("non-voting follower"), std::string::npos) << m.notices[1];
}

TEST(StartupMembership, ADamagedRowRefusesToStart) {
  std::string error =
      refusal(kZooCfg, StoredQuorumConfig{0x100000004, "server.1=nonsense"}, std::nullopt, true);
  EXPECT_NE(error.find("damaged"), std::string::npos) << error;
  // The text's version line must agree with the row's version.
  zab::QuorumConfig c = members(0x100000004, {1, 2, 3});
  error = refusal(kZooCfg, StoredQuorumConfig{0x100000005, c.text()}, std::nullopt, true);
  EXPECT_NE(error.find("damaged"), std::string::npos) << error;
}

TEST(StartupMembership, ZooCfgLinesAreVersionZeroAndADynamicFileHasItsSuffixVersion) {
  ServerConfig config;
  config.servers.push_back(PeerSpec{1, "a", 1, 2, false, "", 0});
  EXPECT_EQ(membership_of(config).version, 0);
  config.dynamic_config_version = 0x100000000;
  EXPECT_EQ(membership_of(config).version, 0x100000000);
}

// corral-server itself: members whose databases hold a newer config than their zoo.cfg (as
// after a reconfig) serve that config in `conf` (and /zookeeper/config) with
// reconfigEnabled=true, zoo.cfg's with reconfigEnabled=false; a member refuses to start when
// both hold different members at the same version.
class StartupMembershipProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    e2e::Ensemble::Options o;
    o.size = 3;
    o.extra_cfg = "reconfigEnabled=true\n";
    o.name = "corral-startup-membership";
    cluster_ = std::make_unique<e2e::Ensemble>(o);
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    ASSERT_TRUE(cluster_->start_all()) << cluster_->describe();  // creates the database
    cluster_->stop_all();
  }

  std::string cfg_path(int i = 0) const { return (cluster_->member_dir(i) / "zoo.cfg").string(); }

  // The config zoo.cfg gave before the first start, with `extra` added and the stored
  // version. (The first leader's config re-issue rewrote zoo.cfg to point to a dynamic file,
  // after a copy of the original in zoo.cfg.bak.)
  zab::QuorumConfig zoo_cfg_config(int64_t version, const std::string& extra_line) {
    std::ifstream in(cfg_path() + ".bak");
    std::string text, line;
    while (std::getline(in, line))
      if (line.starts_with("server.")) text += line + "\n";
    auto parsed = zab::parse_dynamic(text + extra_line);
    zab::QuorumConfig c = std::get<zab::QuorumConfig>(parsed);
    c.version = version;
    return c;
  }

  void store_active(const zab::QuorumConfig& c, int members) {
    for (int i = 0; i < members; ++i) {
      storage::Database db((cluster_->member_dir(i) / "data" / "corral.db").string(), true);
      db.set_config(storage::ConfigSlot::kActive, c.version, c.text());
    }
  }

  void set_reconfig(bool on) {
    for (int i = 0; i < cluster_->size(); ++i) {
      std::ifstream in(cfg_path(i));
      std::ostringstream text;
      text << in.rdbuf();
      std::string cfg = text.str();
      std::string from = on ? "reconfigEnabled=false" : "reconfigEnabled=true";
      cfg.replace(cfg.find(from), from.size(),
                  on ? "reconfigEnabled=true" : "reconfigEnabled=false");
      std::ofstream(cfg_path(i)) << cfg;
    }
  }

  // Member 0's `conf` once the ensemble serves.
  std::string conf() {
    if (!cluster_->start_all()) return "not serving:\n" + cluster_->describe();
    auto answer = e2e::four_letter_word(cluster_->client_port(0), "conf");
    cluster_->stop_all();
    return answer.value_or("no answer to conf");
  }

  std::unique_ptr<e2e::Ensemble> cluster_;
};

TEST_F(StartupMembershipProcess, TheNewerStoredConfigIsServedOnlyWithReconfigEnabled) {
  zab::QuorumConfig newer = zoo_cfg_config(0x100000005, "server.9=127.0.0.1:1:2:observer\n");
  store_active(newer, 3);
  std::string served = conf();
  EXPECT_NE(served.find("membership: \n" + newer.text()), std::string::npos) << served;
  set_reconfig(false);
  served = conf();
  EXPECT_EQ(served.find("server.9="), std::string::npos) << served;
  // The files' config: the first start's re-issue at epoch 1 moved zoo.cfg's members into
  // zoo.cfg.dynamic.100000000, as ZooKeeper does.
  EXPECT_NE(served.find("version=100000000"), std::string::npos) << served;
  EXPECT_NE(cluster_->log(0).find("reconfigEnabled=false: using the members of"),
            std::string::npos);
}

TEST_F(StartupMembershipProcess, OtherMembersAtTheSameVersionRefuseToStart) {
  // The files hold the first start's config, version 0x100000000 (zoo.cfg.dynamic.100000000).
  store_active(zoo_cfg_config(0x100000000, "server.9=127.0.0.1:1:2:observer\n"), 1);
  ASSERT_TRUE(cluster_->start(0));
  auto deadline = e2e::Ensemble::Clock::now() + std::chrono::seconds(20);
  while (cluster_->running(0) && e2e::Ensemble::Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(cluster_->running(0)) << "started with conflicting members";
  std::string log = cluster_->log(0);
  EXPECT_NE(log.find("refusing to start: " + cfg_path() +
                     ".dynamic.100000000 and the database hold different "
                     "members at the same version 0x100000000"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace corral::server
