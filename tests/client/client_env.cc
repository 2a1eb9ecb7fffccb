// client_test's ensemble (a global gtest Environment) and the helpers of client_env.h
// (recipes_test uses them too).
#include "tests/client/client_env.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace corral::client::test {

namespace {

std::unique_ptr<e2e::Ensemble> g_ensemble;
e2e::Impl g_impl = e2e::Impl::kCorral;

/// Reads CLIENT_TARGET; exits on anything but corral or zookeeper.
e2e::Impl target_from_env() {
  e2e::Impl impl = e2e::Impl::kCorral;
  const char* v = std::getenv("CLIENT_TARGET");
  if (v && *v && !e2e::parse_impl(v, impl)) {
    std::fprintf(stderr, "CLIENT_TARGET=%s: expected corral or zookeeper\n", v);
    std::exit(2);
  }
  return impl;
}

class EnsembleEnvironmentImpl : public ::testing::Environment {
 public:
  void SetUp() override {
    g_impl = target_from_env();
    e2e::Ensemble::Options o;
    o.impl = g_impl;
    o.size = 3;
    // tickTime 500: sessions from 1 s (2 ticks) to 10 s (20 ticks).
    o.tick_ms = 500;
    o.name = "corral-client-test";
    // TTL nodes need extendedTypesEnabled: a zoo.cfg key for corral-server; for ZooKeeper an
    // unknown zoo.cfg key becomes the system property "zookeeper.<key>", which is the one
    // it reads, and we pass the property too. The container/TTL reaper runs every 500 ms
    // instead of every minute (a system property without the "zookeeper." prefix for
    // ZooKeeper, so only -D works there).
    o.extra_cfg = "extendedTypesEnabled=true\n";
    if (g_impl == e2e::Impl::kZooKeeper) {
      o.jvm_args = {"-Dzookeeper.extendedTypesEnabled=true",
                    "-Dznode.container.checkIntervalMs=500"};
    } else {
      o.extra_cfg += "znode.container.checkIntervalMs=500\n";
    }
    auto started = Clock::now();
    g_ensemble = std::make_unique<e2e::Ensemble>(o);
    ASSERT_TRUE(g_ensemble->ok()) << g_ensemble->error();
    ASSERT_TRUE(g_ensemble->start_all(std::chrono::seconds(120))) << g_ensemble->error() << "\n"
                                                                  << g_ensemble->describe();
    std::printf("[client_test] %s ensemble up in %.0f ms: %s (leader: member %d)\n",
                e2e::impl_name(g_impl), ms_since(started), all_hosts().c_str(),
                g_ensemble->leader());
  }
  void TearDown() override { g_ensemble.reset(); }
};

}  // namespace

::testing::Environment* make_ensemble_environment() { return new EnsembleEnvironmentImpl; }

// ---------------------------------------------------------------- the ensemble

e2e::Ensemble& ensemble() { return *g_ensemble; }
bool on_zookeeper() { return g_impl == e2e::Impl::kZooKeeper; }
std::string all_hosts() { return g_ensemble->connect_string(); }

std::string hosts_except(int member) {
  std::vector<int> others;
  for (int i = 0; i < g_ensemble->size(); ++i)
    if (i != member) others.push_back(i);
  return g_ensemble->connect_string(others);
}

int member_of(const std::string& host_port) {
  for (int i = 0; i < g_ensemble->size(); ++i)
    if (g_ensemble->host_port(i) == host_port) return i;
  return -1;
}

void restore_ensemble() {
  auto started = Clock::now();
  for (int i = 0; i < g_ensemble->size(); ++i)
    if (g_ensemble->paused(i)) g_ensemble->kill9(i);  // resumed, it would be stale a while
  for (int i = 0; i < g_ensemble->size(); ++i)
    if (!g_ensemble->running(i)) {
      EXPECT_TRUE(g_ensemble->start(i)) << g_ensemble->error();
    }
  int leader = g_ensemble->wait_for_quorum(Clock::now() + 90s);
  EXPECT_GE(leader, 0) << g_ensemble->describe();
  // wait_for_quorum looks only at running members: one that failed to start (exec refused,
  // a port taken) would leave the next test with one crash fewer to spare.
  for (int i = 0; i < g_ensemble->size(); ++i)
    EXPECT_TRUE(g_ensemble->running(i)) << "member " << i << " is not running after its restart\n"
                                        << g_ensemble->describe();
  std::printf("[client_test] ensemble restored in %.0f ms (leader: member %d)\n", ms_since(started),
              leader);
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// ---------------------------------------------------------------- TestClient

TestClient::TestClient(Config config) : threads_(config.threads) {
  Options o;
  o.connect_string = config.connect.empty() ? all_hosts() : config.connect;
  o.session_timeout = config.timeout;
  o.on_state = [this](ConnectionState s) {
    {
      std::lock_guard lock(mu_);
      states_.push_back(s);
      times_.push_back(Clock::now());
    }
    cv_.notify_all();
  };
  client_ = std::make_unique<Client>(io_.get_executor(), std::move(o));
  if (config.start) client_->start();
  run_threads();
}

TestClient::~TestClient() {
  if (client_) {
    ConnectionState s = client_->state();
    if (s != ConnectionState::kClosed && s != ConnectionState::kLost && !io_.stopped()) {
      auto f = client_->close(asio::use_future);
      f.wait_for(5s);
    }
    client_.reset();
  }
  work_.reset();
  io_.stop();
  for (auto& t : runners_) t.join();
}

void TestClient::run_threads() {
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_.get_executor());
  for (int i = 0; i < threads_; ++i) runners_.emplace_back([this] { io_.run(); });
}

