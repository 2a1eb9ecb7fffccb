// A callback, watcher or state listener that throws: the exception leaves io_context::run() in
// the thread that runs it (Asio's rule for handlers), and the client carries on when run() is
// called again: later answers and events still come, on the same connection, and the other
// listeners of a state change still hear it.
#include <stdexcept>

#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

struct Thrown : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs `io` in this thread until `done` holds or `timeout` passes, counting the Thrown
/// exceptions that leave run_for() (each ends that call; the loop calls it again).
template <class F>
bool run_until(asio::io_context& io, F done, int& thrown, Clock::duration timeout = 20s) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    try {
      io.restart();
      io.run_for(10ms);
    } catch (const Thrown&) {
      ++thrown;
    }
  }
  return true;
}

// What the callbacks write lives in the fixture: a callback that is still pending when a
// check fails runs in TearDown, after the test body's locals are gone.
class ThrowingCallbacks : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.connect_string = all_hosts();
    o.on_state = [this](ConnectionState s) {
      state = s;
      ++state_changes;
    };
    client = std::make_unique<Client>(io.get_executor(), std::move(o));
    client->start();
    ASSERT_TRUE(run_until(
        io, [&] { return state == ConnectionState::kConnected; }, thrown));
    client->create("/throwing-" + std::to_string(::getpid()) + "-" + std::to_string(++counter), "0",
                   {}, [this](Result<CreateResult> r) {
                     if (r) path = r->path;
                     made = true;
                   });
    ASSERT_TRUE(run_until(
        io, [&] { return made; }, thrown));
    ASSERT_FALSE(path.empty());
    state_changes = 0;
  }
  void TearDown() override {
    if (path.empty() || client->state() == ConnectionState::kClosed) return;
    client->remove(
        path, -1, [this](Result<void>) { client->close([this](Result<void>) { closed = true; }); });
    EXPECT_TRUE(run_until(
        io, [&] { return closed; }, thrown));
  }

  /// One get through the client; true when it answered with the node's data `want`.
  bool get_sees(const std::string& want) {
    answered = false;
    client->get(path, nullptr, [this](Result<DataResult> r) {
      seen = r ? r->data : "";
      answered = true;
    });
    return run_until(
               io, [&] { return answered; }, thrown) &&
           seen == want;
  }

  static inline int counter = 0;
  asio::io_context io;
  std::unique_ptr<Client> client;
  ConnectionState state = ConnectionState::kConnecting;
  /// Since connected: any other than a close means the connection was lost on the way.
  int state_changes = 0;
  int thrown = 0;
  std::string path;
  bool made = false, closed = false, answered = false;
  std::string seen;
  int later = 0, events = 0;
};

TEST_F(ThrowingCallbacks, AnAnswersCallbackThatThrowsLeavesRunAndTheClientCarriesOn) {
  // Three requests pipelined: the first's callback throws; the other two still get theirs.
  client->get(path, nullptr, [](Result<DataResult>) { throw Thrown("from an answer"); });
  client->set(path, "1", -1, [this](Result<Stat> r) { later += r.ok(); });
  client->get(path, nullptr, [this](Result<DataResult> r) {
    seen = r ? r->data : "";
    ++later;
  });
  ASSERT_TRUE(run_until(
      io, [&] { return later == 2; }, thrown))
      << "thrown " << thrown;
  EXPECT_EQ(seen, "1");
  EXPECT_EQ(thrown, 1);
  EXPECT_TRUE(get_sees("1"));
  EXPECT_EQ(state_changes, 0) << "the connection was lost";
}

TEST_F(ThrowingCallbacks, AWatcherThatThrowsLeavesRunAndLaterEventsStillCome) {
  client->get(
      path, [](const WatchEvent&) { throw Thrown("from a watcher"); }, [](Result<DataResult>) {});
  client->set(path, "1", -1, [this](Result<Stat>) { answered = true; });
  ASSERT_TRUE(run_until(
      io, [&] { return answered && thrown == 1; }, thrown));
  // A second watch, on the same node, fires as usual.
  client->exists(
      path, [this](const WatchEvent&) { ++events; }, [](Result<Stat>) {});
  client->set(path, "2", -1, [](Result<Stat>) {});
  ASSERT_TRUE(run_until(
      io, [&] { return events == 1; }, thrown))
      << "thrown " << thrown;
  EXPECT_EQ(thrown, 1);
  EXPECT_TRUE(get_sees("2"));
  EXPECT_EQ(state_changes, 0) << "the connection was lost";
}

TEST_F(ThrowingCallbacks, AStateListenerThatThrowsLeavesTheOthersTheChange) {
  auto first = client->subscribe_state([](ConnectionState s) {
    if (s == ConnectionState::kClosed) throw Thrown("from a state listener");
  });
  auto second = client->subscribe_state([this](ConnectionState s) {
    if (s == ConnectionState::kClosed) ++events;
  });
  client->remove(path, -1,
                 [this](Result<void>) { client->close([this](Result<void>) { closed = true; }); });
  ASSERT_TRUE(run_until(
      io, [&] { return closed && events == 1 && thrown == 1; }, thrown))
      << "closed " << closed << ", the second listener heard " << events << ", thrown " << thrown;
  EXPECT_EQ(state, ConnectionState::kClosed);
}

}  // namespace
}  // namespace corral::client::test
