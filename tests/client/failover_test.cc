// Failover: the server a client is connected to is killed with SIGKILL. The client goes
// kSuspended, then kReconnected to another server within the session timeout with the same
// session (its ephemeral node stays); requests in flight complete (ZCONNECTIONLOSS or ok,
// never hang); a one-shot watch set before the kill fires exactly once for a change made
// while the client was away; persistent watches keep working. Also: a silent (SIGSTOPped)
// server is given up after two thirds of the session timeout, and more watches than fit in
// one SetWatches frame are restored after a reconnection.
#include <algorithm>
#include <map>

#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

class Failover : public ::testing::Test {
 protected:
  void TearDown() override { restore_ensemble(); }
};

/// The states after index `from`.
std::vector<ConnectionState> states_from(const TestClient& c, size_t from) {
  auto all = c.states();
  return {all.begin() + static_cast<ptrdiff_t>(std::min(from, all.size())), all.end()};
}

/// Killing the client's server: a follower, or the leader (then the ensemble elects another
/// while the client looks for a server).
class KilledServer : public Failover, public ::testing::WithParamInterface<bool> {};

INSTANTIATE_TEST_SUITE_P(Failover, KilledServer, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Leader" : "Follower"; });

TEST_P(KilledServer, SessionMovesToAnother) {
  constexpr int kInFlight = 300;
  const bool kill_leader = GetParam();
  EventLog once, persistent;
  std::mutex mu;
  std::map<ErrorCode, int> in_flight_results;
  std::atomic<int> in_flight_done{0};

  // Clients pick their server at random: make them until one is on a server of the role
  // wanted (each has a third of a chance to be on the leader).
  std::unique_ptr<TestClient> client;
  for (int attempt = 0; attempt < 60 && !client; ++attempt) {
    auto c = std::make_unique<TestClient>(TestClient::Config{.timeout = 10s});
    ASSERT_TRUE(c->connected());
    if ((member_of((*c)->server()) == ensemble().leader()) == kill_leader) client = std::move(c);
  }
  ASSERT_TRUE(client) << "no client landed on the " << (kill_leader ? "leader" : "a follower");
  TestClient& a = *client;
  const int64_t sid = a->session_id();
  const std::string killed = a->server();
  const int victim = member_of(killed);
  ASSERT_GE(victim, 0) << killed;
  const bool victim_led = ensemble().leader() == victim;
  TestClient b({.connect = hosts_except(victim)});
  ASSERT_TRUE(b.connected());

  std::string root = test_root(*a);
  std::string n = root + "/n", p = root + "/p", load = root + "/load", eph = root + "/eph";
  for (const auto& path : {n, p, load})
    ASSERT_TRUE(await(a->create(path, "0", {}, use_future)).ok());
  ASSERT_TRUE(await(a->create(eph, "", {CreateMode::kEphemeral}, use_future)).ok());
  // An identity, to be presented again on the new connection.
  ASSERT_TRUE(await(a->add_auth("digest", "alice:secret", use_future)).ok());
  AclList alice = {Acl{wire::perms::kAll, Id{"digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="}}};
  ASSERT_TRUE(
      await(a->create(root + "/secret", "s", {CreateMode::kPersistent, alice}, use_future)).ok());
  ASSERT_TRUE(await(a->get(n, once.watcher(), use_future)).ok());
  ASSERT_TRUE(
      await(a->add_watch(p, AddWatchMode::kPersistent, persistent.watcher(), use_future)).ok());

  // Requests in flight at the moment of the kill.
  for (int i = 0; i < kInFlight; ++i) {
    auto note = [&](ErrorCode e) {
      std::lock_guard lock(mu);
      ++in_flight_results[e];
      ++in_flight_done;
    };
    if (i % 2)
      a->set(load, std::to_string(i), -1, [note](Result<Stat> r) { note(r.error()); });
    else
      a->get(load, nullptr, [note](Result<DataResult> r) { note(r.error()); });
  }
  size_t mark = a.state_count();
  auto killed_at = Clock::now();
  ASSERT_TRUE(ensemble().kill9(victim));

  // Change the watched node from the other client right away (retrying while the ensemble
  // elects a new leader, if the victim led).
  auto changed = set_with_retry(*b, n, "changed");
  ASSERT_TRUE(changed.ok()) << text(changed.error());
  bool changed_while_away = a->state() == ConnectionState::kSuspended;
  double changed_ms = ms_since(killed_at);

  ASSERT_TRUE(a.wait_state(ConnectionState::kReconnected, 10s, mark))
      << "no reconnection within the session timeout; states " << describe(a.states());
  double reconnected_ms = ms_since(killed_at);
  std::printf(
      "killed member %d (%s, %s): change done after %.0f ms (%s), reconnected to %s "
      "after %.0f ms\n",
      victim, killed.c_str(), victim_led ? "leader" : "follower", changed_ms,
      changed_while_away ? "while disconnected" : "after the reconnection", a->server().c_str(),
      reconnected_ms);
  auto after = states_from(a, mark);
  ASSERT_GE(after.size(), 2u) << describe(after);
  EXPECT_EQ(after[0], ConnectionState::kSuspended) << describe(after);
  for (auto s : after)
    EXPECT_TRUE(s == ConnectionState::kSuspended || s == ConnectionState::kReconnected)
        << describe(after);
  EXPECT_EQ(a->session_id(), sid);
  EXPECT_NE(a->server(), killed);
  EXPECT_NE(member_of(a->server()), -1) << a->server();

  // Every request in flight completed: answered before the kill, or ZCONNECTIONLOSS.
  EXPECT_TRUE(wait_until(10s, [&] { return in_flight_done.load() == kInFlight; }))
      << in_flight_done.load() << " of " << kInFlight << " requests in flight completed";
  {
    std::lock_guard lock(mu);
    std::string summary;
    for (const auto& [err, count] : in_flight_results) {
      summary += text(err) + ":" + std::to_string(count) + " ";
      EXPECT_TRUE(err == ErrorCode::kOk || err == ErrorCode::kConnectionLoss) << text(err);
    }
    std::printf("requests in flight at the kill: %s\n", summary.c_str());
  }

  // The one-shot watch fired exactly once; a second change does not fire it again.
  ASSERT_TRUE(once.wait_count(1, 10s)) << "the data watch never fired";
  ASSERT_TRUE(set_with_retry(*b, n, "changed-again").ok());
  ASSERT_TRUE(read_until(*a, n, "changed-again"));
  EXPECT_EQ(describe(once.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeDataChanged, n}}));

  // The session, and so its ephemeral node, lived on.
  auto e = await(b->exists(eph, nullptr, use_future));
  ASSERT_TRUE(e.ok()) << text(e.error());
  EXPECT_EQ(e->ephemeral_owner, sid);

  // The persistent watch keeps firing after the reconnection.
  size_t before = persistent.count();
  ASSERT_TRUE(set_with_retry(*b, p, "1").ok());
  ASSERT_TRUE(set_with_retry(*b, p, "2").ok());
  EXPECT_TRUE(persistent.wait_count(before + 2, 10s)) << describe(persistent.events());
  ASSERT_TRUE(read_until(*a, p, "2"));
  EXPECT_EQ(persistent.count(), before + 2) << describe(persistent.events());
  // And the session still works, with its identity.
  EXPECT_TRUE(await(a->set(load, "after", -1, use_future)).ok());
  auto secret = await(a->get(root + "/secret", nullptr, use_future));
  EXPECT_TRUE(secret.ok()) << "identity lost in the reconnection: " << text(secret.error());
  EXPECT_EQ(await(b->get(root + "/secret", nullptr, use_future)).error(), ErrorCode::kNoAuth);
}

