// Single operations: create in every mode (sequential naming, ephemeral, container, TTL) with
// create2's Stat, get/set with versions, delete, exists, children with Stat, descendant_count,
// and the errors each reports.
#include <algorithm>

#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

CreateOptions mode(CreateMode m, int64_t ttl_ms = -1) { return {m, open_acl_unsafe(), ttl_ms}; }

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Operations, PersistentCreateReturnsPathAndStat) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto r = await(c->create(root + "/node", "hello", {}, use_future));
  ASSERT_TRUE(r.ok()) << text(r.error());
  EXPECT_EQ(r->path, root + "/node");
  const Stat& s = r->stat;
  EXPECT_GT(s.czxid, 0);
  EXPECT_EQ(s.mzxid, s.czxid);
  EXPECT_EQ(s.pzxid, s.czxid);
  EXPECT_EQ(s.ctime, s.mtime);
  EXPECT_GT(s.ctime, 1'600'000'000'000);  // milliseconds since the epoch
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.cversion, 0);
  EXPECT_EQ(s.aversion, 0);
  EXPECT_EQ(s.ephemeral_owner, 0);
  EXPECT_EQ(s.data_length, 5);
  EXPECT_EQ(s.num_children, 0);

  // exists and get report the very Stat create2 returned.
  auto e = await(c->exists(root + "/node", nullptr, use_future));
  ASSERT_TRUE(e.ok()) << text(e.error());
  EXPECT_EQ(*e, s);
  auto g = await(c->get(root + "/node", nullptr, use_future));
  ASSERT_TRUE(g.ok()) << text(g.error());
  EXPECT_EQ(g->data, "hello");
  EXPECT_EQ(g->stat, s);

  // The parent counts the child.
  auto p = await(c->exists(root, nullptr, use_future));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->num_children, 1);
  EXPECT_EQ(p->cversion, 1);
  EXPECT_EQ(p->pzxid, s.czxid);
}

TEST(Operations, SequentialNamesFollowTheParentsChildVersion) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto a = await(c->create(root + "/s-", "", mode(CreateMode::kPersistentSequential), use_future));
  auto b = await(c->create(root + "/s-", "", mode(CreateMode::kEphemeralSequential), use_future));
  ASSERT_TRUE(a.ok() && b.ok()) << text(a.error()) << " " << text(b.error());
  EXPECT_EQ(a->path, root + "/s-0000000000");
  EXPECT_EQ(b->path, root + "/s-0000000001");
  EXPECT_EQ(b->stat.ephemeral_owner, c->session_id());
  // A plain child bumps the counter (the parent's cversion) too.
  ASSERT_TRUE(await(c->create(root + "/plain", "", {}, use_future)).ok());
  auto d = await(c->create(root + "/", "", mode(CreateMode::kPersistentSequential), use_future));
  ASSERT_TRUE(d.ok()) << text(d.error());
  EXPECT_EQ(d->path, root + "/0000000003");
  auto kids = await(c->children(root, nullptr, use_future));
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(sorted(kids->children),
            (std::vector<std::string>{"0000000003", "plain", "s-0000000000", "s-0000000001"}));
}

TEST(Operations, EphemeralBelongsToTheSessionAndHasNoChildren) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto r = await(c->create(root + "/eph", "x", mode(CreateMode::kEphemeral), use_future));
  ASSERT_TRUE(r.ok()) << text(r.error());
  EXPECT_EQ(r->stat.ephemeral_owner, c->session_id());
  auto child = await(c->create(root + "/eph/child", "", {}, use_future));
  EXPECT_EQ(child.error(), ErrorCode::kNoChildrenForEphemerals) << text(child.error());
}

