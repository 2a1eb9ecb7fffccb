// ACLs with digest authentication, whoAmI, multi (success and failure with per-op results),
// sync and getEphemerals.
#include <algorithm>

#include "tests/client/client_env.h"

namespace corral::client::test {
namespace {

using asio::use_future;

// base64(sha1("alice:secret")): DigestAuthenticationProvider.generateDigest("alice:secret").
const std::string kAliceDigest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";
const std::string kAliceCredentials = "alice:secret";

AclList alice_all() { return {Acl{wire::perms::kAll, Id{"digest", kAliceDigest}}}; }

TEST(Acl, DigestAclNeedsAuth) {
  TestClient owner, stranger;
  ASSERT_TRUE(owner.connected() && stranger.connected());
  std::string root = test_root(*owner);
  std::string p = root + "/secret";
  ASSERT_TRUE(await(owner->add_auth("digest", kAliceCredentials, use_future)).ok());
  auto created =
      await(owner->create(p, "data", {CreateMode::kPersistent, alice_all(), -1}, use_future));
  ASSERT_TRUE(created.ok()) << text(created.error());

  auto acl = await(owner->get_acl(p, use_future));
  ASSERT_TRUE(acl.ok()) << text(acl.error());
  EXPECT_EQ(acl->acl, alice_all());
  EXPECT_EQ(acl->stat, created->stat);
  EXPECT_EQ(acl->stat.aversion, 0);

  // Without alice's identity: no reading, no writing, no deleting children, no ACL change.
  // (The stranger may be on another server: sync first, or p may not be there yet.)
  ASSERT_TRUE(await(stranger->sync(p, use_future)).ok());
  auto get = await(stranger->get(p, nullptr, use_future));
  EXPECT_EQ(get.error(), ErrorCode::kNoAuth) << text(get.error());
  EXPECT_EQ(error_text(get.error()), "ZNOAUTH");
  EXPECT_EQ(await(stranger->set(p, "x", -1, use_future)).error(), ErrorCode::kNoAuth);
  EXPECT_EQ(await(stranger->create(p + "/kid", "", {}, use_future)).error(), ErrorCode::kNoAuth);
  EXPECT_EQ(await(stranger->set_acl(p, open_acl_unsafe(), -1, use_future)).error(),
            ErrorCode::kNoAuth);
  EXPECT_EQ(await(stranger->children(p, nullptr, use_future)).error(), ErrorCode::kNoAuth);
  // exists needs no permission.
  EXPECT_TRUE(await(stranger->exists(p, nullptr, use_future)).ok());

  // With it: everything; and setACL checks the ACL version.
  auto g = await(owner->get(p, nullptr, use_future));
  ASSERT_TRUE(g.ok()) << text(g.error());
  EXPECT_EQ(g->data, "data");
  EXPECT_TRUE(await(owner->set(p, "new", 0, use_future)).ok());
  auto stale = await(owner->set_acl(p, read_acl_unsafe(), 1, use_future));
  EXPECT_EQ(stale.error(), ErrorCode::kBadVersion) << text(stale.error());
  auto opened = await(owner->set_acl(p, read_acl_unsafe(), 0, use_future));
  ASSERT_TRUE(opened.ok()) << text(opened.error());
  EXPECT_EQ(opened->aversion, 1);
  EXPECT_EQ(opened->version, 1);

  // Now world-readable, but not writable.
  ASSERT_TRUE(await(stranger->sync(p, use_future)).ok());
  auto read = await(stranger->get(p, nullptr, use_future));
  ASSERT_TRUE(read.ok()) << text(read.error());
  EXPECT_EQ(read->data, "new");
  EXPECT_EQ(await(stranger->set(p, "x", -1, use_future)).error(), ErrorCode::kNoAuth);
  auto after = await(stranger->get_acl(p, use_future));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->acl, read_acl_unsafe());
  EXPECT_EQ(after->stat.aversion, 1);
}

TEST(Acl, CreatorAllAclTakesTheAuthenticatedIdentity) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  // Without an identity, the "auth" scheme has nobody to stand for.
  auto refused = await(
      c->create(root + "/mine", "", {CreateMode::kPersistent, creator_all_acl(), -1}, use_future));
  EXPECT_EQ(refused.error(), ErrorCode::kInvalidAcl) << text(refused.error());
  ASSERT_TRUE(await(c->add_auth("digest", kAliceCredentials, use_future)).ok());
  auto mine = await(
      c->create(root + "/mine", "", {CreateMode::kPersistent, creator_all_acl(), -1}, use_future));
  ASSERT_TRUE(mine.ok()) << text(mine.error());
  auto acl = await(c->get_acl(root + "/mine", use_future));
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->acl, alice_all());
}

TEST(Acl, WhoAmIListsTheSessionsIdentities) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  auto before = await(c->who_am_i(use_future));
  ASSERT_TRUE(before.ok()) << text(before.error());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].scheme, "ip");
  EXPECT_EQ((*before)[0].id, "127.0.0.1");

  ASSERT_TRUE(await(c->add_auth("digest", kAliceCredentials, use_future)).ok());
  auto after = await(c->who_am_i(use_future));
  ASSERT_TRUE(after.ok()) << text(after.error());
  // In no particular order (ZooKeeper keeps a session's identities in a set).
  std::vector<std::string> ids;
  for (const auto& id : *after) ids.push_back(id.scheme + ":" + id.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"digest:alice", "ip:127.0.0.1"}));
}

