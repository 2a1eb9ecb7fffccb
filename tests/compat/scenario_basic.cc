// Scenarios "basic" and "sequential".
#include <string>

#include "scenarios.h"

namespace corral::compat {

namespace {

void basic_versions(Driver& d, ZkSession& a, const std::string& r) {
  d.note("create, get, set and delete with versions");
  d.create(a, r + "/n", "hello");
  d.create(a, r + "/n", "again");
  d.create(a, r + "/missing/child", "x");
  d.get(a, r + "/n");
  d.set(a, r + "/n", "v1", 0);
  d.set(a, r + "/n", "v1-again", 0);
  d.set(a, r + "/n", "v2", -1);
  d.set(a, r + "/n", "v3", 2);
  d.set(a, r + "/n", "same", 7);
  d.set(a, r + "/nope", "x", -1);
  d.get(a, r + "/n");
  d.exists(a, r + "/n");
  d.exists(a, r + "/nope");
  d.get(a, r + "/nope");
  d.children(a, r + "/nope");
  d.create(a, r + "/n/c1", "");
  d.create(a, r + "/n/c2", "", ZOO_PERSISTENT, open_acl(), {}, false);
  d.children(a, r + "/n");
  d.children1(a, r + "/n");
  d.exists(a, r + "/n");
  d.remove(a, r + "/n", -1);
  d.remove(a, r + "/n/c1", 5);
  d.remove(a, r + "/n/c1", 0);
  d.remove(a, r + "/n/c1", 0);
  d.remove(a, r + "/nope", -1);
  d.exists(a, r + "/n");
  d.remove(a, r + "/n/c2", -1);
  d.remove(a, r + "/n", 3);
  d.remove(a, r + "/n", 4);
  d.exists(a, r + "/n");
}

void basic_data(Driver& d, ZkSession& a, const std::string& r) {
  d.note("null, empty, binary and large data");
  d.create(a, r + "/null", std::nullopt);
  d.get(a, r + "/null");
  d.create(a, r + "/empty", "");
  d.get(a, r + "/empty");
  d.set(a, r + "/empty", std::nullopt, -1);
  d.get(a, r + "/empty");
  d.create(a, r + "/bin", std::string("\0\x01\xff zk\n", 7));
  d.get(a, r + "/bin");
  std::string big(1000 * 1000, 'b');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  d.create(a, r + "/big", big);
  d.get(a, r + "/big");
  d.set(a, r + "/big", std::string(1024 * 1024 + 10, 'x'), -1);
  d.get(a, r + "/big");
}

void basic_ephemeral_parent(Driver& d, ZkSession& a, const std::string& r) {
  d.note("ephemeral nodes may not have children");
  d.create(a, r + "/eph", "e", ZOO_EPHEMERAL);
  d.create(a, r + "/eph/child", "c");
  d.create(a, r + "/eph/seq-", "c", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/eph/e", "c", ZOO_EPHEMERAL);
  d.get(a, r + "/eph");
  d.remove(a, r + "/eph", -1);
}

void basic_invalid_paths(Driver& d, ZkSession& a, const std::string& r) {
  d.note("paths the C client refuses before sending");
  for (std::string p : {std::string(""), std::string("noslash"), r + "/trailing/", r + "//double",
                        r + "/./dot", r + "/a/../b", r + "/dot/."}) {
    d.create(a, p, "x");
    d.exists(a, p);
  }
  d.note("the /zookeeper subtree");
  d.children1(a, "/zookeeper");
  d.create(a, "/zookeeper/mine", "x");
  d.remove(a, "/zookeeper/mine", -1);
  d.remove(a, "/zookeeper", -1);
  d.create(a, r + "/zookeeper", "not special below the root");
  d.get(a, r + "/zookeeper");
  d.create(a, "/", "root");
  d.remove(a, "/", -1);
  d.exists(a, "/zookeeper/quota");
}

}  // namespace

void scenario_basic(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  const std::string& r = args.root;
  d.create(a, r, "root of basic");
  basic_versions(d, a, r);
  basic_data(d, a, r);
  basic_ephemeral_parent(d, a, r);
  basic_invalid_paths(d, a, r);
  d.children(a, r);
}

void scenario_sequential(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  auto& b = d.session("B");
  const std::string& r = args.root;
  d.create(a, r, "");
  d.create(a, r + "/q", "");
  d.note("suffix: child creations so far; Stat.cversion: creations + deletions");
  d.create(a, r + "/q/n-", "0", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/q/n-", "1", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/q/n-", "2", ZOO_PERSISTENT_SEQUENTIAL, open_acl(), {}, false);
  d.remove(a, r + "/q/n-0000000001", -1);
  d.create(a, r + "/q/n-", "after delete", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/q/plain", "a plain child counts too");
  d.create(a, r + "/q/plain", "a failed create does not");
  d.create(a, r + "/q/n-", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/q/", "trailing slash with sequential", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/q/e-", "", ZOO_EPHEMERAL_SEQUENTIAL);
  d.create(b, r + "/q/e-", "", ZOO_EPHEMERAL_SEQUENTIAL);
  d.create(a, r + "/q/n-0000000009", "an explicit name also advances the counter");
  d.create(a, r + "/q/n-", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/q/n-", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.children(a, r + "/q");
  d.note("a closed session's ephemerals going bumps cversion, not the suffix");
  d.close("B");
  d.children(a, r + "/q");
  d.create(a, r + "/q/n-", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.note("each parent has its own counter");
  d.create(a, r + "/other", "");
  d.create(a, r + "/other/x", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/other/x", "", ZOO_EPHEMERAL_SEQUENTIAL);
  d.create(a, r + "/other/x/y", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.create(a, r + "/other/x0000000000/y", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.note("sequential creates in a multi, and a rolled back one");
  d.multi(a, {MultiOp::create(r + "/q/m-", "", ZOO_PERSISTENT_SEQUENTIAL),
              MultiOp::create(r + "/q/m-", "", ZOO_PERSISTENT_SEQUENTIAL)});
  d.multi(a, {MultiOp::create(r + "/q/m-", "", ZOO_PERSISTENT_SEQUENTIAL),
              MultiOp::check(r + "/q", 1000)});
  d.create(a, r + "/q/m-", "", ZOO_PERSISTENT_SEQUENTIAL);
  d.children(a, r + "/q");
  d.exists(a, r + "/other");
}

}  // namespace corral::compat