TEST(Operations, ContainerGoesAfterItsLastChild) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto r = await(c->create(root + "/box", "", mode(CreateMode::kContainer), use_future));
  ASSERT_TRUE(r.ok()) << text(r.error());
  EXPECT_EQ(r->path, root + "/box");
  // Clients see ephemeralOwner 0 for containers and TTL nodes (ZooKeeper's DataNode.copyStat
  // hides the markers it keeps there).
  EXPECT_EQ(r->stat.ephemeral_owner, 0);
  EXPECT_EQ(*await(c->exists(root + "/box", nullptr, use_future)), r->stat);
  // A container that never had a child stays.
  ASSERT_TRUE(await(c->create(root + "/empty-box", "", mode(CreateMode::kContainer), use_future)));
  ASSERT_TRUE(await(c->create(root + "/box/item", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->remove(root + "/box/item", -1, use_future)).ok());
  auto started = Clock::now();
  bool gone = wait_until(
      20s,
      [&] {
        return await(c->exists(root + "/box", nullptr, use_future)).error() == ErrorCode::kNoNode;
      },
      50ms);
  EXPECT_TRUE(gone) << "the emptied container is still there";
  std::printf("emptied container reaped after %.0f ms\n", ms_since(started));
  EXPECT_TRUE(await(c->exists(root + "/empty-box", nullptr, use_future)).ok());
}

TEST(Operations, TtlNodeCarriesItsTtlAndExpires) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  auto r =
      await(c->create(root + "/ttl", "t", mode(CreateMode::kPersistentWithTtl, 1000), use_future));
  ASSERT_TRUE(r.ok()) << text(r.error()) << " (is extendedTypesEnabled set?)";
  EXPECT_EQ(r->stat.ephemeral_owner, 0);
  EXPECT_EQ(*await(c->exists(root + "/ttl", nullptr, use_future)), r->stat);
  auto seq = await(c->create(root + "/ttl-", "",
                             mode(CreateMode::kPersistentSequentialWithTtl, 60000), use_future));
  ASSERT_TRUE(seq.ok()) << text(seq.error());
  EXPECT_EQ(seq->path, root + "/ttl-0000000001");
  // A TTL mode without a positive TTL is refused.
  EXPECT_EQ(
      await(c->create(root + "/no-ttl", "", mode(CreateMode::kPersistentWithTtl, 0), use_future))
          .error(),
      ErrorCode::kBadArguments);

  auto started = Clock::now();
  bool gone = wait_until(
      20s,
      [&] {
        return await(c->exists(root + "/ttl", nullptr, use_future)).error() == ErrorCode::kNoNode;
      },
      50ms);
  EXPECT_TRUE(gone) << "the TTL node outlived its TTL";
  std::printf("TTL node (1000 ms) reaped after %.0f ms\n", ms_since(started));
  EXPECT_TRUE(await(c->exists(seq->path, nullptr, use_future)).ok()) << "60 s TTL node went early";
}

TEST(Operations, TtlOnANonTtlModeIsRefused) {
  // CreateOptions::ttl_ms is "for the TTL modes". A TTL given with another mode must not be
  // dropped silently (the node would never expire): ZooKeeper's Java client refuses it
  // (EphemeralType.validateTTL: "ttl not valid for mode"), the server would answer
  // ZBADARGUMENTS (PrepRequestProcessor) if it were sent.
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  for (CreateMode m : {CreateMode::kPersistent, CreateMode::kEphemeral, CreateMode::kContainer}) {
    auto r = await(c->create(root + "/n", "", mode(m, 1000), use_future));
    EXPECT_EQ(r.error(), ErrorCode::kBadArguments)
        << "mode " << static_cast<int>(m) << ": " << text(r.error());
    if (r.ok()) {
      ASSERT_TRUE(await(c->remove(root + "/n", -1, use_future)).ok());
    }
  }
  auto m = await(
      c->multi(Multi().create(root + "/m", "", CreateMode::kPersistent, open_acl_unsafe(), 1000),
               use_future));
  EXPECT_EQ(m.error(), ErrorCode::kBadArguments) << text(m.error());
}

