// ACLs: the world, digest, ip and super schemes, fixupACL, and the permission
// each write needs in TxnPrep (ZooKeeper's PrepRequestProcessor checks).
#include "ensemble/tree/acl.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ensemble/tree/data_tree.h"
#include "ensemble/tree/txn_prep.h"

namespace corral::tree {
namespace {

using wire::ErrorCode;
using wire::OpCode;
namespace perms = wire::perms;

const wire::Id kAnyone{"world", "anyone"};

// --- digest_of ---------------------------------------------------------------------------------

TEST(DigestOf, MatchesZooKeeperDigestAuthenticationProvider) {
  // echo -n super:test | openssl sha1 -binary | base64
  EXPECT_EQ(digest_of("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_EQ(digest_of("alice:secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
  // Only the user part before the first ':' names the id; the hash covers everything.
  EXPECT_NE(digest_of("alice:secret2"), digest_of("alice:secret"));
  EXPECT_EQ(digest_of("alice:se:cret").rfind("alice:", 0), 0u);
}

// --- acl_allows --------------------------------------------------------------------------------

TEST(AclAllows, WorldAnyone) {
  wire::AclList acl{{perms::kRead | perms::kWrite, kAnyone}};
  AuthIds none;
  EXPECT_TRUE(acl_allows(acl, perms::kRead, none));
  EXPECT_TRUE(acl_allows(acl, perms::kWrite, none));
  EXPECT_FALSE(acl_allows(acl, perms::kCreate, none));
  EXPECT_FALSE(acl_allows(acl, perms::kDelete, none));
  EXPECT_FALSE(acl_allows(acl, perms::kAdmin, none));
  // world:someone-else is not "anyone".
  EXPECT_FALSE(acl_allows({{perms::kAll, {"world", "nobody"}}}, perms::kRead, none));
}

TEST(AclAllows, EmptyAclAllowsEverything) {
  EXPECT_TRUE(acl_allows({}, perms::kAll, {}));
  EXPECT_TRUE(acl_allows({}, perms::kAdmin, {{"ip", "10.0.0.1"}}));
}

TEST(AclAllows, Digest) {
  wire::AclList acl{{perms::kRead, {"digest", digest_of("alice:secret")}},
                    {perms::kWrite, {"digest", digest_of("bob:pw")}}};
  AuthIds alice{{"ip", "127.0.0.1"}, {"digest", digest_of("alice:secret")}};
  AuthIds bob{{"digest", digest_of("bob:pw")}};
  AuthIds mallory{{"digest", digest_of("alice:guess")}};
  EXPECT_TRUE(acl_allows(acl, perms::kRead, alice));
  EXPECT_FALSE(acl_allows(acl, perms::kWrite, alice));
  EXPECT_TRUE(acl_allows(acl, perms::kWrite, bob));
  EXPECT_FALSE(acl_allows(acl, perms::kRead, bob));
  EXPECT_FALSE(acl_allows(acl, perms::kRead, mallory));
  EXPECT_FALSE(acl_allows(acl, perms::kRead, {}));
  // Scheme matters: the same text under another scheme is another identity.
  EXPECT_FALSE(acl_allows(acl, perms::kRead, {{"ip", digest_of("alice:secret")}}));
}

TEST(AclAllows, SuperPassesEverything) {
  wire::AclList acl{{perms::kRead, {"digest", digest_of("alice:secret")}}};
  AuthIds super{{"ip", "127.0.0.1"}, {"super", ""}};
  for (int32_t p : {perms::kRead, perms::kWrite, perms::kCreate, perms::kDelete, perms::kAdmin})
    EXPECT_TRUE(acl_allows(acl, p, super)) << p;
  EXPECT_TRUE(acl_allows({{0, kAnyone}}, perms::kRead, super));
}

TEST(AclAllows, IpIdentity) {
  wire::AclList acl{{perms::kRead, {"ip", "10.0.0.0/8"}}, {perms::kAll, {"ip", "192.168.1.7"}}};
  EXPECT_TRUE(acl_allows(acl, perms::kRead, {{"ip", "10.20.30.40"}}));
  EXPECT_FALSE(acl_allows(acl, perms::kWrite, {{"ip", "10.20.30.40"}}));
  EXPECT_TRUE(acl_allows(acl, perms::kWrite, {{"ip", "192.168.1.7"}}));
  EXPECT_FALSE(acl_allows(acl, perms::kRead, {{"ip", "192.168.1.8"}}));
  EXPECT_FALSE(acl_allows(acl, perms::kRead, {{"digest", "10.0.0.1"}}));
}

// --- ip_matches / ip_id_valid ------------------------------------------------------------------

TEST(IpMatches, ExactIpv4) {
  EXPECT_TRUE(ip_matches("10.0.0.1", "10.0.0.1"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "10.0.0.2"));
  EXPECT_TRUE(ip_matches("10.0.0.1/32", "10.0.0.1"));
  EXPECT_FALSE(ip_matches("10.0.0.1/32", "10.0.0.2"));
}

TEST(IpMatches, CidrIpv4) {
  EXPECT_TRUE(ip_matches("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(ip_matches("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(ip_matches("192.168.1.0/25", "192.168.1.127"));
  EXPECT_FALSE(ip_matches("192.168.1.0/25", "192.168.1.128"));
  EXPECT_TRUE(ip_matches("172.16.0.0/12", "172.31.255.255"));
  EXPECT_FALSE(ip_matches("172.16.0.0/12", "172.32.0.0"));
  // Host bits in the rule are ignored, as in ZooKeeper's mask comparison.
  EXPECT_TRUE(ip_matches("10.1.2.3/8", "10.9.9.9"));
  EXPECT_TRUE(ip_matches("0.0.0.0/0", "203.0.113.9"));
}

TEST(IpMatches, Ipv6) {
  EXPECT_TRUE(ip_matches("::1", "::1"));
  EXPECT_TRUE(ip_matches("::1", "0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(ip_matches("::1", "::2"));
  EXPECT_TRUE(ip_matches("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(ip_matches("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(ip_matches("fe80::/10", "febf::1"));
  EXPECT_FALSE(ip_matches("fe80::/10", "fec0::1"));
  EXPECT_TRUE(ip_matches("2001:db8::1/128", "2001:db8::1"));
}

TEST(IpMatches, FamiliesAndGarbageDoNotMatch) {
  EXPECT_FALSE(ip_matches("10.0.0.1", "::ffff:10.0.0.1"));
  EXPECT_FALSE(ip_matches("::/0", "10.0.0.1"));
  EXPECT_FALSE(ip_matches("0.0.0.0/0", "::1"));
  EXPECT_FALSE(ip_matches("10.0.0.1", "not-an-ip"));
  EXPECT_FALSE(ip_matches("bogus", "10.0.0.1"));
  EXPECT_FALSE(ip_matches("10.0.0.0/33", "10.0.0.1"));
}

TEST(IpIdValid, Forms) {
  EXPECT_TRUE(ip_id_valid("10.0.0.1"));
  EXPECT_TRUE(ip_id_valid("10.0.0.0/8"));
  EXPECT_TRUE(ip_id_valid("10.0.0.0/0"));
  EXPECT_TRUE(ip_id_valid("10.0.0.0/32"));
  EXPECT_TRUE(ip_id_valid("::1"));
  EXPECT_TRUE(ip_id_valid("2001:db8::/128"));
  EXPECT_FALSE(ip_id_valid("10.0.0.0/33"));
  EXPECT_FALSE(ip_id_valid("2001:db8::/129"));
  EXPECT_FALSE(ip_id_valid("10.0.0.0/"));
  EXPECT_FALSE(ip_id_valid("10.0.0.0/-1"));
  EXPECT_FALSE(ip_id_valid("10.0.0.0/x"));
  EXPECT_FALSE(ip_id_valid("300.1.1.1"));
  EXPECT_FALSE(ip_id_valid("10.0.0"));
  EXPECT_FALSE(ip_id_valid("host.example.com"));
  EXPECT_FALSE(ip_id_valid(""));
}

// --- fixup_acl ---------------------------------------------------------------------------------

TEST(FixupAcl, KeepsValidEntriesAndRemovesDuplicates) {
  wire::AclList in{{perms::kRead, kAnyone},
                   {perms::kAll, {"ip", "10.0.0.0/8"}},
                   {perms::kRead, kAnyone},
                   {perms::kAdmin, {"digest", "bob:hash"}},
                   {perms::kAll, {"ip", "10.0.0.0/8"}}};
  wire::AclList out;
  ASSERT_EQ(fixup_acl(in, {}, out), ErrorCode::kOk);
  EXPECT_EQ(out, (wire::AclList{{perms::kRead, kAnyone},
                                {perms::kAll, {"ip", "10.0.0.0/8"}},
                                {perms::kAdmin, {"digest", "bob:hash"}}}));
  // Same id with different perms is not a duplicate.
  ASSERT_EQ(fixup_acl({{perms::kRead, kAnyone}, {perms::kWrite, kAnyone}}, {}, out),
            ErrorCode::kOk);
  EXPECT_EQ(out.size(), 2u);
}

TEST(FixupAcl, AuthExpandsToDigestIdentitiesOnly) {
  AuthIds ids{
      {"ip", "127.0.0.1"}, {"digest", digest_of("alice:secret")}, {"digest", digest_of("bob:pw")}};
  wire::AclList out;
  ASSERT_EQ(fixup_acl({{perms::kRead | perms::kAdmin, {"auth", ""}}}, ids, out), ErrorCode::kOk);
  EXPECT_EQ(out,
            (wire::AclList{{perms::kRead | perms::kAdmin, {"digest", digest_of("alice:secret")}},
                           {perms::kRead | perms::kAdmin, {"digest", digest_of("bob:pw")}}}));
  // "auth" with only an ip identity (or none) has nobody to expand to.
  EXPECT_EQ(fixup_acl({{perms::kAll, {"auth", ""}}}, {{"ip", "127.0.0.1"}}, out),
            ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"auth", ""}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, kAnyone}, {perms::kAll, {"auth", ""}}}, {}, out),
            ErrorCode::kInvalidAcl);
}

TEST(FixupAcl, RejectsEmptyUnknownAndMalformed) {
  wire::AclList out;
  EXPECT_EQ(fixup_acl({}, {}, out), ErrorCode::kInvalidAcl);
  // sasl ids must read as Kerberos principals (sasl_core_test has the valid ones).
  EXPECT_EQ(fixup_acl({{perms::kAll, {"sasl", "a@b@c"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"foo", "bar"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"world", "nobody"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"super", ""}}}, {}, out), ErrorCode::kInvalidAcl);
  // A digest id is "user:hash": Java's split(":") must give exactly two parts.
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", "alice"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", "alice:"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", "a:b:c"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", ""}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", ":hash"}}}, {}, out), ErrorCode::kOk);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"digest", "alice:hash"}}}, {}, out), ErrorCode::kOk);
  // Bad ip ids.
  EXPECT_EQ(fixup_acl({{perms::kAll, {"ip", "300.1.1.1"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"ip", "10.0.0.0/40"}}}, {}, out), ErrorCode::kInvalidAcl);
  EXPECT_EQ(fixup_acl({{perms::kAll, {"ip", "localhost"}}}, {}, out), ErrorCode::kInvalidAcl);
  // One bad entry spoils the list.
  EXPECT_EQ(fixup_acl({{perms::kAll, kAnyone}, {perms::kAll, {"ip", "nope"}}}, {}, out),
            ErrorCode::kInvalidAcl);
}

// --- permissions each write needs --------------------------------------------------------------

class PrepAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // /locked is owned by alice; anyone may only read it.
    ASSERT_EQ(run(create("/locked", {{perms::kAll, alice_id}, {perms::kRead, kAnyone}}), alice).err,
              ErrorCode::kOk);
    ASSERT_EQ(run(create("/locked/child", {{perms::kAll, kAnyone}}), alice).err, ErrorCode::kOk);
  }

  static WriteOp create(const std::string& path, wire::AclList acl) {
    wire::CreateRequest req;
    req.path = path;
    req.acl = std::move(acl);
    return {OpCode::kCreate, req};
  }

  // The permission bits of an ACL for alice and world, on /locked.
  ErrorCode set_locked_acl(int32_t world_perms) {
    return run({OpCode::kSetAcl,
                wire::SetAclRequest{
                    "/locked", {{perms::kAll, alice_id}, {world_perms, kAnyone}}, -1}},
               alice)
        .err;
  }

  ApplyResult run(const WriteOp& op, const AuthIds& ids) {
    Txn txn = prep.prepare(PrepContext{1, 1, ++zxid, 1000, &ids}, op);
    ApplyResult r = tree.apply(txn);
    prep.applied(txn.zxid);
    return r;
  }

  DataTree tree;
  TxnPrep prep{tree, true};
  int64_t zxid = 0;
  wire::Id alice_id{"digest", digest_of("alice:secret")};
  AuthIds alice{{"ip", "127.0.0.1"}, alice_id};
  AuthIds stranger{{"ip", "127.0.0.1"}};
  AuthIds super{{"ip", "127.0.0.1"}, {"super", ""}};
};

TEST_F(PrepAclTest, CreateNeedsCreateOnParent) {
  EXPECT_EQ(run(create("/locked/x", {{perms::kAll, kAnyone}}), stranger).err, ErrorCode::kNoAuth);
  // The ACL check comes before NODEEXISTS (ZooKeeper checks the parent first).
  EXPECT_EQ(run(create("/locked/child", {{perms::kAll, kAnyone}}), stranger).err,
            ErrorCode::kNoAuth);
  ASSERT_EQ(set_locked_acl(perms::kCreate), ErrorCode::kOk);
  EXPECT_EQ(run(create("/locked/x", {{perms::kAll, kAnyone}}), stranger).err, ErrorCode::kOk);
  EXPECT_EQ(run(create("/locked/y", {{perms::kAll, kAnyone}}), alice).err, ErrorCode::kOk);
  EXPECT_EQ(run(create("/locked/z", {{perms::kAll, kAnyone}}), super).err, ErrorCode::kOk);
}

TEST_F(PrepAclTest, CreateChecksAclListBeforeParent) {
  // fixupACL runs before the parent lookup: a bad ACL under a missing parent is INVALIDACL.
  EXPECT_EQ(run(create("/missing/x", {{perms::kAll, {"bogus", "x"}}}), stranger).err,
            ErrorCode::kInvalidAcl);
  EXPECT_EQ(run(create("/missing/x", {}), stranger).err, ErrorCode::kInvalidAcl);
  EXPECT_EQ(run(create("/missing/x", {{perms::kAll, kAnyone}}), stranger).err, ErrorCode::kNoNode);
  // "auth" needs a digest identity.
  EXPECT_EQ(run(create("/x", {{perms::kAll, {"auth", ""}}}), stranger).err, ErrorCode::kInvalidAcl);
  ASSERT_EQ(run(create("/x", {{perms::kAll, {"auth", ""}}}), alice).err, ErrorCode::kOk);
  EXPECT_EQ(*tree.find("/x")->acl, (wire::AclList{{perms::kAll, alice_id}}));
}

TEST_F(PrepAclTest, DeleteNeedsDeleteOnParent) {
  // /locked/child itself is open to all, but deleting it needs DELETE on /locked.
  EXPECT_EQ(run({OpCode::kDelete, wire::PathVersionRequest{"/locked/child", -1}}, stranger).err,
            ErrorCode::kNoAuth);
  // The parent's ACL is checked before the node is looked up.
  EXPECT_EQ(run({OpCode::kDelete, wire::PathVersionRequest{"/locked/none", -1}}, stranger).err,
            ErrorCode::kNoAuth);
  ASSERT_EQ(set_locked_acl(perms::kDelete), ErrorCode::kOk);
  EXPECT_EQ(run({OpCode::kDelete, wire::PathVersionRequest{"/locked/child", -1}}, stranger).err,
            ErrorCode::kOk);
  // Deleting /locked needs DELETE on "/", which is open, not on /locked itself.
  ASSERT_EQ(set_locked_acl(0), ErrorCode::kOk);
  EXPECT_EQ(run({OpCode::kDelete, wire::PathVersionRequest{"/locked", -1}}, stranger).err,
            ErrorCode::kOk);
}

TEST_F(PrepAclTest, SetDataNeedsWrite) {
  auto set = [&](const AuthIds& ids) {
    return run({OpCode::kSetData, wire::SetDataRequest{"/locked", "x", false, -1}}, ids).err;
  };
  EXPECT_EQ(set(stranger), ErrorCode::kNoAuth);
  EXPECT_EQ(set(alice), ErrorCode::kOk);
  EXPECT_EQ(set(super), ErrorCode::kOk);
  ASSERT_EQ(set_locked_acl(perms::kWrite), ErrorCode::kOk);
  EXPECT_EQ(set(stranger), ErrorCode::kOk);
  // The ACL check comes before the version check.
  ASSERT_EQ(set_locked_acl(perms::kRead), ErrorCode::kOk);
  EXPECT_EQ(run({OpCode::kSetData, wire::SetDataRequest{"/locked", "x", false, 99}}, stranger).err,
            ErrorCode::kNoAuth);
}

TEST_F(PrepAclTest, SetAclNeedsAdmin) {
  wire::SetAclRequest req{"/locked", {{perms::kAll, kAnyone}}, -1};
  EXPECT_EQ(run({OpCode::kSetAcl, req}, stranger).err, ErrorCode::kNoAuth);
  EXPECT_EQ(run({OpCode::kSetAcl, req}, super).err, ErrorCode::kOk);
  EXPECT_EQ(run({OpCode::kSetAcl, req}, stranger).err, ErrorCode::kOk);  // now world:anyone ALL
}

TEST_F(PrepAclTest, CheckNeedsRead) {
  ASSERT_EQ(set_locked_acl(perms::kWrite), ErrorCode::kOk);
  wire::PathVersionRequest req{"/locked", -1};
  EXPECT_EQ(run({OpCode::kCheck, req}, stranger).err, ErrorCode::kNoAuth);
  EXPECT_EQ(run({OpCode::kCheck, req}, alice).err, ErrorCode::kOk);
  EXPECT_EQ(run({OpCode::kCheck, req}, super).err, ErrorCode::kOk);
}

TEST_F(PrepAclTest, DenialInsideMultiFailsTheWholeMulti) {
  std::vector<WriteOp> ops{create("/open", {{perms::kAll, kAnyone}}),
                           {OpCode::kSetData, wire::SetDataRequest{"/locked", "x", false, -1}}};
  Txn txn = prep.prepare_multi(PrepContext{1, 1, ++zxid, 1000, &stranger}, ops);
  ApplyResult r = tree.apply(txn);
  prep.applied(txn.zxid);
  EXPECT_EQ(r.err, ErrorCode::kNoAuth);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[0].err, ErrorCode::kOk);
  EXPECT_EQ(r.ops[1].err, ErrorCode::kNoAuth);
  EXPECT_EQ(tree.find("/open"), nullptr);
}

}  // namespace
}  // namespace corral::tree
