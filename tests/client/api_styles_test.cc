// The ways to call the client: callbacks (on the event strand: never two at once, even on a
// multi-threaded io_context), C++20 coroutines (asio::use_awaitable), asio::use_future, and
// BlockingClient.
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <set>

#include "corral/client/blocking.h"
#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

/// Counts callbacks in progress; remembers the most ever seen at once.
struct Overlap {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> calls{0};
  std::mutex mu;
  std::set<std::thread::id> threads;

  void enter() {
    int now = ++inside;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    // Stay inside a little (busy, not asleep), so that a second callback running at the
    // same time on another thread would be caught.
    auto until = Clock::now() + 50us;
    while (Clock::now() < until) {
    }
  }
  void leave() {
    --inside;
    ++calls;
  }
};

TEST(ApiStyles, CallbacksNeverRunConcurrently) {
  constexpr int kThreads = 4;
  constexpr int kOps = 400;
  Overlap overlap;
  std::atomic<int> events{0};
  std::atomic<int> failures{0};
  TestClient c({.threads = kThreads});
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  std::string p = root + "/n";
  ASSERT_TRUE(await(c->create(p, "", {}, use_future)).ok());

  // A persistent watch: its events run on the same strand as the completions.
  ASSERT_TRUE(await(c->add_watch(
                        p, AddWatchMode::kPersistent,
                        [&](const WatchEvent&) {
                          overlap.enter();
                          ++events;
                          overlap.leave();
                        },
                        use_future))
                  .ok());
  for (int i = 0; i < kOps; ++i) {
    auto check = [&](ErrorCode err) {
      overlap.enter();
      if (err != ErrorCode::kOk) ++failures;
      overlap.leave();
    };
    switch (i % 4) {
      case 0:
        c->set(p, std::to_string(i), -1, [check](Result<Stat> r) { check(r.error()); });
        break;
      case 1:
        c->get(p, nullptr, [check](Result<DataResult> r) { check(r.error()); });
        break;
      case 2:
        c->exists(p, nullptr, [check](Result<Stat> r) { check(r.error()); });
        break;
      default:
        c->children(root, nullptr, [check](Result<ChildrenResult> r) { check(r.error()); });
    }
  }
  ASSERT_TRUE(wait_until(60s, [&] { return overlap.calls.load() >= kOps + kOps / 4; }))
      << overlap.calls << " of " << kOps + kOps / 4 << " callbacks ran";
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(events.load(), kOps / 4);
  EXPECT_EQ(overlap.most.load(), 1) << "callbacks ran concurrently";
  std::printf("%d callbacks on %zu threads, at most %d at once\n", overlap.calls.load(),
              overlap.threads.size(), overlap.most.load());
}

TEST(ApiStyles, CoroutineRunsOperationsInSequence) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto body = [&]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> log;
    // A named CreateOptions, not CreateOptions{} or {} in the co_await expression: GCC 12.2
    // destroys such an aggregate temporary (it has default member initializers) twice
    // there, which corrupts the heap (a crash in ClientImpl::on_reply).
    CreateOptions persistent;
    Result<CreateResult> created =
        co_await c->create(root + "/co", "one", persistent, asio::use_awaitable);
    log.push_back("create " + text(created.error()) + " " + created->path);
    Result<DataResult> got = co_await c->get(root + "/co", nullptr, asio::use_awaitable);
    log.push_back("get " + text(got.error()) + " " + got->data + " v" +
                  std::to_string(got->stat.version));
    Result<Stat> set = co_await c->set(root + "/co", "two", got->stat.version, asio::use_awaitable);
    log.push_back("set " + text(set.error()) + " v" + std::to_string(set->version));
    Result<Stat> stale = co_await c->set(root + "/co", "three", 0, asio::use_awaitable);
    log.push_back("set " + text(stale.error()));
    Result<DataResult> again = co_await c->get(root + "/co", nullptr, asio::use_awaitable);
    log.push_back("get " + text(again.error()) + " " + again->data + " v" +
                  std::to_string(again->stat.version));
    Result<void> removed = co_await c->remove(root + "/co", 1, asio::use_awaitable);
    log.push_back("remove " + text(removed.error()));
    co_return log;
  };
  auto f = asio::co_spawn(c.io(), body(), use_future);
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(f.get(),
            (std::vector<std::string>{"create ZOK " + root + "/co", "get ZOK one v0", "set ZOK v1",
                                      "set ZBADVERSION", "get ZOK two v1", "remove ZOK"}));
}

