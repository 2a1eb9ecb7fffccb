// Connection states: kConnecting until the first session, kConnected, kClosed after close();
// what calls do before the session and after close; session timeout negotiation; pings keep
// an idle session alive; the destructor.
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include "tests/client/client_env.h"
#include "tests/e2e/server_process.h"

namespace corral::client::test {
namespace {

using asio::use_future;

TEST(States, ConnectingThenConnected) {
  TestClient other;
  ASSERT_TRUE(other.connected());
  std::string root = test_root(*other);

  TestClient c({.start = false});
  EXPECT_EQ(c->state(), ConnectionState::kConnecting);
  EXPECT_EQ(c->session_id(), 0);
  EXPECT_EQ(c->session_timeout(), 0ms);
  EXPECT_EQ(c->server(), "");
  // Asked before the session exists: waits for it.
  auto early = c->create(root + "/early", "", {CreateMode::kEphemeral}, use_future);
  EXPECT_EQ(early.wait_for(100ms), std::future_status::timeout);
  c->start();
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c->state(), ConnectionState::kConnected);
  EXPECT_EQ(describe(c.states()), describe({ConnectionState::kConnected}));
  EXPECT_NE(c->session_id(), 0);
  EXPECT_EQ(c->session_timeout(), 10000ms);
  EXPECT_GE(member_of(c->server()), 0) << c->server();
  auto e = await(std::move(early));
  ASSERT_TRUE(e.ok()) << text(e.error());
  EXPECT_EQ(e->stat.ephemeral_owner, c->session_id());
}

TEST(States, HostNamesAreResolvedAndAddressesTakenAsTheyAre) {
  // A numeric address skips the resolver; a name goes through it (here "localhost", which
  // may resolve to ::1 first, where nothing listens: the next address is tried).
  std::string named = all_hosts();
  for (size_t at; (at = named.find("127.0.0.1")) != std::string::npos;)
    named.replace(at, 9, "localhost");
  for (const std::string& hosts : {all_hosts(), named}) {
    TestClient c({.connect = hosts});
    ASSERT_TRUE(c.connected()) << hosts;
    auto e = await(c->exists("/", nullptr, use_future));
    EXPECT_TRUE(e.ok()) << hosts << ": " << text(e.error());
  }
}

// client.h: server() names an IPv6 address in brackets, as a connect string takes it. A Corral
// server in both targets (CLIENT_TARGET): what is checked is the client's naming, not the server.
TEST(States, AnIpv6ServerIsNamedInBrackets) {
  e2e::ServerProcess server("ipv6-server", {});
  ASSERT_TRUE(server.start("clientPortAddress=::1\n")) << server.log();
  const std::string host_port = "[::1]:" + std::to_string(server.port());
  TestClient c({.connect = host_port});
  ASSERT_TRUE(c.connected()) << server.log();
  EXPECT_EQ(c->server(), host_port);
  auto e = await(c->exists("/", nullptr, use_future));
  EXPECT_TRUE(e.ok()) << text(e.error());
}

TEST(States, SessionTimeoutIsNegotiated) {
  // tickTime 500: the servers grant between 2 and 20 ticks.
  for (auto [asked, granted] : {std::pair{500ms, 1000ms}, std::pair{2000ms, 2000ms},
                                std::pair{10000ms, 10000ms}, std::pair{60000ms, 10000ms}}) {
    TestClient c({.timeout = asked});
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c->session_timeout(), granted) << "asked for " << asked.count() << " ms";
  }
}

