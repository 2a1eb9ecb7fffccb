// NodeCache: the first read, created/updated/deleted in order, a burst of 200 sets seen as
// increasing versions ending at the last, a delete and re-create between two reads, the
// cache's server killed with kill -9 while the node changes, close() stopping the events,
// and the session lost. Events are looked at once the listener has heard them (settles()),
// not only once the cache shows the change.
#include "corral/recipes/node_cache.h"

#include <asio/use_future.hpp>

#include "tests/recipes/recipes_env.h"

namespace corral::recipes::test {
namespace {

/// Restores the ensemble when a test that kills a member ends, even by a failed assertion.
struct RestoreEnsemble {
  ~RestoreEnsemble() { restore_ensemble(); }
};

using asio::use_future;

/// Every event a NodeCache reported, thread-safe.
/// Declared before the cache in each test, so it outlives the cache's calls to the listener
/// (which end when the cache is closed or destroyed), also when a test ends early.
class NodeEvents : public EventRecorder<NodeCacheEvent> {
 public:
  /// "created v0 'a', updated v1 'b', deleted" for messages.
  std::string text() const {
    std::string out;
    for (const auto& e : events()) {
      out += std::string(node_cache_event_name(e.kind));
      if (e.node) out += " v" + std::to_string(e.node->stat.version) + " '" + e.node->data + "'";
      out += ", ";
    }
    return out;
  }
};

/// True when `node` is `data` (nullopt: no node).
bool is(const std::optional<NodeData>& node, const std::optional<std::string>& data) {
  return data ? node && node->data == *data : !node;
}

/// True once the cache holds `data` (or, with nullopt, no node).
bool shows(const NodeCache& cache, std::optional<std::string> data, Clock::duration t = 20s) {
  return wait_until(t, [&] { return is(cache.current(), data); });
}

/// True once the cache holds `data` (nullopt: no node) and its listener has heard of it.
/// The cache stores a read before it calls the listener, so current() alone may run ahead
/// of the events: a test that counts events after shows() races with that call.
bool settles(const NodeCache& cache, const NodeEvents& seen, std::optional<std::string> data,
             Clock::duration t = 20s) {
  return wait_until(t, [&] {
    auto events = seen.events();
    return is(cache.current(), data) && !events.empty() && is(events.back().node, data);
  });
}

TEST(NodeCache, FollowsCreateUpdateDeleteInOrder) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string path = test_root(*c) + "/node";
  NodeEvents seen;
  NodeCache cache(*c, path);
  cache.on_change(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  EXPECT_FALSE(cache.current().has_value());  // absent at the first read
  EXPECT_EQ(seen.count(), 0u);

  auto created = await(w->create(path, "one", {}, use_future));
  ASSERT_TRUE(created.ok()) << text(created.error());
  ASSERT_TRUE(settles(cache, seen, "one")) << seen.text();
  EXPECT_EQ(cache.current()->stat, created->stat);
  ASSERT_TRUE(await(w->set(path, "two", -1, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, "two")) << seen.text();
  EXPECT_EQ(cache.current()->stat.version, 1);
  ASSERT_TRUE(await(w->remove(path, -1, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, std::nullopt)) << seen.text();
  ASSERT_TRUE(await(w->create(path, "three", {}, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, "three")) << seen.text();

  auto events = seen.events();
  ASSERT_EQ(events.size(), 4u) << seen.text();
  EXPECT_EQ(events[0].kind, NodeCacheEventKind::kCreated);
  EXPECT_EQ(events[0].node->data, "one");
  EXPECT_EQ(events[1].kind, NodeCacheEventKind::kUpdated);
  EXPECT_EQ(events[1].node->data, "two");
  EXPECT_EQ(events[2].kind, NodeCacheEventKind::kDeleted);
  EXPECT_FALSE(events[2].node.has_value());
  EXPECT_EQ(events[3].kind, NodeCacheEventKind::kCreated);
  EXPECT_EQ(events[3].node->data, "three");
  EXPECT_EQ(events[3].node->stat.version, 0);
}

TEST(NodeCache, BurstOfSetsEndsAtTheLastInIncreasingVersions) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string path = test_root(*c) + "/node";
  ASSERT_TRUE(await(w->create(path, "start", {}, use_future)).ok());
  NodeEvents seen;
  NodeCache cache(*c, path);
  cache.on_change(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  ASSERT_TRUE(cache.current().has_value());
  EXPECT_EQ(cache.current()->data, "start");

  constexpr int kSets = 200;
  std::vector<std::future<Result<client::Stat>>> sets;
  for (int i = 1; i <= kSets; ++i)
    sets.push_back(w->set(path, "v" + std::to_string(i), -1, use_future));
  for (auto& s : sets) ASSERT_TRUE(await(std::move(s)).ok());
  ASSERT_TRUE(settles(cache, seen, "v" + std::to_string(kSets))) << seen.text();
  EXPECT_EQ(cache.current()->stat.version, kSets);

  auto events = seen.events();
  ASSERT_FALSE(events.empty());
  EXPECT_LE(events.size(), static_cast<size_t>(kSets));
  int last = 0;
  for (const auto& e : events) {
    ASSERT_EQ(e.kind, NodeCacheEventKind::kUpdated) << seen.text();
    ASSERT_GT(e.node->stat.version, last) << seen.text();
    // The data read with a version is the data that version wrote.
    EXPECT_EQ(e.node->data, "v" + std::to_string(e.node->stat.version));
    last = e.node->stat.version;
  }
  EXPECT_EQ(last, kSets);
}

TEST(NodeCache, DeleteAndCreateBetweenReadsIsReportedAsBoth) {
  TestClient c, w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string path = test_root(*c) + "/node";
  ASSERT_TRUE(await(w->create(path, "old", {}, use_future)).ok());
  NodeEvents seen;
  NodeCache cache(*c, path);
  cache.on_change(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  // One multi: no read can fall between the delete and the create.
  client::Multi ops;
  ops.remove(path, -1);
  ops.create(path, "new");
  auto done = await(w->multi(std::move(ops), use_future));
  ASSERT_TRUE(done.ok()) << text(done.error());
  ASSERT_TRUE(settles(cache, seen, "new")) << seen.text();
  auto events = seen.events();
  ASSERT_EQ(events.size(), 2u) << seen.text();
  EXPECT_EQ(events[0].kind, NodeCacheEventKind::kDeleted);
  EXPECT_EQ(events[1].kind, NodeCacheEventKind::kCreated);
  EXPECT_EQ(events[1].node->data, "new");
}

TEST(NodeCache, ChangesWhileItsServerIsKilledShowUp) {
  TestClient c({.timeout = 10000ms});
  ASSERT_TRUE(c.connected());
  const std::string path = test_root(*c) + "/node";
  ASSERT_TRUE(await(c->create(path, "before", {}, use_future)).ok());
  NodeEvents seen;
  NodeCache cache(*c, path);
  cache.on_change(seen.listener());
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
  auto set_during = set_with_retry(*w, path, "during");
  ASSERT_TRUE(set_during.ok()) << text(set_during.error()) << "\n" << ensemble().describe();
  c.thaw();
  ASSERT_TRUE(settles(cache, seen, "during", 40s)) << seen.text();
  auto set_after = set_with_retry(*w, path, "after");
  ASSERT_TRUE(set_after.ok()) << text(set_after.error()) << "\n" << ensemble().describe();
  ASSERT_TRUE(settles(cache, seen, "after")) << seen.text();
  EXPECT_TRUE(cache.running());
  EXPECT_NE(member_of(c->server()), member);  // it did move to another server
  auto events = seen.events();
  ASSERT_EQ(events.size(), 2u) << seen.text();
  EXPECT_EQ(events[0].node->data, "during");
  EXPECT_EQ(events[1].node->data, "after");
}

TEST(NodeCache, CloseStopsTheEvents) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  const std::string path = test_root(*c) + "/node";
  ASSERT_TRUE(await(c->create(path, "a", {}, use_future)).ok());
  NodeEvents seen;
  NodeCache cache(*c, path), witness(*c, path);
  cache.on_change(seen.listener());
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  ASSERT_TRUE(await(witness.start(use_future)).ok());
  ASSERT_TRUE(await(c->set(path, "b", -1, use_future)).ok());
  ASSERT_TRUE(settles(cache, seen, "b")) << seen.text();
  cache.close();
  EXPECT_FALSE(cache.running());
  ASSERT_TRUE(await(c->set(path, "c", -1, use_future)).ok());
  ASSERT_TRUE(await(c->remove(path, -1, use_future)).ok());
  // The witness on the same client saw both changes: the closed cache was told of them too.
  ASSERT_TRUE(shows(witness, std::nullopt));
  EXPECT_EQ(seen.count(), 1u) << seen.text();
  ASSERT_TRUE(cache.current().has_value());
  EXPECT_EQ(cache.current()->data, "b");  // frozen at close
}

TEST(NodeCache, SessionLostStopsTheCache) {
  TestClient c({.timeout = 2000ms}), w;
  ASSERT_TRUE(c.connected() && w.connected());
  const std::string path = test_root(*c) + "/node";
  ASSERT_TRUE(await(c->create(path, "x", {}, use_future)).ok());
  ASSERT_TRUE(await(c->create(path + "-owner", "", {CreateMode::kEphemeral}, use_future)).ok());
  NodeCache cache(*c, path);
  ASSERT_TRUE(await(cache.start(use_future)).ok());
  c.freeze();  // silent: the ensemble expires the session (its ephemeral goes)
  ASSERT_TRUE(wait_until(
      30s,
      [&] {
        await(w->sync(path, use_future));
        return await(w->exists(path + "-owner", nullptr, use_future)).error() == ErrorCode::kNoNode;
      },
      100ms));
  c.thaw();
  ASSERT_TRUE(wait_until(20s, [&] { return !cache.running(); }));
  NodeCache late(*c, path);
  EXPECT_EQ(await(late.start(use_future)).error(), ErrorCode::kSessionExpired);
}

}  // namespace
}  // namespace corral::recipes::test