TEST(Multi, SuccessReturnsEveryOpsResult) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  ASSERT_TRUE(await(c->create(root + "/existing", "0", {}, use_future)).ok());
  ASSERT_TRUE(await(c->create(root + "/doomed", "", {}, use_future)).ok());
  auto r = await(c->multi(Multi()
                              .create(root + "/q-", "a", CreateMode::kPersistentSequential)
                              .create(root + "/plain", "b")
                              .set(root + "/existing", "1", 0)
                              .check(root + "/existing", 1)
                              .remove(root + "/doomed", 0),
                          use_future));
  ASSERT_TRUE(r.ok()) << text(r.error());
  ASSERT_EQ(r->size(), 5u);
  for (const auto& op : *r) EXPECT_EQ(op.err, ErrorCode::kOk) << text(op.err);
  EXPECT_EQ((*r)[0].path, root + "/q-0000000002");
  EXPECT_EQ((*r)[1].path, root + "/plain");
  EXPECT_EQ((*r)[2].stat.version, 1);
  EXPECT_EQ((*r)[2].stat.data_length, 1);
  // Every write of a multi is one transaction: one zxid.
  auto plain = await(c->exists(root + "/plain", nullptr, use_future));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->czxid, (*r)[2].stat.mzxid);
  EXPECT_EQ(await(c->exists(root + "/doomed", nullptr, use_future)).error(), ErrorCode::kNoNode);
  auto q = await(c->get(root + "/q-0000000002", nullptr, use_future));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->data, "a");
}

TEST(Multi, FailureReportsTheFailingOpAndChangesNothing) {
  TestClient c;
  ASSERT_TRUE(c.connected());
  std::string root = test_root(*c);
  ASSERT_TRUE(await(c->create(root + "/x", "0", {}, use_future)).ok());
  auto r = await(c->multi(Multi()
                              .create(root + "/a", "")
                              .set(root + "/x", "1", 0)
                              .set(root + "/x", "2", 0)  // version now 1: fails
                              .create(root + "/b", "")
                              .check(root + "/x", -1),
                          use_future));
  EXPECT_EQ(r.error(), ErrorCode::kBadVersion) << text(r.error());
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].err, ErrorCode::kOk) << text((*r)[0].err);
  EXPECT_EQ((*r)[1].err, ErrorCode::kOk) << text((*r)[1].err);
  EXPECT_EQ((*r)[2].err, ErrorCode::kBadVersion) << text((*r)[2].err);
  EXPECT_EQ((*r)[3].err, ErrorCode::kRuntimeInconsistency) << text((*r)[3].err);
  EXPECT_EQ((*r)[4].err, ErrorCode::kRuntimeInconsistency) << text((*r)[4].err);
  EXPECT_EQ(await(c->exists(root + "/a", nullptr, use_future)).error(), ErrorCode::kNoNode);
  auto x = await(c->get(root + "/x", nullptr, use_future));
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->data, "0");
  EXPECT_EQ(x->stat.version, 0);

  // The first op failing, with a check.
  auto first =
      await(c->multi(Multi().check(root + "/missing", -1).create(root + "/c", ""), use_future));
  EXPECT_EQ(first.error(), ErrorCode::kNoNode) << text(first.error());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].err, ErrorCode::kNoNode);
  EXPECT_EQ((*first)[1].err, ErrorCode::kRuntimeInconsistency);
}

TEST(Session, SyncThenReadSeesWritesCommittedBefore) {
  // Reader and writer on different servers: after sync, the reader sees the write.
  TestClient writer;
  ASSERT_TRUE(writer.connected());
  int w = member_of(writer->server());
  ASSERT_GE(w, 0);
  TestClient reader({.connect = hosts_except(w)});
  ASSERT_TRUE(reader.connected());
  std::string root = test_root(*writer);
  for (int i = 0; i < 20; ++i) {
    std::string v = std::to_string(i);
    ASSERT_TRUE(await(writer->set(root, v, -1, use_future)).ok());
    auto s = await(reader->sync(root, use_future));
    ASSERT_TRUE(s.ok()) << text(s.error());
    auto g = await(reader->get(root, nullptr, use_future));
    ASSERT_TRUE(g.ok());
    if (on_zookeeper() && i > 0 && g->data == std::to_string(i - 1)) {
      // ZooKeeper 3.8 once answered a read after sync one write behind (1 run of CI in many):
      // its sync is not a quorum operation (ZOOKEEPER-1675). Allowed one write behind, no more.
      continue;
    }
    EXPECT_EQ(g->data, v) << "round " << i;  // Corral is held to the write
  }
  EXPECT_EQ(await(reader->sync("/", use_future)).error(), ErrorCode::kOk);
}

TEST(Session, EphemeralsListsThisSessionsEphemerals) {
  TestClient c, other;
  ASSERT_TRUE(c.connected() && other.connected());
  std::string root = test_root(*c);
  ASSERT_TRUE(await(c->create(root + "/e1", "", {CreateMode::kEphemeral}, use_future)).ok());
  ASSERT_TRUE(await(c->create(root + "/p", "", {}, use_future)).ok());
  auto seq = await(c->create(root + "/p/e-", "", {CreateMode::kEphemeralSequential}, use_future));
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(await(other->sync(root, use_future)).ok());  // root is c's: maybe not there yet
  ASSERT_TRUE(
      await(other->create(root + "/theirs", "", {CreateMode::kEphemeral}, use_future)).ok());

  auto mine = await(c->ephemerals(root, use_future));
  ASSERT_TRUE(mine.ok()) << text(mine.error());
  std::vector<std::string> got = *mine;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{root + "/e1", seq->path}));
  auto under_p = await(c->ephemerals(root + "/p", use_future));
  ASSERT_TRUE(under_p.ok());
  EXPECT_EQ(*under_p, std::vector<std::string>{seq->path});
  auto theirs = await(other->ephemerals(root, use_future));
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(*theirs, std::vector<std::string>{root + "/theirs"});
}

}  // namespace
}  // namespace corral::client::test
