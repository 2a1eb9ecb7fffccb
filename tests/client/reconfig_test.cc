// Client::reconfig and Client::get_config against a 3-server Apache ZooKeeper 3.8 ensemble
// (the oracle) and a 3-server Corral ensemble, both with reconfigEnabled=true and a super
// digest: the same tests must pass on both. Each suite starts its own ensemble. (A Corral
// ensemble with reconfig off answers ZRECONFIGDISABLED: tests/cli/cli_reconfig_test.cc.)
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "corral/client/blocking.h"
#include "tests/client/client_env.h"
#include "tests/e2e/ensemble.h"

namespace corral::client::test {
namespace {

// "super:test" (DigestAuthenticationProvider.superDigest is base64(sha1("super:test"))).
constexpr const char* kSuperDigest =
    "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

std::unique_ptr<e2e::Ensemble> start_ensemble(e2e::Impl impl) {
  e2e::Ensemble::Options o;
  o.impl = impl;
  o.name = "corral-reconfig";
  o.extra_cfg = "reconfigEnabled=true\n";
  // ZooKeeper takes the super digest as a JVM property, Corral also from zoo.cfg.
  if (impl == e2e::Impl::kZooKeeper)
    o.jvm_args = {kSuperDigest};
  else
    o.extra_cfg += std::string(kSuperDigest).substr(2) + "\n";
  auto e = std::make_unique<e2e::Ensemble>(o);
  if (!e->ok() || !e->start_all(std::chrono::seconds(60))) {
    ADD_FAILURE() << e2e::impl_name(impl) << " ensemble did not start: " << e->error();
    return nullptr;
  }
  return e;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The lines of a config text, sorted: ZooKeeper's servers list the members in the order their
// maps happen to hold them, so the leader's and a follower's texts of one config may differ.
std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out = lines_of(text);
  std::sort(out.begin(), out.end());
  return out;
}

// True for the text ZooKeeper keeps in /zookeeper/config for `members` participants on
// loopback: one "server.N=127.0.0.1:quorum:election:participant[;client]" line each (no
// client part when it came from zoo.cfg's clientPort), then
// "version=<hex>". The hex version is stored in `version`.
::testing::AssertionResult is_config_text(const std::string& text, size_t members,
                                          std::string& version) {
  static const std::regex server(
      R"(server\.[0-9]+=127\.0\.0\.1:[0-9]+:[0-9]+:participant(;[0-9.]+:[0-9]+)?)");
  static const std::regex version_line("version=([0-9a-f]+)");
  std::vector<std::string> lines = lines_of(text);
  if (lines.size() != members + 1)
    return ::testing::AssertionFailure() << "expected " << members + 1 << " lines: " << text;
  for (size_t i = 0; i < members; ++i) {
    if (!std::regex_match(lines[i], server))
      return ::testing::AssertionFailure() << "not a server line: " << lines[i];
  }
  std::smatch m;
  if (!std::regex_match(lines.back(), m, version_line))
    return ::testing::AssertionFailure() << "not a version line: " << lines.back();
  version = m[1];
  return ::testing::AssertionSuccess();
}

// A blocking client connected to `hosts`, logged in as super when `super` is set.
std::unique_ptr<BlockingClient> connect(const std::string& hosts, bool super = false) {
  Options o;
  o.connect_string = hosts;
  auto c = std::make_unique<BlockingClient>(o);
  EXPECT_TRUE(c->wait_connected(std::chrono::seconds(20))) << hosts;
  if (super) {
    EXPECT_TRUE(c->add_auth("digest", "super:test").ok());
  }
  return c;
}

// One ensemble of `kImpl` for a whole suite; a suite whose ensemble did not start fails each
// of its tests (start_ensemble has said why).
template <e2e::Impl kImpl>
class OnEnsemble : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ensemble_ = start_ensemble(kImpl).release(); }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(ensemble_, nullptr) << e2e::impl_name(kImpl) << " ensemble"; }
  static inline e2e::Ensemble* ensemble_ = nullptr;
};

// Every test runs against ZooKeeper 3.8 (the oracle) and Corral.
template <typename ImplTag>
class Reconfig : public OnEnsemble<ImplTag::value> {};
using Impls = ::testing::Types<std::integral_constant<e2e::Impl, e2e::Impl::kZooKeeper>,
                               std::integral_constant<e2e::Impl, e2e::Impl::kCorral>>;
