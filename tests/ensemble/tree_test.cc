// DataTree and TxnPrep: Stat semantics, sequential names, ephemerals,
// containers, TTL nodes, versions, multi and the outstanding-change overlay,
// checked against what Apache ZooKeeper 3.8 does.
#include <gtest/gtest.h>

#include <climits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn.h"
#include "ensemble/tree/txn_prep.h"

namespace corral::tree {
namespace {

using wire::CreateMode;
using wire::ErrorCode;
using wire::EventType;
using wire::OpCode;

const wire::AclList kOpenAcl{{wire::perms::kAll, {"world", "anyone"}}};

WriteOp create_op(const std::string& path, const std::string& data = "",
                  CreateMode mode = CreateMode::kPersistent, OpCode type = OpCode::kCreate2,
                  int64_t ttl = 0) {
  wire::CreateRequest req;
  req.path = path;
  req.data = data;
  req.acl = kOpenAcl;
  req.flags = static_cast<int32_t>(mode);
  req.ttl = ttl;
  return {type, req};
}

WriteOp delete_op(const std::string& path, int32_t version = -1) {
  return {OpCode::kDelete, wire::PathVersionRequest{path, version}};
}

WriteOp delete_container_op(const std::string& path) {
  return {OpCode::kDeleteContainer, wire::PathVersionRequest{path, -1}};
}

WriteOp check_op(const std::string& path, int32_t version) {
  return {OpCode::kCheck, wire::PathVersionRequest{path, version}};
}

WriteOp set_data_op(const std::string& path, const std::string& data, int32_t version = -1) {
  wire::SetDataRequest req;
  req.path = path;
  req.data = data;
  req.version = version;
  return {OpCode::kSetData, req};
}

WriteOp set_acl_op(const std::string& path, wire::AclList acl, int32_t version = -1) {
  return {OpCode::kSetAcl, wire::SetAclRequest{path, std::move(acl), version}};
}

class TreeTest : public ::testing::Test {
 protected:
  static constexpr int64_t kSession = 0x0100000000000042;
  static constexpr int64_t kOtherSession = 0x0100000000000043;

  PrepContext ctx(int64_t session = kSession) {
    now_ms += 10;
    return PrepContext{session, ++cxid, ++zxid, now_ms, &ids};
  }

  // Prepares and applies one write, as the server does with nothing outstanding.
  ApplyResult run(const WriteOp& op, int64_t session = kSession) {
    return commit(prep.prepare(ctx(session), op));
  }

  ApplyResult run_multi(const std::vector<WriteOp>& ops) {
    return commit(prep.prepare_multi(ctx(), ops));
  }

  ApplyResult commit(const Txn& txn) {
    ApplyResult r = tree.apply(txn);
    prep.applied(txn.zxid);
    return r;
  }

  ErrorCode create(const std::string& path, const std::string& data = "",
                   CreateMode mode = CreateMode::kPersistent) {
    return run(create_op(path, data, mode)).err;
  }

  // The path a create produced (sequential names).
  std::string created_path(const std::string& path, CreateMode mode) {
    ApplyResult r = run(create_op(path, "", mode));
    EXPECT_EQ(r.err, ErrorCode::kOk) << path;
    return r.ops.empty() ? "" : r.ops.front().path;
  }

  wire::Stat stat(const std::string& path) {
    const Node* n = tree.find(path);
    EXPECT_NE(n, nullptr) << path;
    return n ? n->stat() : wire::Stat{};
  }

