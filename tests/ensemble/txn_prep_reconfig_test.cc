// TxnPrep's side of reconfig and skipACL: prepare_reconfig's WRITE check on /zookeeper/config
// (outstanding setACLs count, super passes) and ZooKeeper's SetDataTxn, and skipACL=yes turning
// every write's ACL check off.
#include <gtest/gtest.h>

#include <string>

#include "ensemble/tree/acl.h"
#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn_prep.h"

namespace corral::tree {
namespace {

using wire::ErrorCode;
using wire::OpCode;
namespace perms = wire::perms;

class PrepareReconfigTest : public ::testing::Test {
 protected:
  PrepContext ctx(const AuthIds& ids) { return PrepContext{0x42, ++cxid, ++zxid, 1000, &ids}; }

  Txn set_config_acl(const wire::AclList& acl) {
    WriteOp op{OpCode::kSetAcl, wire::SetAclRequest{"/zookeeper/config", acl, -1}};
    return prep.prepare(ctx(super), op);
  }

  DataTree tree;
  TxnPrep prep{tree, true};
  int64_t zxid = 0x100000004;
  int32_t cxid = 0;
  AuthIds stranger{{"ip", "127.0.0.1"}};
  AuthIds alice{{"ip", "127.0.0.1"}, {"digest", digest_of("alice:secret")}};
  AuthIds super{{"ip", "127.0.0.1"}, {"super", ""}};
};

TEST_F(PrepareReconfigTest, WithoutWriteOnTheConfigNodeItIsNoAuth) {
  // kazoo's test_no_super_auth: /zookeeper/config is world:anyone:r.
  Txn txn = prep.prepare_reconfig(ctx(stranger), "server.1=a:1:2:participant\nversion=1");
  EXPECT_EQ(txn.type, OpCode::kError);
  EXPECT_EQ(txn.err, ErrorCode::kNoAuth);
  EXPECT_TRUE(txn.ops.empty());
}

TEST_F(PrepareReconfigTest, SuperGetsZooKeepersSetDataTxn) {
  std::string text = "server.1=a:1:2:participant\nversion=100000005";
  Txn txn = prep.prepare_reconfig(ctx(super), text);
  EXPECT_EQ(txn.type, OpCode::kReconfig);
  EXPECT_EQ(txn.zxid, 0x100000005);
  EXPECT_EQ(txn.session_id, 0x42);
  ASSERT_EQ(txn.ops.size(), 1u);
  EXPECT_EQ(txn.ops[0].type, OpCode::kSetData);
  EXPECT_EQ(txn.ops[0].path, "/zookeeper/config");
  EXPECT_EQ(txn.ops[0].data, text);
  EXPECT_EQ(txn.ops[0].version, -1);
  // Applied like setData: the node stores version -1 and the zxid.
  tree.apply(txn);
  const Node* n = tree.find("/zookeeper/config");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->data, text);
  EXPECT_EQ(n->stat().version, -1);
  EXPECT_EQ(n->stat().mzxid, 0x100000005);
}

TEST_F(PrepareReconfigTest, AnOutstandingSetAclCounts) {
  // Prepared, not yet applied: prep sees it as ZooKeeper's outstanding ChangeRecord.
  ASSERT_EQ(
      set_config_acl({{perms::kRead | perms::kWrite, {"digest", digest_of("alice:secret")}}}).type,
      OpCode::kSetAcl);
  EXPECT_EQ(prep.prepare_reconfig(ctx(alice), "version=1").type, OpCode::kReconfig);
  EXPECT_EQ(prep.prepare_reconfig(ctx(stranger), "version=1").err, ErrorCode::kNoAuth);
  ASSERT_EQ(set_config_acl({{perms::kRead, {"world", "anyone"}}}).type, OpCode::kSetAcl);
  EXPECT_EQ(prep.prepare_reconfig(ctx(alice), "version=1").err, ErrorCode::kNoAuth);
}

TEST_F(PrepareReconfigTest, SkipAclLetsAnyoneReconfigure) {
  TxnPrep skipping(tree, true, /*skip_acl=*/true);
  EXPECT_EQ(skipping.prepare_reconfig(ctx(stranger), "version=1").type, OpCode::kReconfig);
}

// skipACL=yes: every write's ACL check is off (ZooKeeperServer.checkACL returns at once);
// the other checks stay. With the default, the same writes are refused.
TEST(PrepSkipAcl, EveryWriteIgnoresAcls) {
  for (bool skip : {false, true}) {
    DataTree tree;
    TxnPrep prep(tree, true, skip);
    int64_t zxid = 0x100;
    AuthIds owner{{"ip", "127.0.0.1"}, {"digest", digest_of("alice:secret")}};
    AuthIds stranger{{"ip", "127.0.0.1"}};
    auto run = [&](const WriteOp& op, const AuthIds& ids) {
      Txn txn = prep.prepare(PrepContext{0x42, 1, ++zxid, 1000, &ids}, op);
      tree.apply(txn);
      prep.applied(txn.zxid);
      return txn.type == OpCode::kError ? txn.err : ErrorCode::kOk;
    };
    wire::AclList alice_only{{perms::kAll, {"digest", digest_of("alice:secret")}}};
    auto create = [&](const std::string& path) {
      return WriteOp{OpCode::kCreate, wire::CreateRequest{path, "", false, alice_only, 0, 0}};
    };
    ASSERT_EQ(run(create("/locked"), owner), ErrorCode::kOk);
    ASSERT_EQ(run(create("/locked/child"), owner), ErrorCode::kOk);
    ErrorCode want = skip ? ErrorCode::kOk : ErrorCode::kNoAuth;
    SCOPED_TRACE(skip ? "skipACL=yes" : "default");
    EXPECT_EQ(run(create("/locked/new"), stranger), want);
    EXPECT_EQ(run({OpCode::kCheck, wire::PathVersionRequest{"/locked/child", -1}}, stranger), want);
    EXPECT_EQ(
        run({OpCode::kSetData, wire::SetDataRequest{"/locked/child", "x", false, -1}}, stranger),
        want);
    EXPECT_EQ(
        run({OpCode::kSetAcl, wire::SetAclRequest{"/locked/child", alice_only, -1}}, stranger),
        want);
    EXPECT_EQ(run({OpCode::kDelete, wire::PathVersionRequest{"/locked/child", -1}}, stranger),
              want);
    // Checks other than ACLs still apply.
    EXPECT_EQ(run({OpCode::kDelete, wire::PathVersionRequest{"/none", -1}}, stranger),
              ErrorCode::kNoNode);
  }
}

}  // namespace
}  // namespace corral::tree