TEST_F(Failover, WatchesFireOnceForChangesMadeWhileDisconnected) {
  // The client knows one server only, a follower: while it is down, the client cannot
  // reconnect, so the changes below happen while it is away for sure. Then it comes back,
  // and the client re-registers its watches with the last zxid it saw.
  EventLog data, exist, child, gone, persistent;
  int follower = -1;
  for (int i = 0; i < ensemble().size() && follower < 0; ++i)
    if (ensemble().mode(i) == "follower") follower = i;
  ASSERT_GE(follower, 0) << ensemble().describe(0);
  TestClient a({.connect = ensemble().host_port(follower), .timeout = 10s});
  TestClient b({.connect = hosts_except(follower)});
  ASSERT_TRUE(a.connected() && b.connected());
  const int64_t sid = a->session_id();
  std::string root = test_root(*a);
  std::string n = root + "/n", later = root + "/later", parent = root + "/parent",
              doomed = root + "/doomed", p = root + "/p";
  for (const auto& path : {n, parent, doomed, p})
    ASSERT_TRUE(await(a->create(path, "", {}, use_future)).ok());
  ASSERT_TRUE(await(a->get(n, data.watcher(), use_future)).ok());
  ASSERT_EQ(await(a->exists(later, exist.watcher(), use_future)).error(), ErrorCode::kNoNode);
  ASSERT_TRUE(await(a->children(parent, child.watcher(), use_future)).ok());
  ASSERT_TRUE(await(a->exists(doomed, gone.watcher(), use_future)).ok());
  ASSERT_TRUE(
      await(a->add_watch(p, AddWatchMode::kPersistent, persistent.watcher(), use_future)).ok());

  size_t mark = a.state_count();
  auto killed_at = Clock::now();
  ASSERT_TRUE(ensemble().kill9(follower));
  ASSERT_TRUE(a.wait_state(ConnectionState::kSuspended, 5s, mark));
  ASSERT_TRUE(await(b->set(n, "1", -1, use_future)).ok());
  ASSERT_TRUE(await(b->create(later, "", {}, use_future)).ok());
  ASSERT_TRUE(await(b->create(parent + "/kid", "", {}, use_future)).ok());
  ASSERT_TRUE(await(b->remove(doomed, -1, use_future)).ok());
  EXPECT_EQ(a->state(), ConnectionState::kSuspended);
  EXPECT_EQ(data.count() + exist.count() + child.count() + gone.count(), 0u);
  // Asked while suspended: waits for the session to come back, then is answered.
  auto queued = a->get(n, nullptr, use_future);

  ASSERT_TRUE(ensemble().start(follower));
  ASSERT_TRUE(a.wait_state(ConnectionState::kReconnected, 10s, mark))
      << "states " << describe(a.states());
  std::printf("follower %d down and back: client reconnected after %.0f ms\n", follower,
              ms_since(killed_at));
  EXPECT_EQ(a->session_id(), sid);
  auto q = await(std::move(queued));
  ASSERT_TRUE(q.ok()) << "asked while suspended: " << text(q.error());
  EXPECT_EQ(q->data, "1");

  for (EventLog* log : {&data, &exist, &child, &gone}) EXPECT_TRUE(log->wait_count(1, 10s));
  // More changes: the one-shot watches are spent.
  ASSERT_TRUE(await(b->set(n, "2", -1, use_future)).ok());
  ASSERT_TRUE(await(b->remove(later, -1, use_future)).ok());
  ASSERT_TRUE(await(b->create(parent + "/kid2", "", {}, use_future)).ok());
  ASSERT_TRUE(await(b->create(doomed, "", {}, use_future)).ok());
  ASSERT_TRUE(await(b->set(p, "after", -1, use_future)).ok());
  ASSERT_TRUE(read_until(*a, p, "after"));
  EXPECT_EQ(describe(data.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeDataChanged, n}}));
  EXPECT_EQ(describe(exist.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeCreated, later}}));
  EXPECT_EQ(describe(child.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeChildrenChanged, parent}}));
  EXPECT_EQ(describe(gone.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeDeleted, doomed}}));
  // The persistent watch was registered again on the new connection.
  EXPECT_EQ(describe(persistent.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeDataChanged, p}}));
}

