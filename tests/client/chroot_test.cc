// Chroot connect strings ("hosts/app"): the client sees paths relative to /app — in answers,
// watch events, multi results and getEphemerals — while the server keeps them under /app.
#include <algorithm>

#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

TEST(Chroot, PathsAreRelativeToTheChroot) {
  EventLog data, recursive;
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  std::string app = test_root(*admin);
  TestClient c({.connect = all_hosts() + app});
  ASSERT_TRUE(c.connected());

  auto x = await(c->create("/x", "1", {}, use_future));
  ASSERT_TRUE(x.ok()) << text(x.error());
  EXPECT_EQ(x->path, "/x");
  // Another session (perhaps on another server) reads after a sync.
  ASSERT_TRUE(await(admin->sync(app, use_future)).ok());
  auto seen = await(admin->get(app + "/x", nullptr, use_future));
  ASSERT_TRUE(seen.ok()) << "not created under the chroot: " << text(seen.error());
  EXPECT_EQ(seen->data, "1");
  EXPECT_EQ(seen->stat, x->stat);

  auto seq = await(c->create("/s-", "", {CreateMode::kEphemeralSequential}, use_future));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq->path, "/s-0000000001");
  ASSERT_TRUE(await(admin->sync(app, use_future)).ok());
  EXPECT_TRUE(await(admin->exists(app + "/s-0000000001", nullptr, use_future)).ok());

  // "/" is the chroot itself.
  auto top = await(c->children("/", nullptr, use_future));
  ASSERT_TRUE(top.ok()) << text(top.error());
  std::sort(top->children.begin(), top->children.end());
  EXPECT_EQ(top->children, (std::vector<std::string>{"s-0000000001", "x"}));
  auto app_stat = await(admin->exists(app, nullptr, use_future));
  ASSERT_TRUE(app_stat.ok());
  EXPECT_EQ(top->stat, *app_stat);
  EXPECT_EQ(*await(c->descendant_count("/", use_future)), 2);
  EXPECT_TRUE(await(c->sync("/", use_future)).ok());

  auto eph = await(c->ephemerals("/", use_future));
  ASSERT_TRUE(eph.ok()) << text(eph.error());
  EXPECT_EQ(*eph, std::vector<std::string>{"/s-0000000001"});

  auto m = await(c->multi(
      Multi().create("/m-", "", CreateMode::kPersistentSequential).set("/x", "2"), use_future));
  ASSERT_TRUE(m.ok()) << text(m.error());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].path, "/m-0000000002");

  EXPECT_TRUE(await(c->set_acl("/x", open_acl_unsafe(), 0, use_future)).ok());
  auto acl = await(c->get_acl("/x", use_future));
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->stat.aversion, 1);

  // Watch events name paths as the client does.
  ASSERT_TRUE(await(c->get("/x", data.watcher(), use_future)).ok());
  ASSERT_TRUE(
      await(c->add_watch("/", AddWatchMode::kPersistentRecursive, recursive.watcher(), use_future))
          .ok());
  ASSERT_TRUE(await(admin->set(app + "/x", "3", -1, use_future)).ok());
  ASSERT_TRUE(await(admin->create(app + "/y", "", {}, use_future)).ok());
  ASSERT_TRUE(await(admin->set(app, "root", -1, use_future)).ok());
  ASSERT_TRUE(recursive.wait_count(3, 10s)) << describe(recursive.events());
  EXPECT_EQ(describe(data.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeDataChanged, "/x"}}));
  EXPECT_EQ(describe(recursive.events()),
            describe(std::vector<WatchEvent>{WatchEvent{EventType::kNodeDataChanged, "/x"},
                                             WatchEvent{EventType::kNodeCreated, "/y"},
                                             WatchEvent{EventType::kNodeDataChanged, "/"}}));
  EXPECT_TRUE(await(c->remove_watches("/", WatcherType::kAny, use_future)).ok());
  ASSERT_TRUE(recursive.wait_count(4, 10s));
  EXPECT_EQ(describe(recursive.events().back()),
            describe(WatchEvent{EventType::kPersistentWatchRemoved, "/"}));

  EXPECT_TRUE(await(c->remove("/x", -1, use_future)).ok());
  ASSERT_TRUE(await(admin->sync(app, use_future)).ok());
  EXPECT_EQ(await(admin->exists(app + "/x", nullptr, use_future)).error(), ErrorCode::kNoNode);
}

TEST(Chroot, MissingChrootNode) {
  // Connecting works; operations under a chroot that does not exist find no node.
  TestClient admin;
  ASSERT_TRUE(admin.connected());
  std::string app = test_root(*admin) + "/not-there";
  TestClient c({.connect = all_hosts() + app});
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(await(c->create("/x", "", {}, use_future)).error(), ErrorCode::kNoNode);
  EXPECT_EQ(await(c->get("/", nullptr, use_future)).error(), ErrorCode::kNoNode);
  // Once made, it is there.
  ASSERT_TRUE(await(admin->create(app, "", {}, use_future)).ok());
  auto x = await(c->create("/x", "", {}, use_future));
  ASSERT_TRUE(x.ok()) << text(x.error());
  EXPECT_EQ(x->path, "/x");
}

}  // namespace
}  // namespace corral::client::test
