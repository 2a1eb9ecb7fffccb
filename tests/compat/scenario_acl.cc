// Scenario "acl".
#include <string>

#include "scenarios.h"

namespace corral::compat {

namespace {

// DigestAuthenticationProvider ids: user ":" base64(sha1("user:password")).
const char* const kAliceDigest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";  // alice:secret
const char* const kBobDigest = "bob:ikIaKsbtGweaHnb/jKn7OHqbunM=";      // bob:pw

Acl world(int perms) { return {{perms, "world", "anyone"}}; }

void acl_permissions(Driver& d, ZkSession& a, const std::string& r) {
  d.note("each permission bit alone: what it allows and what ZNOAUTH denies");
  struct Bit {
    const char* name;
    int perms;
  };
  for (Bit bit :
       {Bit{"read", ZOO_PERM_READ}, Bit{"write", ZOO_PERM_WRITE}, Bit{"create", ZOO_PERM_CREATE},
        Bit{"delete", ZOO_PERM_DELETE}, Bit{"admin", ZOO_PERM_ADMIN}, Bit{"none", 0}}) {
    std::string n = r + "/only-" + bit.name;
    d.create(a, n, "data", ZOO_PERSISTENT, world(bit.perms));
    d.get(a, n);
    d.exists(a, n);
    d.children(a, n);
    d.set(a, n, "new", -1);
    d.create(a, n + "/c", "");
    d.get_acl(a, n);
    d.set_acl(a, n, -1, world(bit.perms));
  }
  d.note("delete needs DELETE on the parent, not on the node");
  d.create(a, r + "/nodel", "", ZOO_PERSISTENT, world(ZOO_PERM_ALL & ~ZOO_PERM_DELETE));
  d.create(a, r + "/nodel/c", "", ZOO_PERSISTENT, world(0));
  d.remove(a, r + "/nodel/c");
  d.create(a, r + "/only-delete-parent", "", ZOO_PERSISTENT, open_acl());
  d.create(a, r + "/only-delete-parent/c", "", ZOO_PERSISTENT, world(0));
  d.remove(a, r + "/only-delete-parent/c");
  d.create(a, r + "/only-delete/kid", "");
}

void acl_versions(Driver& d, ZkSession& a, const std::string& r) {
  d.note("setACL checks the ACL version (aversion)");
  d.create(a, r + "/v", "");
  d.set_acl(a, r + "/v", 1, world(ZOO_PERM_READ | ZOO_PERM_ADMIN));
  d.set_acl(a, r + "/v", 0, world(ZOO_PERM_READ | ZOO_PERM_ADMIN));
  d.set_acl(a, r + "/v", 0, open_acl());
  d.set_acl(a, r + "/v", 1, open_acl());
  d.set_acl(a, r + "/v", -1, world(ZOO_PERM_ALL));
  d.get_acl(a, r + "/v");
  d.set_acl(a, r + "/nope", -1, open_acl());
  d.get_acl(a, r + "/nope");
}

void acl_invalid(Driver& d, ZkSession& a, const std::string& r) {
  d.note("invalid ACLs");
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{});
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "nosuchscheme", "x"}});
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "auth", ""}});
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "ip", "not-an-ip"}});
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "ip", "127.0.0.1/99"}});
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "digest", "nocolon"}});
  d.create(a, r + "/bad", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "world", "someone"}});
  d.create(a, r + "/v/bad", "", ZOO_PERSISTENT, Acl{});
  d.set_acl(a, r + "/v", -1, Acl{});
  d.set_acl(a, r + "/v", -1, Acl{{ZOO_PERM_ALL, "auth", ""}});
  d.exists(a, r + "/bad");
}