TEST_F(Failover, SilentServerIsGivenUpAfterTwoThirdsOfTheTimeout) {
  // A server that stops answering but keeps its connections open (SIGSTOP): the client must
  // presume it gone once nothing came from it for two thirds of the session timeout
  // (ZooKeeper's readTimeout; client_impl.cc says the same), so that a third of the timeout
  // is left to resume the session elsewhere before the ensemble expires it.
  constexpr auto kTimeout = 3000ms;
  int follower = -1;
  for (int i = 0; i < ensemble().size() && follower < 0; ++i)
    if (ensemble().mode(i) == "follower") follower = i;
  ASSERT_GE(follower, 0) << ensemble().describe(0);
  TestClient a({.connect = ensemble().host_port(follower), .timeout = kTimeout});
  ASSERT_TRUE(a.connected());
  ASSERT_EQ(a->session_timeout(), kTimeout);
  const auto connected_at = a.state_time(ConnectionState::kConnected);
  // The client checks for silence when its ping timer fires, every third of the timeout
  // counted from the session's start. Half way between two of those (waiting for a point in
  // time, not for a condition), hear from the server one last time, and stop it.
  std::this_thread::sleep_until(connected_at + kTimeout / 2);
  ASSERT_TRUE(await(a->get("/", nullptr, use_future)).ok());
  size_t mark = a.state_count();
  ASSERT_TRUE(ensemble().pause(follower));
  const auto paused_at = Clock::now();
  ASSERT_TRUE(a.wait_state(ConnectionState::kSuspended, 10s, mark)) << describe(a.states());
  double silent_ms = std::chrono::duration<double, std::milli>(
                         a.state_time(ConnectionState::kSuspended, mark) - paused_at)
                         .count();
  std::printf(
      "server last heard and paused %.0f ms after the session began; client gave up "
      "on it %.0f ms later (timeout %lld ms)\n",
      std::chrono::duration<double, std::milli>(paused_at - connected_at).count(), silent_ms,
      static_cast<long long>(kTimeout.count()));
  // Nothing came after the pause: two thirds of the timeout after it is the latest (plus
  // some slack for a busy machine).
  EXPECT_LE(silent_ms, kTimeout.count() * 2 / 3 + 250)
      << "a silent server is given up only " << silent_ms << " ms after it fell silent";
  // Not resumed: a member stopped for longer than syncLimit has lost its leader without
  // knowing yet, and would still claim to follow. Restarted instead (TearDown).
  ensemble().kill9(follower);
}