  DataTree tree;
  TxnPrep prep{tree, /*extended_types=*/true};
  AuthIds ids{{"ip", "127.0.0.1"}};
  int64_t zxid = 0x500000000;
  int32_t cxid = 0;
  int64_t now_ms = 1'700'000'000'000;
};

// --- the initial tree --------------------------------------------------------------------------

TEST_F(TreeTest, SystemNodesExist) {
  for (const char* p : {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"})
    EXPECT_NE(tree.find(p), nullptr) << p;
  EXPECT_EQ(tree.node_count(), 4u);
  EXPECT_EQ(tree.paths(),
            (std::vector<std::string>{"/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"}));
  // /zookeeper/config is world-readable only, as ZooKeeper's READ_ACL_UNSAFE.
  EXPECT_EQ(*tree.find("/zookeeper/config")->acl,
            (wire::AclList{{wire::perms::kRead, {"world", "anyone"}}}));
  EXPECT_EQ(*tree.find("/")->acl, kOpenAcl);
  // ZooKeeper sets that ACL with setACL(..., -1), leaving aversion -1; the rest is zero.
  wire::Stat config = stat("/zookeeper/config");
  EXPECT_EQ(config.aversion, -1);
  EXPECT_EQ(config.czxid, 0);
  EXPECT_EQ(config.version, 0);
  EXPECT_EQ(config.cversion, 0);
  EXPECT_EQ(stat("/zookeeper").aversion, 0);
  EXPECT_EQ(stat("/zookeeper").num_children, 2);
  EXPECT_EQ(stat("/").num_children, 1);
  // ZooKeeper's DataTree links the system nodes in without counting a creation, so the
  // reported cversion (2 * creations - children) is negative: "cversion = -2" for /zookeeper.
  EXPECT_EQ(tree.find("/")->cversion, 0);
  EXPECT_EQ(tree.find("/zookeeper")->cversion, 0);
  EXPECT_EQ(stat("/").cversion, -1);
  EXPECT_EQ(stat("/zookeeper").cversion, -2);
  EXPECT_EQ(stat("/zookeeper/quota").cversion, 0);
}

TEST_F(TreeTest, SpecialPathsCannotBeDeleted) {
  for (const char* p : {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"}) {
    ApplyResult r = run(delete_op(p));
    EXPECT_EQ(r.err, ErrorCode::kBadArguments) << p;
    EXPECT_NE(tree.find(p), nullptr) << p;
  }
  // But children may be created under /zookeeper (it has an open ACL), and deleted again.
  EXPECT_EQ(create("/zookeeper/mine"), ErrorCode::kOk);
  EXPECT_EQ(run(delete_op("/zookeeper/mine")).err, ErrorCode::kOk);
  EXPECT_EQ(run(set_data_op("/zookeeper/config", "x")).err, ErrorCode::kNoAuth);
  EXPECT_EQ(run(set_acl_op("/zookeeper/config", kOpenAcl)).err, ErrorCode::kNoAuth);
}

// --- Stat semantics ----------------------------------------------------------------------------

TEST_F(TreeTest, CreateSetsStatAndParent) {
  wire::Stat root_before = stat("/");
  ApplyResult r = run(create_op("/a", "hello"));
  ASSERT_EQ(r.err, ErrorCode::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].type, OpCode::kCreate2);
  EXPECT_EQ(r.ops[0].path, "/a");

  wire::Stat s = stat("/a");
  EXPECT_EQ(r.ops[0].stat, s);
  EXPECT_EQ(s.czxid, zxid);
  EXPECT_EQ(s.mzxid, zxid);
  EXPECT_EQ(s.pzxid, zxid);
  EXPECT_EQ(s.ctime, now_ms);
  EXPECT_EQ(s.mtime, now_ms);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.cversion, 0);
  EXPECT_EQ(s.aversion, 0);
  EXPECT_EQ(s.ephemeral_owner, 0);
  EXPECT_EQ(s.data_length, 5);
  EXPECT_EQ(s.num_children, 0);
  EXPECT_EQ(tree.last_zxid(), zxid);

  wire::Stat root = stat("/");
  EXPECT_EQ(root_before.cversion, -1);
  EXPECT_EQ(root.cversion, 0);  // one more creation, one more child: 2 * 1 - 2
  EXPECT_EQ(tree.find("/")->cversion, 1);
  EXPECT_EQ(root.pzxid, zxid);
  EXPECT_EQ(root.num_children, root_before.num_children + 1);
  EXPECT_EQ(root.mzxid, root_before.mzxid);  // a child's create is not a data change
  EXPECT_EQ(root.version, root_before.version);
  EXPECT_EQ(tree.find("/a")->data, "hello");
}

TEST_F(TreeTest, SetDataChangesDataVersionMzxidMtimeOnly) {
  ASSERT_EQ(create("/a", "one"), ErrorCode::kOk);
  ASSERT_EQ(create("/a/child"), ErrorCode::kOk);
  wire::Stat before = stat("/a");
  ApplyResult r = run(set_data_op("/a", "second"));
  ASSERT_EQ(r.err, ErrorCode::kOk);
  wire::Stat s = stat("/a");
  EXPECT_EQ(r.ops[0].stat, s);
  EXPECT_EQ(s.czxid, before.czxid);
  EXPECT_EQ(s.ctime, before.ctime);
  EXPECT_EQ(s.mzxid, zxid);
  EXPECT_EQ(s.mtime, now_ms);
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.cversion, before.cversion);
  EXPECT_EQ(s.aversion, before.aversion);
  EXPECT_EQ(s.pzxid, before.pzxid);
  EXPECT_EQ(s.data_length, 6);
  EXPECT_EQ(s.num_children, 1);
  EXPECT_EQ(run(set_data_op("/a", "", 1)).err, ErrorCode::kOk);
  EXPECT_EQ(stat("/a").version, 2);
  EXPECT_EQ(stat("/a").data_length, 0);
}

TEST_F(TreeTest, NullDataIsKeptApartFromEmptyData) {
  WriteOp null_create = create_op("/n");
  std::get<wire::CreateRequest>(null_create.body).data_null = true;
  Txn txn = prep.prepare(ctx(), null_create);
  ASSERT_EQ(txn.type, OpCode::kCreate2);
  EXPECT_TRUE(txn.ops[0].data_null);
  ApplyResult r = commit(txn);
  ASSERT_EQ(r.err, ErrorCode::kOk);
  EXPECT_TRUE(tree.find("/n")->data_null);
  EXPECT_EQ(tree.find("/n")->data, "");
  EXPECT_EQ(r.ops[0].stat.data_length, 0);
  EXPECT_EQ(stat("/n").data_length, 0);

  ASSERT_EQ(create("/e", ""), ErrorCode::kOk);
  EXPECT_FALSE(tree.find("/e")->data_null);
  EXPECT_EQ(stat("/e").data_length, 0);

  // setData replaces nullness along with the data.
  ASSERT_EQ(run(set_data_op("/n", "")).err, ErrorCode::kOk);
  EXPECT_FALSE(tree.find("/n")->data_null);
  WriteOp null_set = set_data_op("/e", "");
  std::get<wire::SetDataRequest>(null_set.body).data_null = true;
  Txn set = prep.prepare(ctx(), null_set);
  ASSERT_EQ(set.type, OpCode::kSetData);
  EXPECT_TRUE(set.ops[0].data_null);
  ASSERT_EQ(commit(set).err, ErrorCode::kOk);
  EXPECT_TRUE(tree.find("/e")->data_null);
  EXPECT_EQ(stat("/e").data_length, 0);
  EXPECT_EQ(stat("/e").version, 1);
  ASSERT_EQ(run(set_data_op("/e", "x")).err, ErrorCode::kOk);
  EXPECT_FALSE(tree.find("/e")->data_null);
  EXPECT_EQ(tree.find("/e")->data, "x");
  EXPECT_EQ(tree.data_bytes(), 1);
}

TEST_F(TreeTest, DeleteBumpsReportedCversionButNotCreationCount) {
  ASSERT_EQ(create("/p"), ErrorCode::kOk);
  ASSERT_EQ(create("/p/a"), ErrorCode::kOk);
  ASSERT_EQ(create("/p/b"), ErrorCode::kOk);
  wire::Stat before = stat("/p");
  EXPECT_EQ(before.cversion, 2);
  EXPECT_EQ(before.num_children, 2);
  EXPECT_EQ(tree.find("/p")->cversion, 2);
  ASSERT_EQ(run(delete_op("/p/a")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/p/a"), nullptr);
  wire::Stat s = stat("/p");
  EXPECT_EQ(s.pzxid, zxid);
  // ZooKeeper stores only the creations (2) and reports creations + deletions.
  EXPECT_EQ(tree.find("/p")->cversion, 2);
  EXPECT_EQ(s.cversion, 3);
  EXPECT_EQ(s.num_children, 1);
  EXPECT_EQ(s.mzxid, before.mzxid);
  EXPECT_EQ(s.version, before.version);

  ASSERT_EQ(run(delete_op("/p/b")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/p")->cversion, 2);
  EXPECT_EQ(stat("/p").cversion, 4);
  EXPECT_EQ(stat("/p").num_children, 0);
  ASSERT_EQ(create("/p/c"), ErrorCode::kOk);
  EXPECT_EQ(tree.find("/p")->cversion, 3);
  EXPECT_EQ(stat("/p").cversion, 5);
}

TEST_F(TreeTest, SetAclChangesAversionOnly) {
  ASSERT_EQ(create("/a", "x"), ErrorCode::kOk);
  wire::Stat before = stat("/a");
  wire::AclList read_only{{wire::perms::kRead | wire::perms::kAdmin, {"world", "anyone"}}};
  ApplyResult r = run(set_acl_op("/a", read_only, 0));
  ASSERT_EQ(r.err, ErrorCode::kOk);
  wire::Stat s = stat("/a");
  EXPECT_EQ(r.ops[0].stat, s);
  EXPECT_EQ(s.aversion, 1);
  EXPECT_EQ(s.version, before.version);
  EXPECT_EQ(s.mzxid, before.mzxid);
  EXPECT_EQ(s.mtime, before.mtime);
  EXPECT_EQ(s.cversion, before.cversion);
  EXPECT_EQ(*tree.find("/a")->acl, read_only);
  EXPECT_EQ(run(set_acl_op("/a", read_only, 0)).err, ErrorCode::kBadVersion);
  EXPECT_EQ(run(set_acl_op("/a", read_only, 1)).err, ErrorCode::kOk);
  EXPECT_EQ(stat("/a").aversion, 2);
}

TEST_F(TreeTest, TriggersForEachChange) {
  ApplyResult c = run(create_op("/a"));
  ASSERT_EQ(c.triggers.size(), 2u);
  EXPECT_EQ(c.triggers[0].path, "/a");
  EXPECT_EQ(c.triggers[0].type, EventType::kNodeCreated);
  EXPECT_EQ(c.triggers[1].path, "/");
  EXPECT_EQ(c.triggers[1].type, EventType::kNodeChildrenChanged);

  ApplyResult s = run(set_data_op("/a", "x"));
  ASSERT_EQ(s.triggers.size(), 1u);
  EXPECT_EQ(s.triggers[0].path, "/a");
  EXPECT_EQ(s.triggers[0].type, EventType::kNodeDataChanged);

  EXPECT_TRUE(run(set_acl_op("/a", kOpenAcl)).triggers.empty());
  EXPECT_TRUE(run(check_op("/a", -1)).triggers.empty());

  ApplyResult d = run(delete_op("/a"));
  ASSERT_EQ(d.triggers.size(), 2u);
  EXPECT_EQ(d.triggers[0].path, "/a");
  EXPECT_EQ(d.triggers[0].type, EventType::kNodeDeleted);
  EXPECT_EQ(d.triggers[1].path, "/");
  EXPECT_EQ(d.triggers[1].type, EventType::kNodeChildrenChanged);

  EXPECT_TRUE(run(delete_op("/a")).triggers.empty());  // failed: nothing changed
}

TEST_F(TreeTest, DataBytesAndNodeCount) {
  EXPECT_EQ(tree.data_bytes(), 0);
  ASSERT_EQ(create("/a", "12345"), ErrorCode::kOk);
  ASSERT_EQ(create("/b", "123"), ErrorCode::kOk);
  EXPECT_EQ(tree.data_bytes(), 8);
  EXPECT_EQ(tree.node_count(), 6u);
  ASSERT_EQ(run(set_data_op("/a", "1")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.data_bytes(), 4);
  ASSERT_EQ(run(delete_op("/b")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.data_bytes(), 1);
  EXPECT_EQ(tree.node_count(), 5u);
}

// --- errors ------------------------------------------------------------------------------------

TEST_F(TreeTest, NoNodeNodeExistsNotEmpty) {
  EXPECT_EQ(create("/missing/child"), ErrorCode::kNoNode);
  EXPECT_EQ(run(delete_op("/missing")).err, ErrorCode::kNoNode);
  EXPECT_EQ(run(set_data_op("/missing", "x")).err, ErrorCode::kNoNode);
  EXPECT_EQ(run(set_acl_op("/missing", kOpenAcl)).err, ErrorCode::kNoNode);
  EXPECT_EQ(run(check_op("/missing", -1)).err, ErrorCode::kNoNode);

  ASSERT_EQ(create("/a"), ErrorCode::kOk);
  EXPECT_EQ(create("/a"), ErrorCode::kNodeExists);
  EXPECT_EQ(create("/zookeeper"), ErrorCode::kNodeExists);
  ASSERT_EQ(create("/a/b"), ErrorCode::kOk);
  EXPECT_EQ(run(delete_op("/a")).err, ErrorCode::kNotEmpty);
  EXPECT_NE(tree.find("/a"), nullptr);
}

TEST_F(TreeTest, ErrorTxnChangesNothing) {
  ASSERT_EQ(create("/a", "x"), ErrorCode::kOk);
  std::vector<std::string> paths = tree.paths();
  wire::Stat a = stat("/a");
  wire::Stat root = stat("/");
  Txn txn = prep.prepare(ctx(), create_op("/a"));
  EXPECT_EQ(txn.type, OpCode::kError);
  EXPECT_EQ(txn.err, ErrorCode::kNodeExists);
  EXPECT_TRUE(txn.ops.empty());
  EXPECT_EQ(txn.zxid, zxid);
  ApplyResult r = commit(txn);
  EXPECT_EQ(r.err, ErrorCode::kNodeExists);
  EXPECT_TRUE(r.ops.empty());
  EXPECT_TRUE(r.triggers.empty());
  EXPECT_EQ(tree.paths(), paths);
  EXPECT_EQ(stat("/a"), a);
  EXPECT_EQ(stat("/"), root);
}

TEST_F(TreeTest, BadPathsAndFlags) {
  EXPECT_EQ(create("a"), ErrorCode::kBadArguments);
  EXPECT_EQ(create(""), ErrorCode::kBadArguments);
  // As in ZooKeeper, the parent ("/a/", "/a") is looked up before the path is validated.
  EXPECT_EQ(create("/a//b"), ErrorCode::kNoNode);
  EXPECT_EQ(create("/a/"), ErrorCode::kNoNode);
  ASSERT_EQ(create("/a"), ErrorCode::kOk);
  EXPECT_EQ(create("/a/"), ErrorCode::kBadArguments);
  EXPECT_EQ(create("/a/."), ErrorCode::kBadArguments);
  EXPECT_EQ(create("/a/.."), ErrorCode::kBadArguments);
  EXPECT_EQ(create(std::string("/a/b\0c", 6)), ErrorCode::kBadArguments);
  EXPECT_EQ(run(create_op("/a/b", "", static_cast<CreateMode>(7))).err, ErrorCode::kBadArguments);
  EXPECT_EQ(run(create_op("/a/b", "", static_cast<CreateMode>(-1))).err, ErrorCode::kBadArguments);
  EXPECT_EQ(run(set_data_op("/a/", "x")).err, ErrorCode::kBadArguments);
  EXPECT_EQ(run(delete_op("a")).err, ErrorCode::kBadArguments);
  EXPECT_EQ(tree.node_count(), 5u);
}

// --- versions ----------------------------------------------------------------------------------

TEST_F(TreeTest, Versions) {
  ASSERT_EQ(create("/v"), ErrorCode::kOk);
  EXPECT_EQ(run(set_data_op("/v", "a", 1)).err, ErrorCode::kBadVersion);
  EXPECT_EQ(run(set_data_op("/v", "a", 0)).err, ErrorCode::kOk);
  EXPECT_EQ(run(set_data_op("/v", "b", -1)).err, ErrorCode::kOk);  // -1 matches any
  EXPECT_EQ(stat("/v").version, 2);
  EXPECT_EQ(run(check_op("/v", 1)).err, ErrorCode::kBadVersion);
  EXPECT_EQ(run(check_op("/v", 2)).err, ErrorCode::kOk);
  EXPECT_EQ(run(check_op("/v", -1)).err, ErrorCode::kOk);
  EXPECT_EQ(stat("/v").version, 2);  // check changes nothing
  EXPECT_EQ(run(delete_op("/v", 3)).err, ErrorCode::kBadVersion);
  EXPECT_NE(tree.find("/v"), nullptr);
  EXPECT_EQ(run(delete_op("/v", 2)).err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/v"), nullptr);
}

TEST_F(TreeTest, VersionWrapsAndSkipsMinusOne) {
  ASSERT_EQ(create("/v"), ErrorCode::kOk);
  // Bring the node to INT32_MAX with a committed Txn (as a long history would).
  Txn txn;
  txn.type = OpCode::kSetData;
  txn.zxid = ++zxid;
  TxnOp op;
  op.type = OpCode::kSetData;
  op.path = "/v";
  op.version = INT32_MAX;
  txn.ops.push_back(op);
  commit(txn);
  ASSERT_EQ(stat("/v").version, INT32_MAX);

  Txn wrap = prep.prepare(ctx(), set_data_op("/v", "x", INT32_MAX));
  ASSERT_EQ(wrap.type, OpCode::kSetData);
  EXPECT_EQ(wrap.ops[0].version, INT32_MIN);
  commit(wrap);
  EXPECT_EQ(stat("/v").version, INT32_MIN);

  txn.zxid = ++zxid;
  txn.ops[0].version = -2;
  commit(txn);
  // -2 + 1 would be -1, which clients could not name as an expected version: skip to 0.
  Txn skip = prep.prepare(ctx(), set_data_op("/v", "y", -2));
  ASSERT_EQ(skip.type, OpCode::kSetData);
  EXPECT_EQ(skip.ops[0].version, 0);
  commit(skip);
  EXPECT_EQ(stat("/v").version, 0);
  EXPECT_EQ(run(set_data_op("/v", "z", 0)).err, ErrorCode::kOk);
  EXPECT_EQ(stat("/v").version, 1);
}

// --- sequential nodes --------------------------------------------------------------------------

TEST_F(TreeTest, SequentialNamesFollowParentCversion) {
  ASSERT_EQ(create("/q"), ErrorCode::kOk);
  EXPECT_EQ(created_path("/q/job-", CreateMode::kPersistentSequential), "/q/job-0000000000");
  EXPECT_EQ(created_path("/q/job-", CreateMode::kPersistentSequential), "/q/job-0000000001");
  ASSERT_EQ(create("/q/plain"), ErrorCode::kOk);  // any create bumps the counter
  EXPECT_EQ(created_path("/q/job-", CreateMode::kEphemeralSequential), "/q/job-0000000003");
  EXPECT_EQ(stat("/q/job-0000000003").ephemeral_owner, kSession);
  EXPECT_EQ(tree.find("/q/job-0000000003")->ephemeral_owner, kSession);
  EXPECT_EQ(stat("/q").cversion, 4);
  // Deletes do not reuse or rewind numbers, but do count in the reported cversion.
  ASSERT_EQ(run(delete_op("/q/job-0000000003")).err, ErrorCode::kOk);
  ASSERT_EQ(run(delete_op("/q/job-0000000001")).err, ErrorCode::kOk);
  EXPECT_EQ(stat("/q").cversion, 6);
  EXPECT_EQ(created_path("/q/job-", CreateMode::kPersistentSequential), "/q/job-0000000004");
  // A prefix ending in "/" names the child by its number alone.
  EXPECT_EQ(created_path("/q/", CreateMode::kPersistentSequential), "/q/0000000005");
  EXPECT_EQ(created_path("/", CreateMode::kPersistentSequential), "/0000000001");
  // 6 creations and 2 deletions; 4 children left.
  EXPECT_EQ(tree.find("/q")->cversion, 6);
  EXPECT_EQ(stat("/q").num_children, 4);
  EXPECT_EQ(stat("/q").cversion, 8);
}

// The case the compat run against ZooKeeper 3.8 pinned down: the suffix is the count of
// creations, the reported cversion the count of creations and deletions.
TEST_F(TreeTest, SequentialSuffixAfterDeleteIsCreationCount) {
  ASSERT_EQ(create("/q"), ErrorCode::kOk);
  EXPECT_EQ(created_path("/q/n-", CreateMode::kPersistentSequential), "/q/n-0000000000");
  EXPECT_EQ(created_path("/q/n-", CreateMode::kPersistentSequential), "/q/n-0000000001");
  EXPECT_EQ(created_path("/q/n-", CreateMode::kPersistentSequential), "/q/n-0000000002");
  EXPECT_EQ(stat("/q").cversion, 3);
  ApplyResult del = run(delete_op("/q/n-0000000001"));
  ASSERT_EQ(del.err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/q")->cversion, 3);
  EXPECT_EQ(stat("/q").cversion, 4);
  EXPECT_EQ(stat("/q").num_children, 2);
  ApplyResult next = run(create_op("/q/n-", "", CreateMode::kPersistentSequential));
  ASSERT_EQ(next.err, ErrorCode::kOk);
  EXPECT_EQ(next.ops[0].path, "/q/n-0000000003");
  EXPECT_EQ(tree.find("/q")->cversion, 4);
  EXPECT_EQ(stat("/q").cversion, 5);
  EXPECT_EQ(stat("/q").num_children, 3);
}

TEST_F(TreeTest, SequentialNameCollisionIsNodeExists) {
  ASSERT_EQ(create("/q"), ErrorCode::kOk);
  ASSERT_EQ(create("/q/x0000000001"), ErrorCode::kOk);  // cversion becomes 1
  EXPECT_EQ(run(create_op("/q/x", "", CreateMode::kPersistentSequential)).err,
            ErrorCode::kNodeExists);
  EXPECT_EQ(stat("/q").cversion, 1);  // the failed create changed nothing
  EXPECT_EQ(tree.find("/q")->cversion, 1);
}

TEST_F(TreeTest, SequentialNumbersPastNineDigits) {
  ASSERT_EQ(create("/q"), ErrorCode::kOk);
  Txn txn;
  txn.type = OpCode::kCreate;
  txn.zxid = ++zxid;
  TxnOp op;
  op.type = OpCode::kCreate;
  op.path = "/q/seed";
  op.acl = kOpenAcl;
  op.parent_cversion = 1234567890;
  txn.ops.push_back(op);
  commit(txn);
  EXPECT_EQ(created_path("/q/n", CreateMode::kPersistentSequential), "/q/n1234567890");
}

// --- ephemerals --------------------------------------------------------------------------------

TEST_F(TreeTest, EphemeralsIndexAndCloseSession) {
  ASSERT_EQ(create("/dir"), ErrorCode::kOk);
  ASSERT_EQ(create("/e2", "", CreateMode::kEphemeral), ErrorCode::kOk);
  ASSERT_EQ(create("/dir/e1", "", CreateMode::kEphemeral), ErrorCode::kOk);
  ASSERT_EQ(run(create_op("/other", "", CreateMode::kEphemeral), kOtherSession).err,
            ErrorCode::kOk);
  // Session ephemerals report their owner as stored.
  EXPECT_EQ(stat("/e2").ephemeral_owner, kSession);
  EXPECT_EQ(tree.find("/e2")->ephemeral_owner, kSession);
  EXPECT_EQ(stat("/other").ephemeral_owner, kOtherSession);
  EXPECT_EQ(tree.ephemerals(kSession), (std::vector<std::string>{"/dir/e1", "/e2"}));
  EXPECT_EQ(tree.ephemerals(kOtherSession), (std::vector<std::string>{"/other"}));
  EXPECT_TRUE(tree.ephemerals(12345).empty());
  EXPECT_EQ(tree.ephemeral_counts(),
            (std::map<int64_t, size_t>{{kSession, 2}, {kOtherSession, 1}}));

  // Deleting one by hand updates the index.
  ASSERT_EQ(run(delete_op("/e2")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.ephemerals(kSession), (std::vector<std::string>{"/dir/e1"}));
  ASSERT_EQ(create("/e2", "", CreateMode::kEphemeral), ErrorCode::kOk);

  wire::Stat dir_before = stat("/dir");
  EXPECT_EQ(dir_before.cversion, 1);
  ApplyResult r = commit(prep.prepare_close_session(ctx()));
  EXPECT_EQ(r.err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/e2"), nullptr);
  EXPECT_EQ(tree.find("/dir/e1"), nullptr);
  EXPECT_NE(tree.find("/other"), nullptr);
  EXPECT_TRUE(tree.ephemerals(kSession).empty());
  EXPECT_EQ(tree.ephemeral_counts(), (std::map<int64_t, size_t>{{kOtherSession, 1}}));
  EXPECT_EQ(stat("/dir").pzxid, zxid);
  // The session's ephemeral going counts as a deletion, not as a creation.
  EXPECT_EQ(tree.find("/dir")->cversion, 1);
  EXPECT_EQ(stat("/dir").cversion, 2);
  EXPECT_EQ(stat("/dir").num_children, 0);

  // Each removed node fires NodeDeleted on itself and NodeChildrenChanged on its parent.
  int deleted = 0, children = 0;
  for (const auto& t : r.triggers) {
    if (t.type == EventType::kNodeDeleted) {
      ++deleted;
      EXPECT_TRUE(t.path == "/e2" || t.path == "/dir/e1") << t.path;
    } else {
      EXPECT_EQ(t.type, EventType::kNodeChildrenChanged);
      EXPECT_TRUE(t.path == "/" || t.path == "/dir") << t.path;
      ++children;
    }
  }
  EXPECT_EQ(deleted, 2);
  EXPECT_EQ(children, 2);

  // Closing a session without ephemerals is harmless.
  EXPECT_TRUE(commit(prep.prepare_close_session(ctx(777))).triggers.empty());
}

TEST_F(TreeTest, NoChildrenForEphemerals) {
  ASSERT_EQ(create("/e", "", CreateMode::kEphemeral), ErrorCode::kOk);
  EXPECT_EQ(create("/e/c"), ErrorCode::kNoChildrenForEphemerals);
  EXPECT_EQ(create("/e/c", "", CreateMode::kEphemeral), ErrorCode::kNoChildrenForEphemerals);
  EXPECT_EQ(run(create_op("/e/s", "", CreateMode::kPersistentSequential)).err,
            ErrorCode::kNoChildrenForEphemerals);
  EXPECT_EQ(stat("/e").num_children, 0);
  EXPECT_EQ(stat("/e").cversion, 0);
}

// --- containers and TTL nodes ------------------------------------------------------------------

TEST_F(TreeTest, ContainerNodes) {
  ApplyResult r = run(create_op("/c", "", CreateMode::kContainer, OpCode::kCreateContainer));
  ASSERT_EQ(r.err, ErrorCode::kOk);
  EXPECT_EQ(r.ops[0].type, OpCode::kCreateContainer);
  // The tree keeps the container marker; clients see no owner (getClientEphemeralOwner).
  EXPECT_EQ(tree.find("/c")->ephemeral_owner, INT64_MIN);
  EXPECT_EQ(stat("/c").ephemeral_owner, 0);
  EXPECT_EQ(r.ops[0].stat.ephemeral_owner, 0);
  EXPECT_EQ(node_kind(INT64_MIN), NodeKind::kContainer);
  EXPECT_EQ(tree.containers(), (std::set<std::string>{"/c"}));
  EXPECT_TRUE(tree.ephemerals(INT64_MIN).empty());
  EXPECT_TRUE(tree.ephemeral_counts().empty());

  // Containers hold children (they are not ephemeral).
  ASSERT_EQ(create("/c/x"), ErrorCode::kOk);
  EXPECT_EQ(run(delete_container_op("/c")).err, ErrorCode::kNotEmpty);
  ASSERT_EQ(run(delete_op("/c/x")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/c")->cversion, 1);  // what the container manager looks at
  EXPECT_EQ(stat("/c").cversion, 2);
  EXPECT_EQ(tree.find("/c")->ephemeral_owner, INT64_MIN);
  EXPECT_EQ(run(delete_container_op("/c")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.find("/c"), nullptr);
  EXPECT_TRUE(tree.containers().empty());
  EXPECT_EQ(run(delete_container_op("/c")).err, ErrorCode::kNoNode);

  // deleteContainer refuses session ephemerals (ZooKeeper answers BADVERSION).
  ASSERT_EQ(create("/eph", "", CreateMode::kEphemeral), ErrorCode::kOk);
  EXPECT_EQ(run(delete_container_op("/eph")).err, ErrorCode::kBadVersion);
  EXPECT_EQ(run(delete_container_op("/zookeeper")).err, ErrorCode::kBadArguments);
}

TEST_F(TreeTest, TtlNodes) {
  ApplyResult r =
      run(create_op("/t", "d", CreateMode::kPersistentWithTtl, OpCode::kCreateTtl, 1000));
  ASSERT_EQ(r.err, ErrorCode::kOk);
  // The tree keeps the TTL encoding; clients see no owner (getClientEphemeralOwner).
  int64_t owner = tree.find("/t")->ephemeral_owner;
  EXPECT_EQ(static_cast<uint64_t>(owner), 0xff000000000003e8ull);
  EXPECT_EQ(node_kind(owner), NodeKind::kTtl);
  EXPECT_EQ(ttl_of(owner), 1000);
  EXPECT_EQ(stat("/t").ephemeral_owner, 0);
  EXPECT_EQ(r.ops[0].stat.ephemeral_owner, 0);
  EXPECT_EQ(tree.ttl_nodes(), (std::set<std::string>{"/t"}));
  EXPECT_TRUE(tree.ephemeral_counts().empty());
  EXPECT_EQ(create("/t/child"), ErrorCode::kOk);  // TTL nodes are not ephemeral

  ApplyResult seq = run(create_op("/s-", "", CreateMode::kPersistentSequentialWithTtl,
                                  OpCode::kCreateTtl, kMaxTtlMs));
  ASSERT_EQ(seq.err, ErrorCode::kOk);
  EXPECT_EQ(seq.ops[0].path, "/s-0000000001");  // the root's one creation so far: /t
  EXPECT_EQ(node_kind(tree.find(seq.ops[0].path)->ephemeral_owner), NodeKind::kTtl);
  EXPECT_EQ(ttl_of(tree.find(seq.ops[0].path)->ephemeral_owner), kMaxTtlMs);
  EXPECT_EQ(stat(seq.ops[0].path).ephemeral_owner, 0);
  EXPECT_EQ(seq.ops[0].stat.ephemeral_owner, 0);
  EXPECT_EQ(tree.ttl_nodes().size(), 2u);

  ASSERT_EQ(run(delete_op("/t/child")).err, ErrorCode::kOk);
  ASSERT_EQ(run(delete_op("/t")).err, ErrorCode::kOk);
  EXPECT_EQ(tree.ttl_nodes().size(), 1u);
}

TEST_F(TreeTest, TtlValidation) {
  auto ttl_create = [&](CreateMode mode, OpCode type, int64_t ttl) {
    return run(create_op("/t", "", mode, type, ttl)).err;
  };
  EXPECT_EQ(ttl_create(CreateMode::kPersistentWithTtl, OpCode::kCreateTtl, 0),
            ErrorCode::kBadArguments);
  EXPECT_EQ(ttl_create(CreateMode::kPersistentWithTtl, OpCode::kCreateTtl, -5),
            ErrorCode::kBadArguments);
  EXPECT_EQ(ttl_create(CreateMode::kPersistentWithTtl, OpCode::kCreateTtl, kMaxTtlMs + 1),
            ErrorCode::kBadArguments);
  // A TTL mode without the TTL opcode (ttl -1), or a ttl on a non-TTL mode.
  EXPECT_EQ(ttl_create(CreateMode::kPersistentWithTtl, OpCode::kCreate2, 0),
            ErrorCode::kBadArguments);
  EXPECT_EQ(ttl_create(CreateMode::kPersistent, OpCode::kCreateTtl, 100), ErrorCode::kBadArguments);
  EXPECT_EQ(ttl_create(CreateMode::kEphemeral, OpCode::kCreateTtl, 0), ErrorCode::kBadArguments);
  EXPECT_EQ(tree.find("/t"), nullptr);

  // Without extendedTypesEnabled TTL nodes are unimplemented, before any other check.
  TxnPrep plain(tree, /*extended_types=*/false);
  Txn t = plain.prepare(
      ctx(), create_op("/t", "", CreateMode::kPersistentWithTtl, OpCode::kCreateTtl, 1000));
  EXPECT_EQ(t.type, OpCode::kError);
  EXPECT_EQ(t.err, ErrorCode::kUnimplemented);
  t = plain.prepare(
      ctx(), create_op("/t", "", CreateMode::kPersistentSequentialWithTtl, OpCode::kCreateTtl, 0));
  EXPECT_EQ(t.err, ErrorCode::kUnimplemented);
  t = plain.prepare(
      ctx(), create_op("/missing/t", "", CreateMode::kPersistentWithTtl, OpCode::kCreateTtl, 1000));
  EXPECT_EQ(t.err, ErrorCode::kUnimplemented);
  // Containers need no extended types.
  t = plain.prepare(ctx(), create_op("/c", "", CreateMode::kContainer, OpCode::kCreateContainer));
  EXPECT_EQ(t.type, OpCode::kCreateContainer);
}

// --- multi -------------------------------------------------------------------------------------

TEST_F(TreeTest, MultiSuccessAppliesAll) {
  int64_t before = zxid;
  ApplyResult r = run_multi({create_op("/m", "a"), create_op("/m/x"), set_data_op("/m", "b", 0),
                             check_op("/m", 1), delete_op("/m/x")});
  EXPECT_EQ(zxid, before + 1);  // one Txn, one zxid
  ASSERT_EQ(r.err, ErrorCode::kOk);
  ASSERT_EQ(r.ops.size(), 5u);
  for (const auto& op : r.ops) EXPECT_EQ(op.err, ErrorCode::kOk);
  EXPECT_EQ(r.ops[0].type, OpCode::kCreate2);
  EXPECT_EQ(r.ops[1].path, "/m/x");
  EXPECT_EQ(r.ops[2].type, OpCode::kSetData);
  EXPECT_EQ(r.ops[2].stat.version, 1);
  EXPECT_TRUE(r.ops[2].path.empty()) << "only a create's result names its path";
  EXPECT_EQ(r.ops[3].type, OpCode::kCheck);
  EXPECT_EQ(r.ops[4].type, OpCode::kDelete);
  wire::Stat m = stat("/m");
  EXPECT_EQ(m.czxid, zxid);
  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(m.aversion, 0);
  EXPECT_EQ(tree.find("/m")->cversion, 1);  // one creation...
  EXPECT_EQ(m.cversion, 2);                 // ...and one deletion
  EXPECT_EQ(m.num_children, 0);
  EXPECT_EQ(tree.find("/m")->data, "b");
  EXPECT_EQ(tree.find("/m/x"), nullptr);
}

TEST_F(TreeTest, MultiFailureChangesNothing) {
  ASSERT_EQ(create("/existing", "keep"), ErrorCode::kOk);
  std::vector<std::string> paths = tree.paths();
  wire::Stat root = stat("/");
  wire::Stat existing = stat("/existing");

  Txn txn = prep.prepare_multi(
      ctx(), {create_op("/x"), set_data_op("/existing", "changed"), set_data_op("/missing", "y"),
              create_op("/y"), delete_op("/existing")});
  EXPECT_EQ(txn.type, OpCode::kMulti);
  ASSERT_EQ(txn.ops.size(), 5u);
  const ErrorCode want[] = {ErrorCode::kOk, ErrorCode::kOk, ErrorCode::kNoNode,
                            ErrorCode::kRuntimeInconsistency, ErrorCode::kRuntimeInconsistency};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(txn.ops[i].type, OpCode::kError) << i;
    EXPECT_EQ(txn.ops[i].err, want[i]) << i;
  }
  ApplyResult r = commit(txn);
  EXPECT_EQ(r.err, ErrorCode::kNoNode);
  ASSERT_EQ(r.ops.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.ops[i].type, OpCode::kError) << i;
    EXPECT_EQ(r.ops[i].err, want[i]) << i;
  }
  EXPECT_TRUE(r.triggers.empty());
  EXPECT_EQ(tree.paths(), paths);
  EXPECT_EQ(stat("/"), root);
  EXPECT_EQ(stat("/existing"), existing);
  EXPECT_EQ(tree.find("/existing")->data, "keep");

  // The failed multi left no outstanding changes behind: /x is free, /existing is at version 0.
  EXPECT_EQ(create("/x"), ErrorCode::kOk);
  EXPECT_EQ(run(set_data_op("/existing", "v", 0)).err, ErrorCode::kOk);
}

TEST_F(TreeTest, MultiFailureAtFirstAndLastOp) {
  ApplyResult first = run_multi({check_op("/nope", -1), create_op("/a")});
  EXPECT_EQ(first.err, ErrorCode::kNoNode);
  ASSERT_EQ(first.ops.size(), 2u);
  EXPECT_EQ(first.ops[0].err, ErrorCode::kNoNode);
  EXPECT_EQ(first.ops[1].err, ErrorCode::kRuntimeInconsistency);

  ApplyResult last = run_multi({create_op("/a"), create_op("/a")});
  EXPECT_EQ(last.err, ErrorCode::kNodeExists);
  ASSERT_EQ(last.ops.size(), 2u);
  EXPECT_EQ(last.ops[0].err, ErrorCode::kOk);
  EXPECT_EQ(last.ops[1].err, ErrorCode::kNodeExists);
  EXPECT_EQ(tree.find("/a"), nullptr);

  ApplyResult version = run_multi({create_op("/a"), check_op("/a", 3)});
  EXPECT_EQ(version.err, ErrorCode::kBadVersion);
  EXPECT_EQ(tree.find("/a"), nullptr);

  ApplyResult empty = run_multi({});
  EXPECT_EQ(empty.err, ErrorCode::kOk);
  EXPECT_TRUE(empty.ops.empty());
}

TEST_F(TreeTest, MultiCreatesThenDeletesSameNode) {
  wire::Stat root = stat("/");
  ApplyResult r = run_multi(
      {create_op("/tmp", "x"), create_op("/tmp/c"), delete_op("/tmp/c"), delete_op("/tmp")});
  ASSERT_EQ(r.err, ErrorCode::kOk);
  ASSERT_EQ(r.ops.size(), 4u);
  EXPECT_EQ(tree.find("/tmp"), nullptr);
  EXPECT_EQ(tree.data_bytes(), 0);
  wire::Stat now = stat("/");
  // One creation and one deletion under the root.
  EXPECT_EQ(root.cversion, -1);
  EXPECT_EQ(now.cversion, 1);
  EXPECT_EQ(tree.find("/")->cversion, 1);
  EXPECT_EQ(now.pzxid, zxid);
  EXPECT_EQ(now.num_children, root.num_children);
  // Both creates and both deletes fire.
  int created = 0, deleted = 0;
  for (const auto& t : r.triggers) {
    created += t.type == EventType::kNodeCreated;
    deleted += t.type == EventType::kNodeDeleted;
  }
  EXPECT_EQ(created, 2);
  EXPECT_EQ(deleted, 2);
}

TEST_F(TreeTest, MultiSeesItsOwnEarlierOps) {
  ASSERT_EQ(create("/q"), ErrorCode::kOk);
  ApplyResult r = run_multi({create_op("/q/s-", "", CreateMode::kPersistentSequential),
                             create_op("/q/s-", "", CreateMode::kPersistentSequential),
                             create_op("/q/e", "", CreateMode::kEphemeral), create_op("/q/e/x")});
  EXPECT_EQ(r.err, ErrorCode::kNoChildrenForEphemerals);
  EXPECT_EQ(stat("/q").cversion, 0);

  r = run_multi({create_op("/q/s-", "", CreateMode::kPersistentSequential),
                 create_op("/q/s-", "", CreateMode::kPersistentSequential)});
  ASSERT_EQ(r.err, ErrorCode::kOk);
  EXPECT_EQ(r.ops[0].path, "/q/s-0000000000");
  EXPECT_EQ(r.ops[1].path, "/q/s-0000000001");
}

// --- the outstanding-change overlay ------------------------------------------------------------

TEST_F(TreeTest, PreparedButUnappliedChangesAreVisible) {
  ASSERT_EQ(create("/q"), ErrorCode::kOk);
  // Two Txns in the pipeline before either is applied.
  Txn a = prep.prepare(ctx(), create_op("/q/n-", "", CreateMode::kPersistentSequential));
  Txn b = prep.prepare(ctx(), create_op("/q/n-", "", CreateMode::kPersistentSequential));
  ASSERT_EQ(a.type, OpCode::kCreate2);
  ASSERT_EQ(b.type, OpCode::kCreate2);
  EXPECT_EQ(a.ops[0].path, "/q/n-0000000000");
  EXPECT_EQ(b.ops[0].path, "/q/n-0000000001");
  EXPECT_EQ(b.ops[0].parent_cversion, 2);

  Txn dup1 = prep.prepare(ctx(), create_op("/q/dup"));
  Txn dup2 = prep.prepare(ctx(), create_op("/q/dup"));
  EXPECT_EQ(dup1.type, OpCode::kCreate2);
  EXPECT_EQ(dup2.type, OpCode::kError);
  EXPECT_EQ(dup2.err, ErrorCode::kNodeExists);

  // A child of a node that exists only in the pipeline; a version bumped only in the pipeline.
  Txn child = prep.prepare(ctx(), create_op("/q/dup/c"));
  EXPECT_EQ(child.type, OpCode::kCreate2);
  Txn set1 = prep.prepare(ctx(), set_data_op("/q/dup", "1", 0));
  Txn set2 = prep.prepare(ctx(), set_data_op("/q/dup", "2", 1));
  EXPECT_EQ(set1.type, OpCode::kSetData);
  EXPECT_EQ(set2.type, OpCode::kSetData);
  EXPECT_EQ(set2.ops[0].version, 2);
  Txn del = prep.prepare(ctx(), delete_op("/q/dup"));
  EXPECT_EQ(del.err, ErrorCode::kNotEmpty);
  EXPECT_EQ(tree.find("/q/n-0000000000"), nullptr);  // nothing applied yet

  for (const Txn* t : {&a, &b, &dup1, &dup2, &child, &set1, &set2, &del}) commit(*t);
  EXPECT_NE(tree.find("/q/n-0000000000"), nullptr);
  EXPECT_NE(tree.find("/q/n-0000000001"), nullptr);
  EXPECT_NE(tree.find("/q/dup/c"), nullptr);
  EXPECT_EQ(stat("/q/dup").version, 2);
  EXPECT_EQ(tree.find("/q/dup")->data, "2");
  EXPECT_EQ(stat("/q").cversion, 3);
  // After applying, prep reads the tree again.
  EXPECT_EQ(created_path("/q/n-", CreateMode::kPersistentSequential), "/q/n-0000000003");
}

// A failed multi rolls back to the pipeline's view (the records of earlier unapplied Txns),
// not to the tree's; applying a Txn forgets only the records it made, not those a later
// change of the same path replaced them with.
TEST_F(TreeTest, FailedMultiRestoresThePipelineAndApplyingForgetsOnlyItsOwnRecords) {
  ASSERT_EQ(create("/p"), ErrorCode::kOk);
  Txn set1 = prep.prepare(ctx(), set_data_op("/p", "1", 0));
  ASSERT_EQ(set1.type, OpCode::kSetData);
  Txn failed = prep.prepare_multi(
      ctx(), {set_data_op("/p", "2", 1), create_op("/n"), check_op("/missing", -1)});
  ASSERT_EQ(failed.ops.size(), 3u);
  EXPECT_EQ(failed.ops[2].err, ErrorCode::kNoNode);
  // /p is at version 1 in the pipeline (the multi's 2 is undone, set1's 1 is not), /n is free.
  Txn set2 = prep.prepare(ctx(), set_data_op("/p", "2", 1));
  EXPECT_EQ(set2.type, OpCode::kSetData);
  Txn n = prep.prepare(ctx(), create_op("/n"));
  EXPECT_EQ(n.type, OpCode::kCreate2);
  commit(set1);
  commit(failed);
  // set2's record of /p outlives set1's: the pipeline still has /p at version 2.
  Txn set3 = prep.prepare(ctx(), set_data_op("/p", "3", 2));
  EXPECT_EQ(set3.type, OpCode::kSetData);
  for (const Txn* t : {&set2, &n, &set3}) commit(*t);
  EXPECT_EQ(stat("/p").version, 3);
  EXPECT_NE(tree.find("/n"), nullptr);
  // Everything applied: prep reads the tree again.
  EXPECT_EQ(run(set_data_op("/p", "4", 3)).err, ErrorCode::kOk);
  EXPECT_EQ(create("/n"), ErrorCode::kNodeExists);
}

// A failed multi that changed a path twice, or made and removed one, undoes each to what the
// pipeline held before the multi's first change of it.
TEST_F(TreeTest, AFailedMultiUndoesAPathItChangedTwiceToItsFirstRecord) {
  ASSERT_EQ(create("/p"), ErrorCode::kOk);
  Txn set1 = prep.prepare(ctx(), set_data_op("/p", "1", 0));
  ASSERT_EQ(set1.type, OpCode::kSetData);
  Txn failed =
      prep.prepare_multi(ctx(), {set_data_op("/p", "2", 1), set_data_op("/p", "3", 2),
                                 create_op("/n"), delete_op("/n"), check_op("/missing", -1)});
  ASSERT_EQ(failed.ops.size(), 5u);
  EXPECT_EQ(failed.ops[4].err, ErrorCode::kNoNode);
  // /p is at version 1 (set1's), not 2 (the multi's first set's); /n is free.
  Txn stale = prep.prepare(ctx(), set_data_op("/p", "x", 2));
  EXPECT_EQ(stale.type, OpCode::kError);
  EXPECT_EQ(stale.err, ErrorCode::kBadVersion);
  Txn set2 = prep.prepare(ctx(), set_data_op("/p", "2", 1));
  EXPECT_EQ(set2.type, OpCode::kSetData);
  Txn no_n = prep.prepare(ctx(), delete_op("/n"));
  EXPECT_EQ(no_n.type, OpCode::kError);
  EXPECT_EQ(no_n.err, ErrorCode::kNoNode);
  Txn n = prep.prepare(ctx(), create_op("/n"));
  EXPECT_EQ(n.type, OpCode::kCreate2);
  for (const Txn* t : {&set1, &failed, &stale, &set2, &no_n, &n}) commit(*t);
  EXPECT_EQ(stat("/p").version, 2);
  EXPECT_EQ(tree.find("/p")->data, "2");
  EXPECT_NE(tree.find("/n"), nullptr);
}

TEST_F(TreeTest, PreparedDeleteAndCloseSessionAreVisible) {
  ASSERT_EQ(create("/p"), ErrorCode::kOk);
  ASSERT_EQ(create("/p/c"), ErrorCode::kOk);
  ASSERT_EQ(create("/p/eph", "", CreateMode::kEphemeral), ErrorCode::kOk);
  Txn del = prep.prepare(ctx(), delete_op("/p/c"));
  Txn close = prep.prepare_close_session(ctx());
  // Both of /p's children are gone as far as prep can tell.
  Txn del_p = prep.prepare(ctx(kOtherSession), delete_op("/p"));
  EXPECT_EQ(del_p.type, OpCode::kDelete);
  Txn again = prep.prepare(ctx(kOtherSession), delete_op("/p/c"));
  EXPECT_EQ(again.err, ErrorCode::kNoNode);
  Txn recreate = prep.prepare(ctx(kOtherSession), create_op("/p/eph"));
  EXPECT_EQ(recreate.err, ErrorCode::kNoNode);  // /p is being deleted too
  for (const Txn* t : {&del, &close, &del_p, &again, &recreate}) commit(*t);
  EXPECT_EQ(tree.find("/p"), nullptr);
  EXPECT_TRUE(tree.ephemerals(kSession).empty());
}

// --- queries -----------------------------------------------------------------------------------

TEST_F(TreeTest, DescendantCountAndPaths) {
  for (const char* p : {"/d", "/d/b", "/d/b/y", "/d/a", "/d/a/z", "/d/a/x", "/e"})
    ASSERT_EQ(create(p), ErrorCode::kOk) << p;
  EXPECT_EQ(tree.descendant_count("/d"), 5);
  EXPECT_EQ(tree.descendant_count("/d/a"), 2);
  EXPECT_EQ(tree.descendant_count("/d/a/x"), 0);
  EXPECT_EQ(tree.descendant_count("/missing"), 0);
  EXPECT_EQ(tree.descendant_count("/zookeeper"), 2);
  EXPECT_EQ(tree.descendant_count("/"), 10);
  // Depth-first preorder, children by name.
  EXPECT_EQ(tree.paths(),
            (std::vector<std::string>{"/", "/d", "/d/a", "/d/a/x", "/d/a/z", "/d/b", "/d/b/y", "/e",
                                      "/zookeeper", "/zookeeper/config", "/zookeeper/quota"}));
  EXPECT_EQ(tree.paths().size(), tree.node_count());
}

TEST_F(TreeTest, AclsAreShared) {
  ASSERT_EQ(create("/a"), ErrorCode::kOk);
  ASSERT_EQ(create("/b"), ErrorCode::kOk);
  EXPECT_EQ(tree.find("/a")->acl.get(), tree.find("/b")->acl.get());
  EXPECT_EQ(tree.find("/a")->acl.get(), tree.find("/")->acl.get());
}

// A deleted node's list stays with its trigger (a watcher's READ is checked against it), and
// lists that no node holds any longer leave the tree's table when it has grown: a client that
// creates and deletes nodes with a new list each time must not grow it without end.
TEST_F(TreeTest, AclListsNoNodeHoldsAreDropped) {
  auto ip_acl = [](int i) {
    return wire::AclList{
        {wire::perms::kAll,
         {"ip", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)}}};
  };
  auto create_with = [&](const std::string& path, int i) {
    WriteOp op = create_op(path);
    std::get<wire::CreateRequest>(op.body).acl = ip_acl(i);
    return run(op).err;
  };
  ASSERT_EQ(create_with("/kept", 0), ErrorCode::kOk);
  // The first deletion's trigger is held through the sweeps the later ones cause.
  ApplyResult first;
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_EQ(create_with("/n", i), ErrorCode::kOk) << i;
    ApplyResult r = run(delete_op("/n"));
    ASSERT_EQ(r.triggers.size(), 2u);
    ASSERT_EQ(*r.triggers[0].acl, ip_acl(i)) << i;
    if (i == 1) first = std::move(r);
  }
  EXPECT_EQ(*first.triggers[0].acl, ip_acl(1));
  EXPECT_LE(tree.shared_acl_count(), 64u);
  // A list a node still holds stays shared.
  ASSERT_EQ(create_with("/again", 0), ErrorCode::kOk);
  EXPECT_EQ(*tree.find("/kept")->acl, ip_acl(0));
  EXPECT_EQ(tree.find("/kept")->acl, tree.find("/again")->acl);
}

}  // namespace
}  // namespace corral::tree
