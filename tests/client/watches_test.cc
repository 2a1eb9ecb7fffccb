// Watches: one-shot data/exist/child watches fire exactly once; persistent and
// persistent-recursive watches fire for every change until removed; removeWatches tells each
// removed watcher; an event comes before the answer to a later read that sees its change.
//
// "Exactly once" is checked after settle(): the changer writes a marker after its changes and
// the watching client reads it back (with a callback, on the event strand), so every
// notification for the changes before it has already been delivered.
#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

/// Makes every notification `changer`'s earlier writes cause for `watcher` delivered.
void settle(Client& watcher, Client& changer, const std::string& marker) {
  static std::atomic<int> n{0};
  std::string value = "settle-" + std::to_string(++n);
  ASSERT_TRUE(await(changer.set(marker, value, -1, use_future)).ok());
  ASSERT_TRUE(read_until(watcher, marker, value)) << "the watching client never saw " << value;
}

/// The description of these events, to compare with describe(log.events()).
std::string events(std::initializer_list<std::pair<EventType, std::string>> list) {
  std::vector<WatchEvent> out;
  for (const auto& [type, path] : list) out.push_back({type, path});
  return describe(out);
}

class Watches : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(w.connected() && c.connected());
    root = test_root(*c);
    ASSERT_TRUE(await(c->create(root + "/n", "0", {}, use_future)).ok());
    n = root + "/n";
    // w may be on another server: it reads what c wrote only after a sync.
    ASSERT_TRUE(await(w->sync(root, use_future)).ok());
  }
  // Logs first: they outlive the clients that call them.
  EventLog log, log2;
  TestClient w, c;  // the watching client and the changing one
  std::string root, n;
};

