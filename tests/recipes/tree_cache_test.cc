// TreeCache, with its persistent recursive watch and with one-shot watches per node (each
// test runs in both modes): the first load, nested adds/updates/removes in order, a burst of
// 200 sets, a subtree deleted, nodes that appear and vanish quickly (the cache ends equal to
// the server's tree and its events replay into it), max_depth, the root created late, the
// cache's server killed with kill -9 while the tree changes, close() (also while the
// connection drops) and the session lost. Events are looked at once the listener has heard
// them (settles()), not only once the cache shows the change.
#include "corral/recipes/tree_cache.h"

#include <asio/use_future.hpp>

#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

using asio::use_future;
using Kind = TreeCacheEventKind;
using Tree = std::map<std::string, std::string>;  // path -> data

/// Restores the ensemble when a test that kills a member ends, even by a failed assertion.
struct RestoreEnsemble {
  ~RestoreEnsemble() { restore_ensemble(); }
};

/// Every event a TreeCache reported, thread-safe.
/// Declared before the cache in each test, so it outlives the cache's calls to the listener
/// (which end when the cache is closed or destroyed), also when a test ends early.
class TreeEvents : public EventRecorder<TreeCacheEvent> {
 public:
  /// The events about paths under `prefix`, as "added /p 'data'" lines.
  std::vector<std::string> lines(const std::string& prefix = "") const {
    std::vector<std::string> out;
    for (const auto& e : events()) {
      if (e.path.rfind(prefix, 0) != 0) continue;
      out.push_back(std::string(tree_cache_event_name(e.kind)) + " " + e.path +
                    (e.kind == Kind::kNodeRemoved ? "" : " '" + e.node.data + "'"));
    }
    return out;
  }
  /// Replays the node events into a tree; adds only of absent paths, updates and removes
  /// only of present ones, removes only of leaves (else a failure, with the event).
  Tree replay() const {
    std::vector<std::string> faults;
    Tree t = replayed(&faults);
    EXPECT_TRUE(faults.empty()) << ::testing::PrintToString(faults);
    return t;
  }
  /// The node events replayed into a tree, each event that does not fit the tree it meets
  /// described in `faults` (when given).
  Tree replayed(std::vector<std::string>* faults = nullptr) const {
    Tree t;
    auto fault = [&](bool bad, const std::string& what, const std::string& path) {
      if (bad && faults) faults->push_back(what + path);
    };
    for (const auto& e : events()) {
      if (e.kind == Kind::kNodeAdded) {
        fault(!t.emplace(e.path, e.node.data).second, "added twice: ", e.path);
      } else if (e.kind == Kind::kNodeUpdated) {
        fault(!t.count(e.path), "update of absent ", e.path);
        t[e.path] = e.node.data;
      } else if (e.kind == Kind::kNodeRemoved) {
        auto next = t.upper_bound(e.path);
        fault(next != t.end() && next->first.rfind(e.path + "/", 0) == 0,
              "removed before its child: ", e.path);
        fault(t.erase(e.path) != 1, "removal of absent ", e.path);
      }
    }
    return t;
  }
};

/// The cache's contents as path -> data.
Tree contents(const TreeCache& cache) {
  Tree t;
  for (const auto& [path, node] : cache.snapshot()) t[path] = node.data;
  return t;
}

/// The server's subtree at `root` (read by `c` after a sync), path -> data.
Tree server_tree(Client& c, const std::string& root) {
  Tree t;
  await(c.sync(root, use_future));
  std::vector<std::string> todo{root};
  while (!todo.empty()) {
    std::string p = todo.back();
    todo.pop_back();
    auto got = await(c.get(p, nullptr, use_future));
    if (!got) continue;
    t[p] = got->data;
    auto kids = await(c.children(p, nullptr, use_future));
    for (const auto& k : kids->children) todo.push_back(p + "/" + k);
  }
  return t;
}

/// True once the cache holds exactly `want`.
bool holds(const TreeCache& cache, const Tree& want, Clock::duration t = 20s) {
  return wait_until(t, [&] { return contents(cache) == want; });
}