void TestClient::freeze() {
  io_.stop();
  for (auto& t : runners_) t.join();
  runners_.clear();
}

void TestClient::thaw() {
  io_.restart();
  run_threads();
}

bool TestClient::connected(Clock::duration timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return !states_.empty() && (states_.back() == ConnectionState::kConnected ||
                                states_.back() == ConnectionState::kReconnected);
  });
}

bool TestClient::wait_state(ConnectionState state, Clock::duration timeout, size_t from) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    for (size_t i = from; i < states_.size(); ++i)
      if (states_[i] == state) return true;
    return false;
  });
}

Clock::time_point TestClient::state_time(ConnectionState state, size_t from) const {
  std::lock_guard lock(mu_);
  for (size_t i = from; i < states_.size(); ++i)
    if (states_[i] == state) return times_[i];
  return {};
}

std::vector<ConnectionState> TestClient::states() const {
  std::lock_guard lock(mu_);
  return states_;
}

size_t TestClient::state_count() const {
  std::lock_guard lock(mu_);
  return states_.size();
}

std::string test_root(Client& c) {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string id = std::string(info->test_suite_name()) + "." + info->name();
  for (char& ch : id)
    if (ch == '/') ch = '_';  // parameterized names contain '/'
  std::string name = "/" + id + "-" + std::to_string(++counter);
  auto r = await(c.create(name, "", {}, asio::use_future));
  EXPECT_TRUE(r.ok()) << "create " << name << ": " << text(r.error());
  return name;
}

// ---------------------------------------------------------------- EventLog

Watcher EventLog::watcher() {
  return [this](const WatchEvent& e) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    }
    cv_.notify_all();
  };
}

std::vector<WatchEvent> EventLog::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

size_t EventLog::count() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

bool EventLog::wait_count(size_t n, Clock::duration timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
}

// ---------------------------------------------------------------- descriptions

std::string describe(const WatchEvent& e) {
  static const std::map<EventType, const char*> names = {
      {EventType::kNone, "None"},
      {EventType::kNodeCreated, "NodeCreated"},
      {EventType::kNodeDeleted, "NodeDeleted"},
      {EventType::kNodeDataChanged, "NodeDataChanged"},
      {EventType::kNodeChildrenChanged, "NodeChildrenChanged"},
      {EventType::kDataWatchRemoved, "DataWatchRemoved"},
      {EventType::kChildWatchRemoved, "ChildWatchRemoved"},
      {EventType::kPersistentWatchRemoved, "PersistentWatchRemoved"}};
  auto it = names.find(e.type);
  return std::string(it == names.end() ? "?" : it->second) + " " + e.path;
}

std::string describe(const std::vector<WatchEvent>& events) {
  std::string out = "[";
  for (const auto& e : events) out += (out.size() > 1 ? ", " : "") + describe(e);
  return out + "]";
}

std::string describe(const std::vector<ConnectionState>& states) {
  std::string out = "[";
  for (auto s : states) out += (out.size() > 1 ? ", " : "") + std::string(state_name(s));
  return out + "]";
}

// ---------------------------------------------------------------- retrying helpers

Result<Stat> set_with_retry(Client& c, const std::string& path, const std::string& data,
                            Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  Result<Stat> r(ErrorCode::kOperationTimeout);
  do {
    auto f = c.set(path, data, -1, asio::use_future);
    if (f.wait_for(deadline - Clock::now()) != std::future_status::ready) break;
    r = f.get();
    if (r.ok() ||
        (r.error() != ErrorCode::kConnectionLoss && r.error() != ErrorCode::kSessionMoved &&
         r.error() != ErrorCode::kOperationTimeout))
      return r;
    std::this_thread::sleep_for(20ms);  // the ensemble is recovering: poll again
  } while (Clock::now() < deadline);
  return r;
}

bool read_until(Client& c, const std::string& path, const std::string& data,
                Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    // A callback (not a future): it runs on the event strand, after every event before it.
    auto seen = std::make_shared<std::promise<Result<DataResult>>>();
    auto f = seen->get_future();
    c.sync(path, [](Result<void>) {});
    c.get(path, nullptr, [seen](Result<DataResult> r) { seen->set_value(std::move(r)); });
    if (f.wait_for(deadline - Clock::now()) != std::future_status::ready) return false;
    auto r = f.get();
    if (r.ok() && r->data == data) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace corral::client::test
