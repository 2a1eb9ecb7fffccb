// WatchManager: one-shot data/exist/child watches, persistent and
// persistent-recursive watches, deduplication, removal and counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "ensemble/watch/watch_manager.h"

namespace corral::watch {
namespace {

using wire::EventType;
using wire::WatcherType;

// Deliveries as sorted (watcher, type, path) tuples, for order-free comparison.
using Seen = std::vector<std::tuple<WatcherId, EventType, std::string>>;

Seen seen(const std::vector<Delivery>& ds) {
  Seen out;
  for (const auto& d : ds) out.emplace_back(d.watcher, d.type, d.path);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(WatchManager, DataWatchFiresOnce) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  EXPECT_EQ(seen(m.trigger("/a", EventType::kNodeDataChanged)),
            (Seen{{1, EventType::kNodeDataChanged, "/a"}}));
  EXPECT_TRUE(m.trigger("/a", EventType::kNodeDataChanged).empty());
  EXPECT_EQ(m.watch_count(), 0u);
  EXPECT_EQ(m.path_count(), 0u);
}

TEST(WatchManager, DataWatchIgnoresOtherPathsAndChildEvents) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  EXPECT_TRUE(m.trigger("/b", EventType::kNodeDataChanged).empty());
  EXPECT_TRUE(m.trigger("/a/x", EventType::kNodeDataChanged).empty());
  EXPECT_TRUE(m.trigger("/a", EventType::kNodeChildrenChanged).empty());
  EXPECT_TRUE(m.contains("/a", 1, WatcherType::kData));
  EXPECT_EQ(seen(m.trigger("/a", EventType::kNodeDeleted)),
            (Seen{{1, EventType::kNodeDeleted, "/a"}}));
}

TEST(WatchManager, DuplicateWatchesFireOnce) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  m.add_data_watch("/a", 1);  // getData and exists with watch on the same path
  EXPECT_EQ(m.watch_count(), 1u);
  EXPECT_EQ(m.trigger("/a", EventType::kNodeDataChanged).size(), 1u);
}

TEST(WatchManager, ExistWatchOnMissingNodeFiresNodeCreated) {
  WatchManager m;
  m.add_data_watch("/new", 7);
  EXPECT_EQ(seen(m.trigger("/new", EventType::kNodeCreated)),
            (Seen{{7, EventType::kNodeCreated, "/new"}}));
  EXPECT_FALSE(m.contains("/new", 7, WatcherType::kAny));
}