/// True once the cache holds exactly `want` and its listener has heard of it (its events
/// replay into `want`). The cache stores a read before it calls the listener, so its
/// contents alone may run ahead of the events: a test that looks at the events after
/// holds() races with that call.
bool settles(const TreeCache& cache, const TreeEvents& seen, const Tree& want,
             Clock::duration t = 20s) {
  return wait_until(t, [&] { return contents(cache) == want && seen.replayed() == want; });
}

/// A create that tolerates a lost reply (ZNODEEXISTS after a retry).
void create_retrying(Client& c, const std::string& path, const std::string& data) {
  ASSERT_TRUE(wait_until(
      30s,
      [&] {
        auto e = await(c.create(path, data, {}, use_future)).error();
        return e == ErrorCode::kOk || e == ErrorCode::kNodeExists;
      },
      100ms))
      << path;
}

class TreeCacheTest : public ::testing::TestWithParam<bool> {
 protected:
  TreeCacheOptions options(int max_depth = -1) const {
    return {.max_depth = max_depth, .force_one_shot_watches = GetParam()};
  }
};

INSTANTIATE_TEST_SUITE_P(Watches, TreeCacheTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "OneShot" : "Persistent"; });

TEST_P(TreeCacheTest, LoadsTheSubtreeThenReportsInitialized) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  const std::string root = test_root(*c);
  for (auto p : {"/a", "/b", "/b/c", "/b/d"})
    ASSERT_TRUE(await(c->create(root + p, p, {}, use_future)).ok());
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  EXPECT_EQ(cache.persistent_watch(), !GetParam());  // both servers have addWatch
  EXPECT_EQ(contents(cache), server_tree(*c, root));
  EXPECT_EQ(cache.size(), 5u);
  EXPECT_EQ(cache.children(root), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cache.children(root + "/b"), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(cache.children(root + "/a").empty());
  ASSERT_TRUE(cache.get(root + "/b/d").has_value());
  EXPECT_EQ(cache.get(root + "/b/d")->data, "/b/d");
  EXPECT_FALSE(cache.get(root + "/x").has_value());
  auto events = seen.events();
  ASSERT_EQ(events.size(), 6u) << ::testing::PrintToString(seen.lines());
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(events[i].kind, Kind::kNodeAdded);
  EXPECT_EQ(events[5].kind, Kind::kInitialized);
  EXPECT_EQ(seen.replay(), contents(cache));
}

TEST_P(TreeCacheTest, NestedAddsUpdatesAndRemovesInOrder) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string root = test_root(*c);
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  const std::string x = root + "/x", y = x + "/y", z = y + "/z";
  // Each step waits for the cache, so every change is one event.
  auto step = [&](auto op) {
    ASSERT_TRUE(await(op()).ok());
    ASSERT_TRUE(settles(cache, seen, server_tree(*w, root)))
        << ::testing::PrintToString(seen.lines());
  };
  step([&] { return w->create(x, "x0", {}, use_future); });
  step([&] { return w->create(y, "y0", {}, use_future); });
  step([&] { return w->create(z, "z0", {}, use_future); });
  step([&] { return w->set(y, "y1", -1, use_future); });
  step([&] { return w->set(z, "z1", -1, use_future); });
  step([&] { return w->remove(z, -1, use_future); });
  step([&] { return w->remove(y, -1, use_future); });
  step([&] { return w->create(y, "y2", {}, use_future); });
  step([&] { return w->remove(y, -1, use_future); });
  step([&] { return w->remove(x, -1, use_future); });
  std::vector<std::string> want{"node_added " + x + " 'x0'",   "node_added " + y + " 'y0'",
                                "node_added " + z + " 'z0'",   "node_updated " + y + " 'y1'",
                                "node_updated " + z + " 'z1'", "node_removed " + z,
                                "node_removed " + y,           "node_added " + y + " 'y2'",
                                "node_removed " + y,           "node_removed " + x};
  EXPECT_EQ(seen.lines(x), want);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_P(TreeCacheTest, BurstOfSetsEndsAtTheLastInIncreasingVersions) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string root = test_root(*c), node = root + "/n";
  ASSERT_TRUE(await(w->create(node, "v0", {}, use_future)).ok());
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  constexpr int kSets = 200;
  std::vector<std::future<Result<client::Stat>>> sets;
  for (int i = 1; i <= kSets; ++i)
    sets.push_back(w->set(node, "v" + std::to_string(i), -1, use_future));
  for (auto& s : sets) ASSERT_TRUE(await(std::move(s)).ok());
  ASSERT_TRUE(settles(cache, seen, {{root, ""}, {node, "v" + std::to_string(kSets)}}))
      << ::testing::PrintToString(seen.lines());
  EXPECT_EQ(cache.get(node)->stat.version, kSets);
  int last = 0, updates = 0;
  for (const auto& e : seen.events()) {
    if (e.kind != Kind::kNodeUpdated) continue;
    ++updates;
    ASSERT_EQ(e.path, node);
    ASSERT_GT(e.node.stat.version, last);
    EXPECT_EQ(e.node.data, "v" + std::to_string(e.node.stat.version));
    last = e.node.stat.version;
  }
  EXPECT_EQ(last, kSets);
  EXPECT_LE(updates, kSets);
}