void acl_ip(Driver& d, ZkSession& a, const std::string& r) {
  d.note("ip ACLs: the driver connects from 127.0.0.1");
  d.create(a, r + "/ip-local", "l", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "ip", "127.0.0.1"}});
  d.get(a, r + "/ip-local");
  d.create(a, r + "/ip-net", "n", ZOO_PERSISTENT, Acl{{ZOO_PERM_READ, "ip", "127.0.0.0/8"}});
  d.get(a, r + "/ip-net");
  d.set(a, r + "/ip-net", "x", -1);
  d.create(a, r + "/ip-far", "f", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "ip", "10.1.2.3"}});
  d.get(a, r + "/ip-far");
  d.get_acl(a, r + "/ip-far");
  d.create(a, r + "/ip-mixed", "m", ZOO_PERSISTENT,
           Acl{{ZOO_PERM_READ, "ip", "10.0.0.0/8"}, {ZOO_PERM_WRITE, "ip", "127.0.0.1"}});
  d.get(a, r + "/ip-mixed");
  d.set(a, r + "/ip-mixed", "w", -1);
}

void acl_digest(Driver& d, ZkSession& a, ZkSession& b, const std::string& r) {
  d.note("auth and digest ACLs; another session gains access by addauth");
  d.create(b, r + "/auth-noid", "", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "auth", ""}});
  d.add_auth(a, "digest", "alice:secret");
  d.create(a, r + "/alice", "alice's", ZOO_PERSISTENT, Acl{{ZOO_PERM_ALL, "auth", ""}});
  d.get_acl(a, r + "/alice");
  d.get(a, r + "/alice");
  d.get(b, r + "/alice");
  d.set(b, r + "/alice", "b", -1);
  d.get_acl(b, r + "/alice");
  d.create(a, r + "/bob", "bob's", ZOO_PERSISTENT, Acl{{ZOO_PERM_READ, "digest", kBobDigest}});
  d.get(a, r + "/bob");
  d.add_auth(b, "digest", "alice:wrong");
  d.get(b, r + "/alice");
  d.add_auth(b, "digest", "alice:secret");
  d.get(b, r + "/alice");
  d.set(b, r + "/alice", "b was here", -1);
  d.get(b, r + "/bob");
  d.add_auth(b, "digest", "bob:pw");
  d.get(b, r + "/bob");
  d.set(b, r + "/bob", "read only for bob", -1);
  d.note("auth with several identities adds one entry per identity");
  d.create(b, r + "/both", "", ZOO_PERSISTENT,
           Acl{{ZOO_PERM_READ, "auth", ""}, {ZOO_PERM_ALL, "world", "anyone"}});
  d.get_acl(b, r + "/both", true);
  d.create(b, r + "/digest-explicit", "", ZOO_PERSISTENT,
           Acl{{ZOO_PERM_ALL, "digest", kAliceDigest}, {ZOO_PERM_READ, "world", "anyone"}});
  d.get_acl(b, r + "/digest-explicit");
  d.set(a, r + "/digest-explicit", "alice may write", -1);
}

void acl_super_and_failures(Driver& d, const std::string& r) {
  d.note("the super digest (DigestAuthenticationProvider.superDigest) bypasses ACLs");
  auto& s = d.session("S");
  d.get(s, r + "/ip-far");
  d.add_auth(s, "digest", "super:superpw");
  d.get(s, r + "/ip-far");
  d.set(s, r + "/only-none", "super", -1);
  d.get(s, r + "/only-none");
  d.remove(s, r + "/only-none");
  d.close("S");
  d.note("an unknown auth scheme fails the session");
  auto& f = d.session("F");
  d.add_auth(f, "nosuchscheme", "whatever");
  d.exists(f, r);
  d.close("F");
}

}  // namespace

void scenario_acl(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  auto& b = d.session("B");
  const std::string& r = args.root;
  d.create(a, r, "");
  d.get_acl(a, r);
  acl_permissions(d, a, r);
  acl_versions(d, a, r);
  acl_invalid(d, a, r);
  acl_ip(d, a, r);
  acl_digest(d, a, b, r);
  acl_super_and_failures(d, r);
}

}  // namespace corral::compat