TEST(Operations, CreateErrors) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  ASSERT_TRUE(await(c->create(root + "/a", "", {}, use_future)).ok());
  auto dup = await(c->create(root + "/a", "", {}, use_future));
  EXPECT_EQ(dup.error(), ErrorCode::kNodeExists) << text(dup.error());
  auto orphan = await(c->create(root + "/missing/child", "", {}, use_future));
  EXPECT_EQ(orphan.error(), ErrorCode::kNoNode) << text(orphan.error());
  auto relative = await(c->create("relative", "", {}, use_future));
  EXPECT_EQ(relative.error(), ErrorCode::kBadArguments) << text(relative.error());
  auto no_acl =
      await(c->create(root + "/no-acl", "", {CreateMode::kPersistent, {}, -1}, use_future));
  EXPECT_EQ(no_acl.error(), ErrorCode::kInvalidAcl) << text(no_acl.error());
  // A failed create leaves nothing behind.
  EXPECT_EQ(await(c->exists(root + "/no-acl", nullptr, use_future)).error(), ErrorCode::kNoNode);
}

TEST(Operations, SetChecksVersions) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  std::string p = root + "/v";
  auto created = await(c->create(p, "0", {}, use_future));
  ASSERT_TRUE(created.ok());

  auto s1 = await(c->set(p, "one", 0, use_future));
  ASSERT_TRUE(s1.ok()) << text(s1.error());
  EXPECT_EQ(s1->version, 1);
  EXPECT_GT(s1->mzxid, created->stat.mzxid);
  EXPECT_EQ(s1->czxid, created->stat.czxid);
  EXPECT_EQ(s1->data_length, 3);
  EXPECT_GE(s1->mtime, created->stat.mtime);

  auto stale = await(c->set(p, "stale", 0, use_future));
  EXPECT_EQ(stale.error(), ErrorCode::kBadVersion) << text(stale.error());
  EXPECT_EQ(error_text(stale.error()), "ZBADVERSION");

  auto any = await(c->set(p, "two", -1, use_future));
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->version, 2);

  auto g = await(c->get(p, nullptr, use_future));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->data, "two");
  EXPECT_EQ(g->stat, *any);

  EXPECT_EQ(await(c->set(root + "/missing", "x", -1, use_future)).error(), ErrorCode::kNoNode);
  EXPECT_EQ(await(c->get(root + "/missing", nullptr, use_future)).error(), ErrorCode::kNoNode);
}

TEST(Operations, DataIsBinaryAndMayBeEmptyOrLarge) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  std::string binary("a\0b\xff\x00\x01", 6);
  std::string large(512 * 1024, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7 + i / 251);
  for (const std::string& data : {std::string(), binary, large}) {
    std::string p = root + "/d" + std::to_string(data.size());
    ASSERT_TRUE(await(c->create(p, data, {}, use_future)).ok());
    auto g = await(c->get(p, nullptr, use_future));
    ASSERT_TRUE(g.ok()) << text(g.error());
    EXPECT_EQ(g->data, data);
    EXPECT_EQ(g->stat.data_length, static_cast<int32_t>(data.size()));
    auto s = await(c->set(p, data + "!", -1, use_future));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->data_length, static_cast<int32_t>(data.size() + 1));
  }
}

TEST(Operations, RemoveChecksVersionAndChildren) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  ASSERT_TRUE(await(c->create(root + "/p", "", {}, use_future)).ok());
  ASSERT_TRUE(await(c->create(root + "/p/kid", "", {}, use_future)).ok());
  auto busy = await(c->remove(root + "/p", -1, use_future));
  EXPECT_EQ(busy.error(), ErrorCode::kNotEmpty) << text(busy.error());
  EXPECT_EQ(error_text(busy.error()), "ZNOTEMPTY");
  ASSERT_TRUE(await(c->set(root + "/p/kid", "x", -1, use_future)).ok());  // version 1
  auto stale = await(c->remove(root + "/p/kid", 0, use_future));
  EXPECT_EQ(stale.error(), ErrorCode::kBadVersion) << text(stale.error());
  EXPECT_TRUE(await(c->remove(root + "/p/kid", 1, use_future)).ok());
  EXPECT_TRUE(await(c->remove(root + "/p", -1, use_future)).ok());
  auto again = await(c->remove(root + "/p", -1, use_future));
  EXPECT_EQ(again.error(), ErrorCode::kNoNode) << text(again.error());
  EXPECT_EQ(error_text(again.error()), "ZNONODE");
  EXPECT_EQ(await(c->exists(root + "/p", nullptr, use_future)).error(), ErrorCode::kNoNode);
}