TEST_P(TreeCacheTest, SubtreeDeletedIsRemovedChildrenFirst) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string root = test_root(*c), s = root + "/s";
  std::vector<std::string> nodes{s, s + "/a", s + "/a/1", s + "/a/2", s + "/b"};
  for (const auto& p : nodes) ASSERT_TRUE(await(w->create(p, "d", {}, use_future)).ok());
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  ASSERT_EQ(cache.size(), 6u);
  client::Multi ops;  // all at once: the cache cannot read between the deletes
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) ops.remove(*it);
  ASSERT_TRUE(await(w->multi(std::move(ops), use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, {{root, ""}})) << ::testing::PrintToString(seen.lines());
  auto lines = seen.lines(s);
  size_t removed = 0;
  for (const auto& l : lines) removed += l.rfind("node_removed", 0) == 0;
  EXPECT_EQ(removed, nodes.size()) << ::testing::PrintToString(lines);
  EXPECT_EQ(seen.replay(), contents(cache));  // checks children before parents
}

TEST_P(TreeCacheTest, NodesThatAppearAndVanishQuicklyLeaveItEqualToTheServer) {
  TestClient c, w1, w2;
  ASSERT_TRUE(c.connected() && w1.connected() && w2.connected());
  const std::string root = test_root(*c);
  for (auto p : {"/tasks", "/workers", "/assign"})
    ASSERT_TRUE(await(w1->create(root + p, "", {}, use_future)).ok());
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  // Two writers churn: tasks created, assigned, and deleted, often before any read.
  run_parallel(2, [&](int i) {
    Client& w = i == 0 ? *w1 : *w2;
    for (int n = 0; n < 60; ++n) {
      std::string task = root + "/tasks/t" + std::to_string(i) + "-" + std::to_string(n);
      std::string assigned = root + "/assign/t" + std::to_string(i) + "-" + std::to_string(n);
      auto a = w.create(task, "job", {}, use_future);
      auto b = w.create(task + "/status", "new", {}, use_future);
      auto d = w.set(task + "/status", "running", -1, use_future);
      auto e = w.create(assigned, "w" + std::to_string(i), {}, use_future);
      std::vector<std::future<Result<void>>> gone;
      if (n % 3 != 0) {  // two of three vanish at once
        gone.push_back(w.remove(task + "/status", -1, use_future));
        gone.push_back(w.remove(task, -1, use_future));
        gone.push_back(w.remove(assigned, -1, use_future));
      }
      EXPECT_TRUE(await(std::move(a)).ok() && await(std::move(b)).ok() &&
                  await(std::move(d)).ok() && await(std::move(e)).ok());
      for (auto& g : gone) EXPECT_TRUE(await(std::move(g)).ok());
    }
  });
  const Tree want = server_tree(*w1, root);
  EXPECT_EQ(want.size(), 4u + 2 * 20 * 3);
  ASSERT_TRUE(settles(cache, seen, want, 30s)) << ::testing::PrintToString(seen.lines());
  EXPECT_EQ(seen.replay(), want);
  EXPECT_EQ(cache.children(root + "/tasks").size(), 40u);
}