TEST(WatchManager, ChildWatchFiresForParent) {
  WatchManager m;
  m.add_child_watch("/p", 1);
  // Data changes and creation of the node itself are not child events.
  EXPECT_TRUE(m.trigger("/p", EventType::kNodeDataChanged).empty());
  EXPECT_TRUE(m.trigger("/p", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.trigger("/p/c", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.contains("/p", 1, WatcherType::kChildren));
  EXPECT_EQ(seen(m.trigger("/p", EventType::kNodeChildrenChanged)),
            (Seen{{1, EventType::kNodeChildrenChanged, "/p"}}));
  EXPECT_TRUE(m.trigger("/p", EventType::kNodeChildrenChanged).empty());
}

TEST(WatchManager, NodeDeletedReachesDataAndChildWatchersOnce) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  m.add_child_watch("/a", 1);
  m.add_data_watch("/a", 2);
  m.add_child_watch("/a", 3);
  EXPECT_EQ(m.watch_count(), 4u);
  EXPECT_EQ(seen(m.trigger("/a", EventType::kNodeDeleted)),
            (Seen{{1, EventType::kNodeDeleted, "/a"},
                  {2, EventType::kNodeDeleted, "/a"},
                  {3, EventType::kNodeDeleted, "/a"}}));
  EXPECT_EQ(m.watch_count(), 0u);  // every one-shot watch on /a is used up
  EXPECT_TRUE(m.trigger("/a", EventType::kNodeDeleted).empty());
}

TEST(WatchManager, ManyWatchersEachGetTheEvent) {
  WatchManager m;
  for (WatcherId w = 1; w <= 50; ++w) m.add_data_watch("/hot", w);
  EXPECT_EQ(m.trigger("/hot", EventType::kNodeDataChanged).size(), 50u);
  EXPECT_EQ(m.watch_count(), 0u);
}

TEST(WatchManager, PersistentWatchFiresRepeatedly) {
  WatchManager m;
  m.add_persistent("/p", 1, false);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(seen(m.trigger("/p", EventType::kNodeDataChanged)),
              (Seen{{1, EventType::kNodeDataChanged, "/p"}}));
  EXPECT_EQ(seen(m.trigger("/p", EventType::kNodeChildrenChanged)),
            (Seen{{1, EventType::kNodeChildrenChanged, "/p"}}));
  EXPECT_EQ(seen(m.trigger("/p", EventType::kNodeChildrenChanged)),
            (Seen{{1, EventType::kNodeChildrenChanged, "/p"}}));
  // Deletion and re-creation are reported, once each, and the watch survives them.
  EXPECT_EQ(seen(m.trigger("/p", EventType::kNodeDeleted)),
            (Seen{{1, EventType::kNodeDeleted, "/p"}}));
  EXPECT_EQ(seen(m.trigger("/p", EventType::kNodeCreated)),
            (Seen{{1, EventType::kNodeCreated, "/p"}}));
  // Not recursive: nothing below /p.
  EXPECT_TRUE(m.trigger("/p/c", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.trigger("/p/c", EventType::kNodeDataChanged).empty());
  EXPECT_TRUE(m.contains("/p", 1, WatcherType::kAny));
}

TEST(WatchManager, PersistentRecursiveFiresForDescendants) {
  WatchManager m;
  m.add_persistent("/r", 1, true);
  for (auto type : {EventType::kNodeCreated, EventType::kNodeDataChanged, EventType::kNodeDeleted})
    for (const char* path : {"/r", "/r/a", "/r/a/b/c"})
      EXPECT_EQ(seen(m.trigger(path, type)), (Seen{{1, type, path}})) << path;
  // Child events are not delivered to recursive watches (on the node or below).
  EXPECT_TRUE(m.trigger("/r", EventType::kNodeChildrenChanged).empty());
  EXPECT_TRUE(m.trigger("/r/a", EventType::kNodeChildrenChanged).empty());
  // Outside the subtree, including names that merely start with "/r".
  EXPECT_TRUE(m.trigger("/", EventType::kNodeDataChanged).empty());
  EXPECT_TRUE(m.trigger("/rx", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.trigger("/other/r", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.contains("/r", 1, WatcherType::kAny));
}

TEST(WatchManager, RecursiveOnRootSeesEverything) {
  WatchManager m;
  m.add_persistent("/", 4, true);
  EXPECT_EQ(seen(m.trigger("/a/b", EventType::kNodeCreated)),
            (Seen{{4, EventType::kNodeCreated, "/a/b"}}));
  EXPECT_EQ(seen(m.trigger("/", EventType::kNodeDataChanged)),
            (Seen{{4, EventType::kNodeDataChanged, "/"}}));
  EXPECT_TRUE(m.trigger("/", EventType::kNodeChildrenChanged).empty());
}

TEST(WatchManager, OneEventPerWatcherPerChange) {
  WatchManager m;
  m.add_persistent("/", 1, true);
  m.add_persistent("/r", 1, true);
  m.add_data_watch("/r/a", 1);
  m.add_child_watch("/r/a", 1);
  m.add_persistent("/r/a", 2, false);
  m.add_persistent("/r", 3, true);
  m.add_data_watch("/r/a", 3);
  EXPECT_EQ(seen(m.trigger("/r/a", EventType::kNodeDeleted)),
            (Seen{{1, EventType::kNodeDeleted, "/r/a"},
                  {2, EventType::kNodeDeleted, "/r/a"},
                  {3, EventType::kNodeDeleted, "/r/a"}}));
  // The one-shot watches went with the event; the persistent ones stay.
  EXPECT_FALSE(m.contains("/r/a", 3, WatcherType::kData));
  EXPECT_FALSE(m.contains("/r/a", 1, WatcherType::kAny));
  EXPECT_TRUE(m.contains("/r/a", 2, WatcherType::kAny));
  EXPECT_EQ(seen(m.trigger("/r/a", EventType::kNodeCreated)),
            (Seen{{1, EventType::kNodeCreated, "/r/a"},
                  {2, EventType::kNodeCreated, "/r/a"},
                  {3, EventType::kNodeCreated, "/r/a"}}));
}

TEST(WatchManager, OneShotWatchBelowRecursiveIsConsumed) {
  WatchManager m;
  m.add_persistent("/r", 1, true);
  m.add_data_watch("/r/a", 1);
  EXPECT_EQ(m.trigger("/r/a", EventType::kNodeDataChanged).size(), 1u);
  EXPECT_FALSE(m.contains("/r/a", 1, WatcherType::kData));
  EXPECT_EQ(m.trigger("/r/a", EventType::kNodeDataChanged).size(), 1u);  // the recursive one
}

TEST(WatchManager, PersistentReplacesOneShot) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  m.add_persistent("/a", 1, false);
  EXPECT_EQ(m.trigger("/a", EventType::kNodeDataChanged).size(), 1u);
  EXPECT_EQ(m.trigger("/a", EventType::kNodeDataChanged).size(), 1u);
  // Turning it recursive, then back, keeps the recursive bookkeeping right.
  m.add_persistent("/a", 1, true);
  EXPECT_EQ(m.trigger("/a/b", EventType::kNodeCreated).size(), 1u);
  m.add_persistent("/a", 1, false);
  EXPECT_TRUE(m.trigger("/a/b", EventType::kNodeCreated).empty());
  // A later one-shot add does not downgrade the persistent watch.
  m.add_data_watch("/a", 1);
  EXPECT_EQ(m.trigger("/a", EventType::kNodeDataChanged).size(), 1u);
  EXPECT_EQ(m.trigger("/a", EventType::kNodeDataChanged).size(), 1u);
}

TEST(WatchManager, ContainsAndRemoveByType) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  m.add_child_watch("/a", 1);
  m.add_data_watch("/a", 2);
  EXPECT_TRUE(m.contains("/a", 1, WatcherType::kData));
  EXPECT_TRUE(m.contains("/a", 1, WatcherType::kChildren));
  EXPECT_TRUE(m.contains("/a", 1, WatcherType::kAny));
  EXPECT_FALSE(m.contains("/a", 2, WatcherType::kChildren));
  EXPECT_FALSE(m.contains("/a", 3, WatcherType::kAny));
  EXPECT_FALSE(m.contains("/b", 1, WatcherType::kAny));

  EXPECT_TRUE(m.remove("/a", 1, WatcherType::kData));
  EXPECT_FALSE(m.contains("/a", 1, WatcherType::kData));
  EXPECT_TRUE(m.contains("/a", 1, WatcherType::kChildren));
  EXPECT_FALSE(m.remove("/a", 1, WatcherType::kData));
  EXPECT_FALSE(m.remove("/a", 2, WatcherType::kChildren));
  EXPECT_TRUE(m.remove("/a", 1, WatcherType::kAny));
  EXPECT_FALSE(m.contains("/a", 1, WatcherType::kAny));
  EXPECT_FALSE(m.remove("/a", 1, WatcherType::kAny));
  EXPECT_FALSE(m.remove("/nowhere", 1, WatcherType::kAny));
  // Watcher 2's watch is untouched.
  EXPECT_EQ(seen(m.trigger("/a", EventType::kNodeDataChanged)),
            (Seen{{2, EventType::kNodeDataChanged, "/a"}}));
}

TEST(WatchManager, RemovingRecursiveWatchStopsDescendantEvents) {
  WatchManager m;
  m.add_persistent("/r", 1, true);
  m.add_persistent("/r", 2, true);
  EXPECT_TRUE(m.remove("/r", 1, WatcherType::kAny));
  EXPECT_EQ(seen(m.trigger("/r/x", EventType::kNodeCreated)),
            (Seen{{2, EventType::kNodeCreated, "/r/x"}}));
  EXPECT_TRUE(m.remove("/r", 2, WatcherType::kData));
  EXPECT_TRUE(m.trigger("/r/x", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.contains("/r", 2, WatcherType::kChildren));
  EXPECT_TRUE(m.remove("/r", 2, WatcherType::kChildren));
  EXPECT_EQ(m.watch_count(), 0u);
}

TEST(WatchManager, RemoveWatcherDropsEverything) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  m.add_child_watch("/b", 1);
  m.add_persistent("/c", 1, false);
  m.add_persistent("/d", 1, true);
  m.add_data_watch("/a", 2);
  m.add_persistent("/d", 2, false);
  m.remove_watcher(1);
  EXPECT_EQ(m.watch_count(), 3u);  // 2's data watch on /a, persistent /d in both tables
  for (const char* p : {"/a", "/b", "/c", "/d"}) EXPECT_FALSE(m.contains(p, 1, WatcherType::kAny));
  EXPECT_TRUE(m.trigger("/d/x", EventType::kNodeCreated).empty());
  EXPECT_TRUE(m.trigger("/b", EventType::kNodeChildrenChanged).empty());
  EXPECT_EQ(seen(m.trigger("/a", EventType::kNodeDataChanged)),
            (Seen{{2, EventType::kNodeDataChanged, "/a"}}));
  m.remove_watcher(2);
  m.remove_watcher(99);  // unknown: harmless
  EXPECT_EQ(m.watch_count(), 0u);
  EXPECT_EQ(m.path_count(), 0u);
  EXPECT_TRUE(m.by_watcher().empty());
}

TEST(WatchManager, Counts) {
  WatchManager m;
  m.add_data_watch("/a", 1);
  m.add_child_watch("/a", 1);
  m.add_data_watch("/b", 1);
  m.add_child_watch("/b", 2);
  m.add_persistent("/c", 3, true);
  EXPECT_EQ(m.watch_count(), 6u);  // persistent watches sit in both tables
  EXPECT_EQ(m.path_count(), 3u);
  auto by = m.by_watcher();
  EXPECT_EQ(by.size(), 3u);
  EXPECT_EQ(by[1], (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(by[2], (std::vector<std::string>{"/b"}));
  EXPECT_EQ(by[3], (std::vector<std::string>{"/c"}));
}

}  // namespace
}  // namespace corral::watch