struct ImplName {
  template <typename T>
  static std::string GetName(int) {
    return e2e::impl_name(T::value);
  }
};
TYPED_TEST_SUITE(Reconfig, Impls, ImplName);

// The observer of kazoo's TestReconfig: never started, so adding it needs no quorum change.
std::string observer_spec() {
  return "server.100=127.0.0.1:" + std::to_string(e2e::pick_listen_port()) + ":" +
         std::to_string(e2e::pick_listen_port()) +
         ":observer;127.0.0.1:" + std::to_string(e2e::pick_listen_port());
}

TYPED_TEST(Reconfig, GetConfigReadsTheRawNodeWhateverTheChroot) {
  auto c = connect(this->ensemble_->connect_string() + "/no/such/chroot");
  Result<DataResult> r = c->get_config();
  ASSERT_TRUE(r.ok()) << text(r.error());
  std::string version;
  EXPECT_TRUE(is_config_text(r->data, 3, version));
  EXPECT_NE(version, "0") << "ZooKeeper re-issues the config at its first leader's epoch";
  // The same bytes as a plain getData of the node without a chroot.
  auto plain = connect(this->ensemble_->connect_string());
  Result<DataResult> raw = plain->get("/zookeeper/config");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(sorted_lines(raw->data), sorted_lines(r->data));
}

TYPED_TEST(Reconfig, AddsAndRemovesAnObserverAndTheWatchFires) {
  auto watcher_client = connect(this->ensemble_->connect_string() + "/chrooted");
  EventLog log;
  ASSERT_TRUE(watcher_client->get_config(log.watcher()).ok());

  auto admin = connect(this->ensemble_->connect_string(), true);
  std::string spec = observer_spec();
  Result<DataResult> added = admin->reconfig(ReconfigSpec::add(spec));
  ASSERT_TRUE(added.ok()) << text(added.error());
  EXPECT_NE(added->data.find(spec + "\n"), std::string::npos) << added->data;
  EXPECT_EQ(lines_of(added->data).size(), 5u) << added->data;

  // The watch set under the chroot fires with the raw path.
  ASSERT_TRUE(log.wait_count(1, std::chrono::seconds(10)));
  EXPECT_EQ(describe(log.events()[0]),
            describe(WatchEvent{EventType::kNodeDataChanged, "/zookeeper/config"}));
  Result<DataResult> now = watcher_client->get_config();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(sorted_lines(now->data), sorted_lines(added->data));

  Result<DataResult> removed = admin->reconfig(ReconfigSpec::remove("100"));
  ASSERT_TRUE(removed.ok()) << text(removed.error());
  std::string version;
  EXPECT_TRUE(is_config_text(removed->data, 3, version)) << removed->data;
  EXPECT_EQ(removed->data.find("server.100="), std::string::npos);
}

TYPED_TEST(Reconfig, StaleFromConfigIsBadVersion) {
  auto admin = connect(this->ensemble_->connect_string(), true);
  Result<DataResult> before = admin->get_config();
  ASSERT_TRUE(before.ok());
  std::string version;
  ASSERT_TRUE(is_config_text(before->data, 3, version));
  int64_t current = std::stoll(version, nullptr, 16);

  std::string spec = observer_spec();
  Result<DataResult> stale = admin->reconfig(ReconfigSpec::add(spec, current - 1));
  EXPECT_EQ(text(stale.error()), "ZBADVERSION");
  // The current version passes, and the change is undone the same way.
  Result<DataResult> added = admin->reconfig(ReconfigSpec::add(spec, current));
  ASSERT_TRUE(added.ok()) << text(added.error());
  EXPECT_EQ(added->stat.mzxid, std::stoll(lines_of(added->data).back().substr(8), nullptr, 16))
      << "the new config's version is the zxid of its change";
  EXPECT_TRUE(admin->reconfig(ReconfigSpec::remove("100")).ok());
}

TYPED_TEST(Reconfig, WithoutSuperIsNoAuth) {
  auto c = connect(this->ensemble_->connect_string());
  Result<DataResult> r = c->reconfig(ReconfigSpec::add(observer_spec()));
  EXPECT_EQ(text(r.error()), "ZNOAUTH");
}

}  // namespace
}  // namespace corral::client::test