TEST_P(TreeCacheTest, MaxDepthLimitsWhatIsCached) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string root = test_root(*c);
  for (auto p : {"/a", "/a/deep"}) ASSERT_TRUE(await(w->create(root + p, "", {}, use_future)).ok());
  TreeCache cache(*c, root, options(1));
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  EXPECT_EQ(contents(cache), (Tree{{root, ""}, {root + "/a", ""}}));
  ASSERT_TRUE(await(w->create(root + "/a/deeper", "", {}, use_future)).ok());
  ASSERT_TRUE(await(w->set(root + "/a/deep", "x", -1, use_future)).ok());
  ASSERT_TRUE(await(w->create(root + "/b", "", {}, use_future)).ok());  // a witness after
  ASSERT_TRUE(wait_until(20s, [&] { return cache.get(root + "/b").has_value(); }));
  EXPECT_EQ(contents(cache), (Tree{{root, ""}, {root + "/a", ""}, {root + "/b", ""}}));
  EXPECT_TRUE(cache.children(root + "/a").empty());
}

TEST_P(TreeCacheTest, RootCreatedLateAndDeletedAndCreatedAgain) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string root = test_root(*c) + "/later";
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  EXPECT_EQ(cache.size(), 0u);
  ASSERT_TRUE(await(w->create(root, "r1", {}, use_future)).ok());
  ASSERT_TRUE(await(w->create(root + "/k", "k1", {}, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, {{root, "r1"}, {root + "/k", "k1"}}));
  client::Multi ops;
  ops.remove(root + "/k").remove(root);
  ASSERT_TRUE(await(w->multi(std::move(ops), use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, {}));
  ASSERT_TRUE(await(w->create(root, "r2", {}, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, {{root, "r2"}}));
  EXPECT_EQ(seen.lines(root), (std::vector<std::string>{
                                  "node_added " + root + " 'r1'", "node_added " + root + "/k 'k1'",
                                  "node_removed " + root + "/k", "node_removed " + root,
                                  "node_added " + root + " 'r2'"}));
}

TEST_P(TreeCacheTest, ChangesWhileItsServerIsKilledShowUp) {
  TestClient c({.timeout = 10000ms});
  ASSERT_TRUE(c.connected());
  const std::string root = test_root(*c);
  for (auto p : {"/a", "/b", "/b/1"})
    ASSERT_TRUE(await(c->create(root + p, "0", {}, use_future)).ok());
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  int member = member_of(c->server());
  ASSERT_GE(member, 0);
  TestClient w({.connect = hosts_except(member)});
  ASSERT_TRUE(w.connected());
  RestoreEnsemble restore;
  // Frozen first: nothing of what follows reaches the cache's client before it reconnects
  // (its server dies with the notifications it would have sent).
  c.freeze();
  ASSERT_TRUE(ensemble().kill9(member));
  auto set = set_with_retry(*w, root + "/a", "1");
  ASSERT_TRUE(set.ok()) << text(set.error()) << "\n" << ensemble().describe();
  create_retrying(*w, root + "/c", "new");
  create_retrying(*w, root + "/b/2", "new");
  ASSERT_TRUE(wait_until(
      30s,
      [&] {
        auto e = await(w->remove(root + "/b/1", -1, use_future)).error();
        return e == ErrorCode::kOk || e == ErrorCode::kNoNode;
      },
      100ms));
  c.thaw();
  const Tree want = server_tree(*w, root);
  EXPECT_EQ(want.size(), 5u);
  ASSERT_TRUE(settles(cache, seen, want, 40s)) << ::testing::PrintToString(contents(cache));
  ASSERT_TRUE(await(w->set(root + "/c", "after", -1, use_future)).ok());
  Tree after = want;
  after[root + "/c"] = "after";
  ASSERT_TRUE(settles(cache, seen, after)) << ::testing::PrintToString(seen.lines());
  EXPECT_TRUE(cache.running());
  EXPECT_NE(member_of(c->server()), member);  // it did move to another server
  EXPECT_EQ(seen.replay(), contents(cache));
}

TEST_P(TreeCacheTest, CloseStopsTheEventsAndLeavesOtherCachesWatching) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  const std::string root = test_root(*c);
  TreeEvents seen;
  TreeCache cache(*c, root, options()), witness(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  ASSERT_TRUE(await(witness.start(use_future)).ok());
  ASSERT_TRUE(await(c->create(root + "/a", "1", {}, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, {{root, ""}, {root + "/a", "1"}}));
  const size_t before = seen.count();
  cache.close();
  EXPECT_FALSE(cache.running());
  // Closing removes the persistent watch; the other cache on the same client and root
  // (whose watch went with it) must add its own again.
  ASSERT_TRUE(await(c->set(root + "/a", "2", -1, use_future)).ok());
  ASSERT_TRUE(await(c->create(root + "/b", "", {}, use_future)).ok());
  ASSERT_TRUE(holds(witness, server_tree(*c, root)));
  ASSERT_TRUE(await(c->remove(root + "/b", -1, use_future)).ok());
  ASSERT_TRUE(holds(witness, server_tree(*c, root)));
  EXPECT_EQ(seen.count(), before) << ::testing::PrintToString(seen.lines());
  EXPECT_EQ(cache.get(root + "/a")->data, "1");  // frozen at close
}

// Persistent mode only: one-shot watches stay on the server (inert) until they fire.
TEST(TreeCachePersistent, ClosedCacheLeavesNoPersistentWatch) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  const std::string root = test_root(*c);
  TreeCache cache(*c, root, TreeCacheOptions{});
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  ASSERT_TRUE(await(cache.close(use_future)).ok());
  // Nothing of the cache's is left on the server for the root.
  EXPECT_EQ(await(c->remove_watches(root, client::WatcherType::kAny, use_future)).error(),
            ErrorCode::kNoWatcher);
}

// Persistent mode only: the connection drops while close() removes the persistent watch
// (the removal is never answered). The client still holds the watch then, and would register
// it again on every new connection, so the removal is made again once reconnected.
TEST(TreeCachePersistent, CloseDuringAConnectionLossStillRemovesTheWatch) {
  // Connected to the followers only: the one stopped is not the leader, so the other serves
  // on without an election. The client gives up on a silent server after two thirds of the
  // session timeout and must reconnect in the third left: 8 s leaves it time on a busy machine.
  std::vector<std::string> followers;
  for (int i = 0; i < ensemble().size(); ++i)
    if (ensemble().mode(i) == "follower") followers.push_back(ensemble().host_port(i));
  ASSERT_EQ(followers.size(), 2u) << ensemble().describe(0);
  TestClient c({.connect = followers[0] + "," + followers[1], .timeout = 8000ms});
  ASSERT_TRUE(c.connected());
  const int member = member_of(c->server());
  ASSERT_GE(member, 0);
  const std::string root = test_root(*c);
  TreeCache cache(*c, root, TreeCacheOptions{});
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  ASSERT_TRUE(cache.persistent_watch());
  RestoreEnsemble restore;
  // Stopped, not killed: the removal goes out and no answer comes, until the client gives
  // up on the silent server (ZCONNECTIONLOSS) and moves to another.
  ASSERT_TRUE(ensemble().pause(member));
  const size_t mark = c.state_count();
  auto closed = cache.close(use_future);
  ASSERT_TRUE(c.wait_state(ConnectionState::kReconnected, 20s, mark)) << describe(c.states());
  ASSERT_TRUE(await(std::move(closed)).ok());
  EXPECT_NE(member_of(c->server()), member);
  // Nothing of the cache's is left for the root: ZOK would mean this removed its watch.
  auto left = await(c->remove_watches(root, client::WatcherType::kAny, use_future));
  EXPECT_EQ(left.error(), ErrorCode::kNoWatcher) << text(left.error());
}

TEST_P(TreeCacheTest, SessionLostStopsTheCacheAndSaysSo) {
  TestClient c({.timeout = 2000ms}), w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string root = test_root(*c);
  ASSERT_TRUE(await(c->create(root + "/owner", "", {CreateMode::kEphemeral}, use_future)).ok());
  TreeEvents seen;
  TreeCache cache(*c, root, options());
  cache.on_event(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  c.freeze();  // silent: the ensemble expires the session (its ephemeral goes)
  ASSERT_TRUE(wait_until(
      30s,
      [&] {
        await(w->sync(root, use_future));
        return await(w->exists(root + "/owner", nullptr, use_future)).error() == ErrorCode::kNoNode;
      },
      100ms));
  c.thaw();
  ASSERT_TRUE(wait_until(20s, [&] {
    auto events = seen.events();
    return !events.empty() && events.back().kind == Kind::kLost;
  })) << ::testing::PrintToString(seen.lines());
  EXPECT_FALSE(cache.running());
  EXPECT_EQ(cache.get(root + "/owner").has_value(), true);  // the last known tree stays
}

}  // namespace
}  // namespace corral::recipes::test
