// A callback or watcher that throws: the exception leaves io_context::run() in the thread that
// runs it (Asio's rule for handlers), and the client carries on when run() is called again:
// later answers and events still come, on the same connection.
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
    bool made = false;
    client->create("/throwing-" + std::to_string(::getpid()) + "-" + std::to_string(++counter), "0",
                   {}, [&](Result<CreateResult> r) {
                     ASSERT_TRUE(r.ok()) << text(r.error());
                     path = r->path;
                     made = true;
                   });
    ASSERT_TRUE(run_until(
        io, [&] { return made; }, thrown));
    state_changes = 0;
  }
  void TearDown() override {
    bool closed = false;
    client->remove(path, -1,
                   [&](Result<void>) { client->close([&](Result<void>) { closed = true; }); });
    EXPECT_TRUE(run_until(
        io, [&] { return closed; }, thrown));
  }

  /// One get through the client; true when it answered with the node's data `want`.
  bool get_sees(const std::string& want) {
    bool answered = false;
    std::string seen;
    client->get(path, nullptr, [&](Result<DataResult> r) {
      if (r) seen = r->data;
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
  /// Since connected: any means the connection was lost on the way.
  int state_changes = 0;
  std::string path;
  int thrown = 0;
};

TEST_F(ThrowingCallbacks, AnAnswersCallbackThatThrowsLeavesRunAndTheClientCarriesOn) {
  // Three requests pipelined: the first's callback throws; the other two still get theirs.
  int later = 0;
  std::string seen;
  client->get(path, nullptr, [](Result<DataResult>) { throw Thrown("from an answer"); });
  client->set(path, "1", -1, [&](Result<Stat> r) { later += r.ok(); });
  client->get(path, nullptr, [&](Result<DataResult> r) {
    if (r) seen = r->data;
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
  bool set_answered = false;
  client->get(
      path, [](const WatchEvent&) { throw Thrown("from a watcher"); }, [](Result<DataResult>) {});
  client->set(path, "1", -1, [&](Result<Stat>) { set_answered = true; });
  ASSERT_TRUE(run_until(
      io, [&] { return set_answered && thrown == 1; }, thrown));
  // A second watch, on the same node, fires as usual.
  int events = 0;
  client->exists(
      path, [&](const WatchEvent&) { ++events; }, [](Result<Stat>) {});
  client->set(path, "2", -1, [](Result<Stat>) {});
  ASSERT_TRUE(run_until(
      io, [&] { return events == 1; }, thrown))
      << "thrown " << thrown;
  EXPECT_EQ(thrown, 1);
  EXPECT_TRUE(get_sees("2"));
  EXPECT_EQ(state_changes, 0) << "the connection was lost";
}

}  // namespace
}  // namespace corral::client::test