TEST_F(Watches, DataWatchFiresOnce) {
  ASSERT_TRUE(await(w->get(n, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(c->set(n, "1", -1, use_future)).ok());
  ASSERT_TRUE(log.wait_count(1, 10s));
  ASSERT_TRUE(await(c->set(n, "2", -1, use_future)).ok());
  ASSERT_TRUE(await(c->remove(n, -1, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeDataChanged, n}}));
}

TEST_F(Watches, ExistWatchOnAMissingNodeFiresOnCreation) {
  std::string p = root + "/later";
  EXPECT_EQ(await(w->exists(p, log.watcher(), use_future)).error(), ErrorCode::kNoNode);
  ASSERT_TRUE(await(c->create(p, "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->set(p, "x", -1, use_future)).ok());
  ASSERT_TRUE(await(c->remove(p, -1, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeCreated, p}}));
}

TEST_F(Watches, ExistWatchOnAnExistingNodeFiresOnDeletion) {
  ASSERT_TRUE(await(w->exists(n, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(c->remove(n, -1, use_future)).ok());
  ASSERT_TRUE(await(c->create(n, "", {}, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeDeleted, n}}));
}

TEST_F(Watches, ChildWatchFiresOnceAndIgnoresData) {
  ASSERT_TRUE(await(w->children(n, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(c->set(n, "data", -1, use_future)).ok());  // not a child change
  ASSERT_TRUE(await(c->create(n + "/a", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->create(n + "/b", "", {}, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeChildrenChanged, n}}));
}

TEST_F(Watches, DeletionFiresDataAndChildWatches) {
  ASSERT_TRUE(await(w->get(n, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(w->children(n, log2.watcher(), use_future)).ok());
  ASSERT_TRUE(await(c->remove(n, -1, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeDeleted, n}}));
  EXPECT_EQ(describe(log2.events()), events({{EventType::kNodeDeleted, n}}));
}

TEST_F(Watches, TwoWatchersOnOnePathBothFire) {
  ASSERT_TRUE(await(w->get(n, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(w->exists(n, log2.watcher(), use_future)).ok());
  ASSERT_TRUE(await(c->set(n, "1", -1, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeDataChanged, n}}));
  EXPECT_EQ(describe(log2.events()), events({{EventType::kNodeDataChanged, n}}));
}

TEST_F(Watches, PersistentWatchFiresForEveryChangeUntilRemoved) {
  ASSERT_TRUE(await(w->add_watch(n, AddWatchMode::kPersistent, log.watcher(), use_future)).ok());
  for (const char* v : {"1", "2", "3"}) ASSERT_TRUE(await(c->set(n, v, -1, use_future)).ok());
  ASSERT_TRUE(await(c->create(n + "/kid", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->set(n + "/kid", "x", -1, use_future)).ok());  // a child's data: no event
  ASSERT_TRUE(await(c->remove(n + "/kid", -1, use_future)).ok());
  ASSERT_TRUE(await(c->remove(n, -1, use_future)).ok());
  ASSERT_TRUE(await(c->create(n, "", {}, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeDataChanged, n},
                                            {EventType::kNodeDataChanged, n},
                                            {EventType::kNodeDataChanged, n},
                                            {EventType::kNodeChildrenChanged, n},
                                            {EventType::kNodeChildrenChanged, n},
                                            {EventType::kNodeDeleted, n},
                                            {EventType::kNodeCreated, n}}));

  // Removed: the watcher hears of it (before the answer), then nothing more.
  size_t before = log.count();
  std::atomic<size_t> seen_at_answer{0};
  auto removed = std::make_shared<std::promise<Result<void>>>();
  w->remove_watches(n, WatcherType::kAny, [&, removed](Result<void> r) {
    seen_at_answer = log.count();
    removed->set_value(r);
  });
  auto r = await(removed->get_future());
  ASSERT_TRUE(r.ok()) << text(r.error());
  EXPECT_EQ(seen_at_answer.load(), before + 1);
  ASSERT_TRUE(await(c->set(n, "after", -1, use_future)).ok());
  settle(*w, *c, root);
  auto all = log.events();
  ASSERT_EQ(all.size(), before + 1) << describe(all);
  EXPECT_EQ(describe(all.back()), describe(WatchEvent{EventType::kPersistentWatchRemoved, n}));
}

TEST_F(Watches, RecursiveWatchSeesTheWholeSubtreeButNoChildEvents) {
  ASSERT_TRUE(
      await(w->add_watch(n, AddWatchMode::kPersistentRecursive, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(c->create(n + "/a", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->create(n + "/a/b", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->set(n + "/a/b", "x", -1, use_future)).ok());
  ASSERT_TRUE(await(c->remove(n + "/a/b", -1, use_future)).ok());
  ASSERT_TRUE(await(c->set(n, "y", -1, use_future)).ok());
  ASSERT_TRUE(await(c->set(root, "outside", -1, use_future)).ok());  // above: no event
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kNodeCreated, n + "/a"},
                                            {EventType::kNodeCreated, n + "/a/b"},
                                            {EventType::kNodeDataChanged, n + "/a/b"},
                                            {EventType::kNodeDeleted, n + "/a/b"},
                                            {EventType::kNodeDataChanged, n}}));

  ASSERT_TRUE(await(w->remove_watches(n, WatcherType::kAny, use_future)).ok());
  ASSERT_TRUE(await(c->create(n + "/c", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->set(n, "z", -1, use_future)).ok());
  settle(*w, *c, root);
  auto all = log.events();
  ASSERT_EQ(all.size(), 6u) << describe(all);
  EXPECT_EQ(describe(all.back()), describe(WatchEvent{EventType::kPersistentWatchRemoved, n}));
}

TEST_F(Watches, RemoveWatchesByType) {
  ASSERT_TRUE(await(w->get(n, log.watcher(), use_future)).ok());
  ASSERT_TRUE(await(w->children(n, log2.watcher(), use_future)).ok());
  ASSERT_TRUE(await(w->remove_watches(n, WatcherType::kData, use_future)).ok());
  ASSERT_TRUE(log.wait_count(1, 10s));
  ASSERT_TRUE(await(c->set(n, "1", -1, use_future)).ok());  // the data watch is gone
  settle(*w, *c, root);
  EXPECT_EQ(describe(log.events()), events({{EventType::kDataWatchRemoved, n}}));
  EXPECT_EQ(log2.count(), 0u);

  ASSERT_TRUE(await(w->remove_watches(n, WatcherType::kChildren, use_future)).ok());
  ASSERT_TRUE(await(c->create(n + "/kid", "", {}, use_future)).ok());
  settle(*w, *c, root);
  EXPECT_EQ(describe(log2.events()), events({{EventType::kChildWatchRemoved, n}}));

  // Nothing left to remove.
  auto none = await(w->remove_watches(n, WatcherType::kAny, use_future));
  EXPECT_EQ(none.error(), ErrorCode::kNoWatcher) << text(none.error());
  EXPECT_EQ(await(w->remove_watches(root + "/missing", WatcherType::kData, use_future)).error(),
            ErrorCode::kNoWatcher);
}

TEST_F(Watches, EventComesBeforeTheReadThatSeesTheChange) {
  // Another client's write: the watching client polls with reads (callbacks, on the event
  // strand); the first read that sees the new data must find the event already delivered.
  for (int round = 0; round < 20; ++round) {
    std::string value = "r" + std::to_string(round);
    size_t before = log.count();
    ASSERT_TRUE(await(w->get(n, log.watcher(), use_future)).ok());
    auto done = std::make_shared<std::promise<std::pair<std::string, size_t>>>();
    auto fut = done->get_future();
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [&, done, poll, value] {
      w->get(n, nullptr, [&, done, poll, value](Result<DataResult> r) {
        if (r.ok() && r->data == value) return done->set_value({r->data, log.count()});
        (*poll)();
      });
    };
    (*poll)();
    ASSERT_TRUE(await(c->set(n, value, -1, use_future)).ok());
    ASSERT_EQ(fut.wait_for(20s), std::future_status::ready);
    auto [data, events_then] = fut.get();
    EXPECT_EQ(events_then, before + 1)
        << "round " << round << ": read saw '" << data << "' before its watch event";
    *poll = nullptr;
  }
  // The client's own write: its event comes before the write's answer.
  size_t before = log.count();
  ASSERT_TRUE(await(w->get(n, log.watcher(), use_future)).ok());
  auto answered = std::make_shared<std::promise<size_t>>();
  w->set(n, "own", -1, [&, answered](Result<Stat>) { answered->set_value(log.count()); });
  auto f = answered->get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(f.get(), before + 1);
}

}  // namespace
}  // namespace corral::client::test