TEST(ApiStyles, FuturesMayBeWaitedForInAnyOrder) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  std::vector<std::future<Result<CreateResult>>> creates;
  for (int i = 0; i < 20; ++i)
    creates.push_back(
        c->create(root + "/f" + std::to_string(i), std::to_string(i), {}, use_future));
  auto kids = c->children(root, nullptr, use_future);
  for (int i = 19; i >= 0; --i) {
    auto r = await(std::move(creates[static_cast<size_t>(i)]));
    ASSERT_TRUE(r.ok()) << text(r.error());
    EXPECT_EQ(r->path, root + "/f" + std::to_string(i));
  }
  auto k = await(std::move(kids));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->children.size(), 20u);  // issued after the creates: sees them all
  auto missing = await(c->get(root + "/none", nullptr, use_future));
  EXPECT_EQ(missing.error(), ErrorCode::kNoNode);
}

TEST(ApiStyles, BlockingClient) {
  std::atomic<int> states{0};
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::thread::id> watcher_thread;
  Options o;
  o.connect_string = all_hosts();
  o.on_state = [&](ConnectionState) { ++states; };
  BlockingClient b(o);
  ASSERT_TRUE(b.wait_connected(30s));
  EXPECT_EQ(b.state(), ConnectionState::kConnected);
  std::string root = test_root(b.async());
  ASSERT_TRUE(b.create(root + "/a", "1").ok());
  auto eph = b.create(root + "/e", "", CreateMode::kEphemeral);
  ASSERT_TRUE(eph.ok());
  EXPECT_EQ(eph->stat.ephemeral_owner, b.async().session_id());
  EXPECT_EQ(b.create(root + "/a", "dup").error(), ErrorCode::kNodeExists);

  // A watcher runs on the client's own thread, not the caller's.
  auto got = b.get(root + "/a", [&](const WatchEvent& e) {
    std::lock_guard lock(mu);
    watcher_thread = std::this_thread::get_id();
    cv.notify_all();
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data, "1");
  auto set = b.set(root + "/a", "2", 0);
  ASSERT_TRUE(set.ok()) << text(set.error());
  EXPECT_EQ(set->version, 1);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return watcher_thread.has_value(); }));
    EXPECT_NE(*watcher_thread, std::this_thread::get_id());
  }
  EXPECT_TRUE(b.exists(root + "/a").ok());
  EXPECT_EQ(b.exists(root + "/zz").error(), ErrorCode::kNoNode);
  auto kids = b.children(root);
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(kids->children.size(), 2u);
  EXPECT_EQ(*b.descendant_count(root), 2);
  EXPECT_TRUE(b.sync(root).ok());
  auto m = b.multi(Multi().set(root + "/a", "3", 1).check(root + "/e", 0));
  ASSERT_TRUE(m.ok()) << text(m.error());
  EXPECT_EQ(b.ephemerals(root).value(), std::vector<std::string>{root + "/e"});
  EXPECT_EQ(b.remove(root + "/a", 0).error(), ErrorCode::kBadVersion);
  EXPECT_TRUE(b.remove(root + "/a", 2).ok());
  EXPECT_TRUE(b.close().ok());
  EXPECT_TRUE(wait_until(5s, [&] { return b.state() == ConnectionState::kClosed; }));
  EXPECT_EQ(b.get(root).error(), ErrorCode::kClosing);
  EXPECT_GE(states.load(), 2);  // connected, closed

  TestClient check;
  ASSERT_TRUE(check.connected());
  EXPECT_EQ(await(check->exists(root + "/e", nullptr, use_future)).error(), ErrorCode::kNoNode)
      << "the closed session's ephemeral is still there";
}

}  // namespace
}  // namespace corral::client::test
