#include "tests/mw/rest/dashboard_env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace corral::mw::test {

using namespace std::chrono_literals;
using client::CreateMode;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(25ms);
  }
  return true;
}

DashboardEnv::DashboardEnv() {
  dir_ = std::filesystem::temp_directory_path() / ("corral-mw-rest-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir_);
  e2e::Ensemble::Options options;
  options.name = "corral-mw-rest";
  ensemble_ = std::make_unique<e2e::Ensemble>(options);
  if (!ensemble_->ok() || !ensemble_->start_all()) {
    error_ = "ensemble: " + ensemble_->error() + "\n" + ensemble_->describe();
    return;
  }
  zk_ = new_session();
  if (!zk_->wait_connected(20s)) {
    error_ = "no session with " + ensemble_->connect_string();
    return;
  }
  // What the masters and workers would have made.
  for (auto root : {kTasksPath, kAssignPath, kStatusPath, kWorkersPath})
    zk_->create(std::string(root), "");
  zk_->create(std::string(kMasterPath), "", CreateMode::kContainer);
  port_ = e2e::pick_listen_port();
  if (!start_dashboard()) error_ = "the dashboard did not start:\n" + dashboard_log();
}

DashboardEnv::~DashboardEnv() {
  stop_dashboard();
  zk_.reset();
  ensemble_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::unique_ptr<client::BlockingClient> DashboardEnv::new_session() const {
  client::Options options;
  options.connect_string = ensemble_->connect_string();
  options.session_timeout = 6s;
  return std::make_unique<client::BlockingClient>(options);
}

bool DashboardEnv::start_dashboard() {
  std::string log = (dir_ / "dashboard.log").string();
  std::vector<std::string> args = {CORRAL_MW_BIN,
                                   "dashboard",
                                   "--zk",
                                   ensemble_->connect_string(),
                                   "--port",
                                   std::to_string(port_),
                                   "--history",
                                   (dir_ / "history.db").string(),
                                   "--session-timeout-ms",
                                   "6000"};
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 2);
    dup2(fd, 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  dashboard_ = pid;
  return wait_until([&] { return http(port_, "GET", "/api/summary", "", false, 1s).status == 200; },
                    30s);
}

bool DashboardEnv::stop_dashboard() {
  if (dashboard_ < 0) return false;
  kill(dashboard_, SIGTERM);
  int status = 0;
  bool exited =
      wait_until([&] { return waitpid(dashboard_, &status, WNOHANG) == dashboard_; }, 10s);
  if (!exited) {
    kill(dashboard_, SIGKILL);
    waitpid(dashboard_, &status, 0);
  }
  dashboard_ = -1;
  return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string DashboardEnv::dashboard_log() const {
  std::ifstream in(dir_ / "dashboard.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json DashboardEnv::get_json(const std::string& target) {
  auto r = http(port_, "GET", target);
  EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json") << target;
  auto j = r.json();
  EXPECT_FALSE(j.is_discarded()) << target << ": " << r.body;
  return r.status == 200 && !j.is_discarded() ? j : nlohmann::json();
}

nlohmann::json DashboardEnv::peek_json(const std::string& target) {
  auto r = http(port_, "GET", target);
  auto j = r.json();
  return r.status == 200 && !j.is_discarded() ? j : nlohmann::json();
}

std::string DashboardEnv::submit(const std::string& kind, const std::string& arg) {
  auto r = http(port_, "POST", "/api/tasks", nlohmann::json{{"kind", kind}, {"arg", arg}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  auto j = r.json();
  if (r.status != 201 || !j.is_object() || !j["id"].is_string()) return "";
  return j["id"];
}

std::string DashboardEnv::submit_direct(const std::string& kind, const std::string& arg) {
  Task t;
  t.kind = kind;
  t.arg = arg;
  t.submitted_ms = now_ms();
  auto r = zk_->create(task_path(kTaskPrefix), serialize(t), CreateMode::kPersistentSequential);
  EXPECT_TRUE(r.ok()) << client::error_text(r.error());
  return r.ok() ? r->path.substr(r->path.rfind('/') + 1) : "";
}

size_t DashboardEnv::pending_count() {
  catch_up();
  auto r = zk_->children(std::string(kTasksPath));
  return r.ok() ? r->children.size() : 0;
}

void DashboardEnv::catch_up() {
  // The dashboard's session may be on another server than zk_'s, which may not have applied
  // what the dashboard was told is committed (ZooKeeper orders reads per session only).
  auto synced = zk_->sync(std::string(kTasksPath));
  EXPECT_TRUE(synced.ok()) << client::error_text(synced.error());
}

void DashboardEnv::assign(const std::string& worker, const std::string& task) {
  catch_up();
  auto node = zk_->get(task_path(task));
  ASSERT_TRUE(node.ok()) << task;
  auto t = parse_task(node->data, false);
  ASSERT_TRUE(t);
  t->attempt += 1;
  t->assigned_ms = now_ms();
  t->master = "m-test";
  zk_->create(assign_dir(worker), "");  // may exist
  auto r = zk_->multi(client::Multi()
                          .create(assign_path(worker, task), serialize(*t))
                          .remove(task_path(task), node->stat.version));
  ASSERT_TRUE(r.ok()) << client::error_text(r.error());
}

void DashboardEnv::reassign_back(const std::string& worker, const std::string& task) {
  auto node = zk_->get(assign_path(worker, task));
  ASSERT_TRUE(node.ok());
  auto t = parse_task(node->data, true);
  ASSERT_TRUE(t);
  auto r = zk_->multi(client::Multi()
                          .create(task_path(task), serialize(t->pending()))
                          .remove(assign_path(worker, task), node->stat.version));
  ASSERT_TRUE(r.ok()) << client::error_text(r.error());
}

void DashboardEnv::write_status(const std::string& task, const TaskStatus& status) {
  zk_->create(std::string(kStatusPath), "");  // may exist
  auto created = zk_->create(status_path(task), serialize(status));
  if (created.error() == client::ErrorCode::kNodeExists) {
    ASSERT_TRUE(zk_->set(status_path(task), serialize(status)).ok());
  } else {
    ASSERT_TRUE(created.ok()) << client::error_text(created.error());
  }
}

void DashboardEnv::unassign(const std::string& worker, const std::string& task) {
  ASSERT_TRUE(zk_->remove(assign_path(worker, task)).ok());
}

}  // namespace corral::mw::test
