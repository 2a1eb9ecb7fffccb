// The client's table of watches: which watchers one event from the server reaches, and that
// one-shot watches are spent while persistent ones stay.
#include "watch_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::client {
namespace {

/// A watcher that appends `name` to `calls` when it is called.
Watcher noting(std::vector<std::string>& calls, std::string name) {
  return [&calls, name](const WatchEvent&) { calls.push_back(name); };
}

/// Calls each watcher `table` gives for `type` on `path`; the names of those called, in order.
std::vector<std::string> fire(WatchTable& table, std::vector<std::string>& calls, EventType type,
                              const std::string& path) {
  calls.clear();
  for (auto& w : table.trigger(type, path)) w(WatchEvent{type, path});
  return calls;
}

using Names = std::vector<std::string>;

TEST(WatchTable, ADataWatchFiresOnceAndAPersistentOneEachTime) {
  std::vector<std::string> calls;
  WatchTable t;
  t.register_for_reply({WatchKind::kData, "/a", noting(calls, "data")}, ErrorCode::kOk);
  t.register_for_reply({WatchKind::kPersistent, "/a", noting(calls, "persistent")}, ErrorCode::kOk);
  EXPECT_EQ(fire(t, calls, EventType::kNodeDataChanged, "/a"), (Names{"data", "persistent"}));
  EXPECT_EQ(fire(t, calls, EventType::kNodeDataChanged, "/a"), (Names{"persistent"}));
}

TEST(WatchTable, ARecursiveWatchSeesDescendantsButNoChildEvents) {
  std::vector<std::string> calls;
  WatchTable t;
  t.register_for_reply({WatchKind::kPersistentRecursive, "/a", noting(calls, "a")}, ErrorCode::kOk);
  t.register_for_reply({WatchKind::kPersistentRecursive, "/", noting(calls, "root")},
                       ErrorCode::kOk);
  EXPECT_EQ(fire(t, calls, EventType::kNodeCreated, "/a/b/c"), (Names{"a", "root"}));
  EXPECT_EQ(fire(t, calls, EventType::kNodeDeleted, "/ab"), (Names{"root"}));
  EXPECT_EQ(fire(t, calls, EventType::kNodeChildrenChanged, "/a"), Names{});
}

TEST(WatchTable, AnEventPathThatIsNotAbsoluteReachesNoRecursiveWatch) {
  // A server's malformed path: walking its parents must end (it once never did).
  std::vector<std::string> calls;
  WatchTable t;
  t.register_for_reply({WatchKind::kPersistentRecursive, "/", noting(calls, "root")},
                       ErrorCode::kOk);
  EXPECT_EQ(fire(t, calls, EventType::kNodeDataChanged, "x"), Names{});
  EXPECT_EQ(fire(t, calls, EventType::kNodeDataChanged, ""), Names{});
  EXPECT_EQ(fire(t, calls, EventType::kNodeDataChanged, "/x"), (Names{"root"}));
}

TEST(WatchTable, AnExistsWatchOnAMissingNodeWaitsForItsCreation) {
  std::vector<std::string> calls;
  WatchTable t;
  t.register_for_reply({WatchKind::kExists, "/n", noting(calls, "exists")}, ErrorCode::kNoNode);
  t.register_for_reply({WatchKind::kData, "/n", noting(calls, "data")}, ErrorCode::kNoNode);
  EXPECT_EQ(fire(t, calls, EventType::kNodeCreated, "/n"), (Names{"exists"}));
}

}  // namespace
}  // namespace corral::client