TEST(Operations, ChildrenComeWithTheParentsStat) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  for (const char* name : {"c", "a", "b"})
    ASSERT_TRUE(await(c->create(root + "/" + name, "", {}, use_future)).ok());
  auto kids = await(c->children(root, nullptr, use_future));
  ASSERT_TRUE(kids.ok()) << text(kids.error());
  EXPECT_EQ(sorted(kids->children), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(kids->stat.num_children, 3);
  EXPECT_EQ(kids->stat.cversion, 3);
  auto e = await(c->exists(root, nullptr, use_future));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(kids->stat, *e);

  auto leaf = await(c->children(root + "/a", nullptr, use_future));
  ASSERT_TRUE(leaf.ok());
  EXPECT_TRUE(leaf->children.empty());
  EXPECT_EQ(await(c->children(root + "/missing", nullptr, use_future)).error(), ErrorCode::kNoNode);
}

TEST(Operations, DescendantCountCountsTheWholeSubtree) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  for (const char* p : {"/a", "/a/b", "/a/b/c", "/a/b2", "/d"})
    ASSERT_TRUE(await(c->create(root + p, "", {}, use_future)).ok());
  auto all = await(c->descendant_count(root, use_future));
  ASSERT_TRUE(all.ok()) << text(all.error());
  EXPECT_EQ(*all, 5);
  EXPECT_EQ(*await(c->descendant_count(root + "/a", use_future)), 3);
  EXPECT_EQ(*await(c->descendant_count(root + "/d", use_future)), 0);
  EXPECT_EQ(await(c->descendant_count(root + "/missing", use_future)).error(), ErrorCode::kNoNode);
}

TEST(Operations, ErrorTextNamesZooKeeperCodes) {
  EXPECT_EQ(error_text(ErrorCode::kOk), "ZOK");
  EXPECT_EQ(error_text(ErrorCode::kNoNode), "ZNONODE");
  EXPECT_EQ(error_text(ErrorCode::kNodeExists), "ZNODEEXISTS");
  EXPECT_EQ(error_text(ErrorCode::kBadVersion), "ZBADVERSION");
  EXPECT_EQ(error_text(ErrorCode::kNotEmpty), "ZNOTEMPTY");
  EXPECT_EQ(error_text(ErrorCode::kNoAuth), "ZNOAUTH");
  EXPECT_EQ(error_text(ErrorCode::kConnectionLoss), "ZCONNECTIONLOSS");
  EXPECT_EQ(error_text(ErrorCode::kSessionExpired), "ZSESSIONEXPIRED");
  EXPECT_EQ(error_text(ErrorCode::kRuntimeInconsistency), "ZRUNTIMEINCONSISTENCY");
  EXPECT_EQ(error_text(ErrorCode::kClosing), "ZCLOSING");
  EXPECT_EQ(error_text(ErrorCode::kNoWatcher), "ZNOWATCHER");
  EXPECT_EQ(error_text(ErrorCode::kNoChildrenForEphemerals), "ZNOCHILDRENFOREPHEMERALS");
  EXPECT_EQ(error_text(ErrorCode::kInvalidAcl), "ZINVALIDACL");
  EXPECT_EQ(error_text(ErrorCode::kBadArguments), "ZBADARGUMENTS");
}

}  // namespace
}  // namespace corral::client::test