TEST(States, IdleSessionIsKeptAliveByPings) {
  TestClient a({.timeout = 2000ms}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  std::string root = test_root(*b);
  ASSERT_TRUE(await(a->sync(root, use_future)).ok());  // root is b's: maybe not on a's server yet
  ASSERT_TRUE(await(a->create(root + "/eph", "", {CreateMode::kEphemeral}, use_future)).ok());
  // Three session timeouts without a request: nothing may happen to the connection.
  bool changed = wait_until(
      6s, [&] { return a.state_count() != 1; }, 50ms);
  EXPECT_FALSE(changed) << "states " << describe(a.states());
  ASSERT_TRUE(await(b->sync(root, use_future)).ok());  // a's create: maybe not on b's server yet
  auto e = await(b->exists(root + "/eph", nullptr, use_future));
  ASSERT_TRUE(e.ok()) << text(e.error());
  EXPECT_EQ(e->ephemeral_owner, a->session_id());
  EXPECT_TRUE(await(a->get(root, nullptr, use_future)).ok());
}

TEST(States, CloseEndsTheSession) {
  TestClient a, b;
  ASSERT_TRUE(a.connected() && b.connected());
  std::string root = test_root(*b);
  ASSERT_TRUE(await(a->sync(root, use_future)).ok());  // root is b's: maybe not on a's server yet
  ASSERT_TRUE(await(a->create(root + "/eph", "", {CreateMode::kEphemeral}, use_future)).ok());
  auto closed = await(a->close(use_future));
  ASSERT_TRUE(closed.ok()) << text(closed.error());
  ASSERT_TRUE(a.wait_state(ConnectionState::kClosed, 5s));
  EXPECT_EQ(a->state(), ConnectionState::kClosed);
  EXPECT_EQ(describe(a.states()),
            describe({ConnectionState::kConnected, ConnectionState::kClosed}));
  // Its ephemerals went with the close (not at a timeout).
  ASSERT_TRUE(await(b->sync(root, use_future)).ok());
  EXPECT_EQ(await(b->exists(root + "/eph", nullptr, use_future)).error(), ErrorCode::kNoNode);

  // Calls after close: ZCLOSING (the client is unusable). Closing again is harmless.
  EXPECT_EQ(await(a->get(root, nullptr, use_future)).error(), ErrorCode::kClosing);
  EXPECT_EQ(await(a->create(root + "/x", "", {}, use_future)).error(), ErrorCode::kClosing);
  EXPECT_EQ(await(a->multi(Multi().check(root, -1), use_future)).error(), ErrorCode::kClosing);
  EXPECT_EQ(await(a->add_auth("digest", "a:b", use_future)).error(), ErrorCode::kClosing);
  EXPECT_EQ(text(await(a->sync(root, use_future)).error()), "ZCLOSING");
  EXPECT_TRUE(await(a->close(use_future)).ok());
  EXPECT_EQ(a->state(), ConnectionState::kClosed);
}

TEST(States, CloseCompletesAfterTheStateIsClosed) {
  // Once close() has completed, state() must say kClosed (ZooKeeper.close() returns with the
  // state CLOSED). A coroutine on the client's io_context resumes right when close completes.
  TestClient a;
  ASSERT_TRUE(a.connected());
  auto body = [&]() -> asio::awaitable<std::pair<ErrorCode, ConnectionState>> {
    Result<void> r = co_await a->close(asio::use_awaitable);
    co_return std::pair{r.error(), a->state()};
  };
  auto f = asio::co_spawn(a.io(), body(), use_future);
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto [err, state_then] = f.get();
  EXPECT_EQ(err, ErrorCode::kOk) << text(err);
  EXPECT_EQ(state_then, ConnectionState::kClosed)
      << "close() completed while state() was still " << state_name(state_then);
}

TEST(States, RequestsIssuedRightAfterCloseComplete) {
  // close() and, before its answer, more requests: each must complete (ZCLOSING), not hang.
  std::mutex mu;
  std::vector<std::string> got;
  TestClient a;
  ASSERT_TRUE(a.connected());
  std::string root = test_root(*a);
  auto note = [&](std::string what) {
    std::lock_guard lock(mu);
    got.push_back(std::move(what));
  };
  a->close([note](Result<void> r) { note("close " + text(r.error())); });
  a->get(root, nullptr, [note](Result<DataResult> r) { note("get " + text(r.error())); });
  a->close([note](Result<void> r) { note("close again " + text(r.error())); });
  bool all = wait_until(5s, [&] {
    std::lock_guard lock(mu);
    return got.size() == 3;
  });
  std::lock_guard lock(mu);
  std::string seen;
  for (const auto& g : got) seen += "[" + g + "] ";
  EXPECT_TRUE(all) << "only " << got.size() << " of 3 calls completed: " << seen;
  EXPECT_EQ(got.size() > 0 ? got[0] : "", "close ZOK") << seen;
  EXPECT_NE(seen.find("get ZCLOSING"), std::string::npos) << seen;
}

TEST(States, DestroyingTheClientClosesItsSession) {
  // client.h: "~Client(): Closes the session if still open (without waiting for the
  // answer)": its ephemerals go right away, not after the 10 s session timeout.
  TestClient a({.timeout = 10s}), b;
  ASSERT_TRUE(a.connected() && b.connected());
  std::string root = test_root(*b);
  ASSERT_TRUE(await(a->sync(root, use_future)).ok());  // root is b's: maybe not on a's server yet
  ASSERT_TRUE(await(a->create(root + "/eph", "", {CreateMode::kEphemeral}, use_future)).ok());
  auto destroyed_at = Clock::now();
  a.destroy_client();  // the io_context keeps running
  bool gone = wait_until(
      4s,
      [&] {
        return await(b->exists(root + "/eph", nullptr, use_future)).error() == ErrorCode::kNoNode;
      },
      50ms);
  EXPECT_TRUE(gone) << "the destroyed client's session lives on (its ephemeral is still there "
                    << ms_since(destroyed_at) << " ms later)";
}

TEST(States, ServerIsEmptyWhenNotConnected) {
  // client.h: server() is "host:port of the server connected to, or empty".
  TestClient a;
  ASSERT_TRUE(a.connected());
  EXPECT_GE(member_of(a->server()), 0);
  ASSERT_TRUE(await(a->close(use_future)).ok());
  ASSERT_TRUE(a.wait_state(ConnectionState::kClosed, 5s));
  EXPECT_EQ(a->server(), "") << "closed, yet connected to a server?";
}

TEST(States, UnreachableEnsembleKeepsConnectingUntilClosed) {
  uint16_t port = e2e::pick_listen_port();  // nobody listens there
  ASSERT_NE(port, 0);
  TestClient c({.connect = "127.0.0.1:" + std::to_string(port), .timeout = 2000ms});
  auto pending = c->get("/", nullptr, use_future);
  // Several session timeouts: still connecting (never connected, so nothing to lose).
  bool changed = wait_until(
      3s, [&] { return c->state() != ConnectionState::kConnecting; }, 20ms);
  EXPECT_FALSE(changed) << "state " << state_name(c->state());
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout);
  ASSERT_TRUE(await(c->close(use_future)).ok());
  EXPECT_EQ(c->state(), ConnectionState::kClosed);
  EXPECT_EQ(await(std::move(pending)).error(), ErrorCode::kClosing);
}

