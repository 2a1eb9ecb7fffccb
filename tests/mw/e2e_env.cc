#include "tests/mw/e2e_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace corral::mw::test {

namespace {

class Environment : public ::testing::Environment {
 public:
  void SetUp() override { World::get().set_up(); }
  void TearDown() override { World::get().tear_down(); }
};

[[maybe_unused]] auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Environment);

}  // namespace

World& World::get() {
  static World world;
  return world;
}

void World::set_up() {
  e2e::Ensemble::Options o;
  o.impl = e2e::impl_from_env();
  o.size = 3;
  o.tick_ms = 500;  // sessions of 1..10 s
  o.name = "corral-mw-e2e";
  auto started = Clock::now();
  ensemble_ = std::make_unique<e2e::Ensemble>(o);
  ASSERT_TRUE(ensemble_->ok()) << ensemble_->error();
  ASSERT_TRUE(ensemble_->start_all(std::chrono::seconds(120))) << ensemble_->error() << "\n"
                                                               << ensemble_->describe();
  dir_ = (ensemble_->dir() / "mw").string();
  std::filesystem::create_directories(dir_);
  client::Options co;
  co.connect_string = hosts();
  co.session_timeout = std::chrono::seconds(10);
  zk_ = std::make_unique<client::BlockingClient>(co);
  ASSERT_TRUE(zk_->wait_connected(std::chrono::seconds(30)));
  std::printf(
      "[mw_e2e] %s ensemble up in %lld ms: %s; logs in %s\n", e2e::impl_name(o.impl),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()),
      hosts().c_str(), dir_.c_str());
}

void World::tear_down() {
  zk_.reset();
  if (ensemble_ && ::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
    ensemble_->keep_dir();  // the logs, for the failure
    std::printf("[mw_e2e] kept %s\n", ensemble_->dir().c_str());
  }
  ensemble_.reset();
}

std::string World::log_path(const std::string& name) const { return dir_ + "/" + name + ".log"; }

std::unique_ptr<Process> World::master(const std::string& id, std::vector<std::string> extra) {
  std::vector<std::string> args = {mw_binary(),
                                   "master",
                                   "--zk",
                                   hosts(),
                                   "--id",
                                   id,
                                   "--session-timeout-ms",
                                   std::to_string(kSessionTimeoutMs)};
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = std::make_unique<Process>(args, log_path("master-" + id));
  EXPECT_TRUE(p->start());
  return p;
}

std::unique_ptr<Process> World::worker(const std::string& id, int slots) {
  std::vector<std::string> args = {mw_binary(),
                                   "worker",
                                   "--zk",
                                   hosts(),
                                   "--id",
                                   id,
                                   "--slots",
                                   std::to_string(slots),
                                   "--session-timeout-ms",
                                   std::to_string(kSessionTimeoutMs)};
  auto p = std::make_unique<Process>(args, log_path("worker-" + id));
  EXPECT_TRUE(p->start());
  return p;
}

std::vector<std::string> World::submit(const std::string& kind, const std::string& arg, int count) {
  int status = -1;
  std::string out = run_capture({mw_binary(), "submit", "--zk", hosts(), "--kind", kind, "--arg",
                                 arg, "--count", std::to_string(count)},
                                log_path("submit"), status, std::chrono::seconds(60));
  EXPECT_EQ(status, 0) << read_file(log_path("submit"));
  std::vector<std::string> ids;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (valid_task_id(line)) ids.push_back(line);
  EXPECT_EQ(ids.size(), static_cast<size_t>(count)) << out;
  return ids;
}

std::vector<std::string> World::children(const std::string& path) {
  auto r = zk_->children(path);
  return r ? r->children : std::vector<std::string>{};
}

std::string World::active_master() {
  auto kids = children(std::string(kMasterPath));
  auto seq = [](const std::string& n) {
    return n.substr(n.size() - std::min<size_t>(10, n.size()));
  };
  std::sort(kids.begin(), kids.end(),
            [&](const std::string& a, const std::string& b) { return seq(a) < seq(b); });
  for (const auto& k : kids) {
    if (k.find("-latch-") == std::string::npos) continue;
    auto d = zk_->get(std::string(kMasterPath) + "/" + k);
    if (d) return d->data;
  }
  return "";
}

std::map<std::string, TaskStatus> World::statuses(const std::vector<std::string>& ids) {
  std::map<std::string, TaskStatus> out;
  for (const auto& id : ids) {
    auto d = zk_->get(status_path(id));
    if (!d) continue;
    if (auto st = parse_task_status(d->data)) out[id] = *st;
  }
  return out;
}

}  // namespace corral::mw::test