TEST_F(Failover, ManyWatchesAreRestoredOnTheNewConnection) {
  // Enough watches that re-registering them all in one SetWatches request would exceed the
  // servers' jute.maxbuffer (1 MiB): ZooKeeper's Java client sends them in batches of at
  // most 128 KiB (ClientCnxn.SET_WATCHES_MAX_LENGTH, ZOOKEEPER-706); a server closes the
  // connection on a larger frame.
  constexpr int kWatches = 12000;
  EventLog log;
  TestClient a({.timeout = 10s});
  ASSERT_TRUE(a.connected());
  const int victim = member_of(a->server());
  ASSERT_GE(victim, 0);
  TestClient b({.connect = hosts_except(victim)});
  ASSERT_TRUE(b.connected());
  std::string root = test_root(*a);
  const std::string pad(80, 'x');
  auto path = [&](int i) { return root + "/" + pad + "-" + std::to_string(i); };
  std::atomic<int> set{0}, wrong{0};
  for (int i = 0; i < kWatches; ++i)
    a->exists(path(i), log.watcher(), [&](Result<Stat> r) {
      if (r.error() != ErrorCode::kNoNode) ++wrong;
      ++set;
    });
  ASSERT_TRUE(wait_until(
      120s, [&] { return set.load() == kWatches; }, 20ms));
  ASSERT_EQ(wrong.load(), 0);
  std::printf("%d exist watches, about %zu KiB of paths\n", kWatches,
              kWatches * (path(0).size() + 4) / 1024);

  size_t mark = a.state_count();
  auto killed_at = Clock::now();
  ASSERT_TRUE(ensemble().kill9(victim));
  ASSERT_TRUE(a.wait_state(ConnectionState::kReconnected, 10s, mark)) << describe(a.states());
  // Created by another client: the first and the last watched path fire.
  auto go = set_with_retry(*b, root, "go");
  ASSERT_TRUE(go.ok()) << text(go.error()) << "; b's states " << describe(b.states());
  for (int i : {0, kWatches - 1}) ASSERT_TRUE(await(b->create(path(i), "", {}, use_future)).ok());
  bool fired = log.wait_count(2, 10s);
  auto after = states_from(a, mark);
  size_t suspensions = std::count(after.begin(), after.end(), ConnectionState::kSuspended);
  std::printf("after the kill: %zu states (%zu suspensions), %zu events, %.0f ms\n", after.size(),
              suspensions, log.count(), ms_since(killed_at));
  EXPECT_TRUE(fired) << "the watches did not survive the reconnection";
  // One suspension, or two when the killed member led: the client may reach a follower that
  // has not yet noticed its leader is gone, and is dropped again when it does. Without
  // batching, every reconnection would be lost at once (thousands in a few seconds).
  EXPECT_LE(suspensions, 2u) << "the connection keeps being lost after the reconnection";
}

}  // namespace
}  // namespace corral::client::test