TEST(States, DestroyingTheClientFailsItsWaitingRequests) {
  // Requests still waiting for a session when the Client goes complete with ZCLOSING.
  std::mutex mu;
  std::vector<ErrorCode> got;
  uint16_t port = e2e::pick_listen_port();  // nobody listens there
  ASSERT_NE(port, 0);
  TestClient c({.connect = "127.0.0.1:" + std::to_string(port), .timeout = 2000ms});
  for (int i = 0; i < 3; ++i)
    c->get("/", nullptr, [&](Result<DataResult> r) {
      std::lock_guard lock(mu);
      got.push_back(r.error());
    });
  c.destroy_client();
  ASSERT_TRUE(wait_until(5s, [&] {
    std::lock_guard lock(mu);
    return got.size() == 3;
  })) << "requests left waiting by the destroyed client";
  std::lock_guard lock(mu);
  for (auto e : got) EXPECT_EQ(e, ErrorCode::kClosing) << text(e);
}

TEST(States, BadConnectStringsAreRejected) {
  asio::io_context io;
  for (const char* bad : {"", "127.0.0.1:notaport", "127.0.0.1:70000", "127.0.0.1:2181,",
                          "127.0.0.1:2181/bad//chroot", "[::1:2181"}) {
    Options o;
    o.connect_string = bad;
    EXPECT_THROW(Client(io.get_executor(), o), std::invalid_argument) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace corral::client::test
