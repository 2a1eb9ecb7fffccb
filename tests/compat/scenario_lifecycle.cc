// Scenarios "ephemeral", "container" and "ttl": nodes the server deletes on its own.
#include <chrono>
#include <string>

#include "scenarios.h"

namespace corral::compat {

namespace {

using namespace std::chrono_literals;

Watch tag(const char* t) { return Watch::tagged(t); }

}  // namespace

void scenario_ephemeral(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  auto& b = d.session("B");
  const std::string& r = args.root;
  d.create(b, r, "");
  d.create(b, r + "/one", "");
  d.create(b, r + "/two", "");
  d.note("A's ephemerals, as B sees them");
  d.create(a, r + "/one/e", "mine", ZOO_EPHEMERAL);
  d.create(a, r + "/two/s-", "", ZOO_EPHEMERAL_SEQUENTIAL);
  d.create(a, r + "/two/s-", "", ZOO_EPHEMERAL_SEQUENTIAL);
  d.multi(a, {MultiOp::create(r + "/two/m", "", ZOO_EPHEMERAL)});
  d.create(a, r + "/two/persistent", "");
  d.exists(b, r + "/one/e");
  d.exists(a, r + "/one/e");
  d.children(b, r + "/two");
  d.note("the owner may delete its ephemeral; anyone may");
  d.create(a, r + "/one/gone", "", ZOO_EPHEMERAL);
  d.remove(b, r + "/one/gone");
  d.note("B watches A's ephemerals; A closes");
  d.get(b, r + "/one/e", tag("data"));
  d.exists(b, r + "/two/s-0000000000", tag("exists"));
  d.children(b, r + "/one", tag("kids-one"));
  d.close("A");
  d.events(b, 3, 5s, true);
  d.exists(b, r + "/one/e");
  d.children(b, r + "/two");
  d.exists(b, r + "/one");
  d.exists(b, r + "/two");
  d.note("a new session does not own the old ephemerals");
  auto& c = d.session("C");
  d.create(c, r + "/one/e", "C's now", ZOO_EPHEMERAL);
  d.exists(b, r + "/one/e");
  d.create(c, r + "/two/s-", "", ZOO_EPHEMERAL_SEQUENTIAL);
  d.children(b, r + "/two", tag("kids-two"));
  d.close("C");
  d.events(b, 1, 5s, true);
  d.children(b, r + "/two");
}

void scenario_container(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  auto& w = d.session("W");
  const std::string& r = args.root;
  d.create(a, r, "");
  d.note("a container that never had a child is kept");
  d.create(a, r + "/never-used", "", ZOO_CONTAINER);
  d.note("a container is deleted once its last child goes");
  d.create(a, r + "/ctr", "c", ZOO_CONTAINER);
  d.create(a, r + "/ctr/k1", "");
  d.create(a, r + "/ctr/k2", "", ZOO_EPHEMERAL);
  d.get(a, r + "/ctr");
  d.remove(a, r + "/ctr/k1");
  d.set(a, r + "/ctr", "still has k2", -1);
  d.exists(a, r + "/ctr");
  d.remove(a, r + "/ctr/k2");
  d.wait_deleted(w, r + "/ctr", 10s);
  d.exists(a, r + "/never-used");
  d.children(a, r);
  d.note("containers nest; the inner one goes first, then the outer one");
  d.create(a, r + "/outer", "", ZOO_CONTAINER);
  d.create(a, r + "/outer/inner", "", ZOO_CONTAINER);
  d.create(a, r + "/outer/inner/leaf", "");
  d.children(a, r, tag("parent"));
  d.remove(a, r + "/outer/inner/leaf");
  d.wait_deleted(w, r + "/outer", 10s);
  d.events(a, 1);
  d.children(a, r);
  d.note("an ephemeral child going with its session empties the container");
  d.create(a, r + "/eph-ctr", "", ZOO_CONTAINER);
  auto& e = d.session("E");
  d.create(e, r + "/eph-ctr/e", "", ZOO_EPHEMERAL);
  d.close("E");
  d.wait_deleted(w, r + "/eph-ctr", 10s);
  d.note("an unknown create mode");
  d.create(a, r + "/bad-mode", "", 7);
  d.exists(a, r + "/never-used");
}

void scenario_ttl(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  auto& w = d.session("W");
  const std::string& r = args.root;
  d.create(a, r, "");
  d.note("argument checks");
  d.create(a, r + "/t0", "", ZOO_PERSISTENT_WITH_TTL, open_acl(), 0);
  d.create(a, r + "/tneg", "", ZOO_PERSISTENT_WITH_TTL, open_acl(), -5);
  d.create(a, r + "/tplain", "", ZOO_PERSISTENT, open_acl(), 1000);
  d.create(a, r + "/teph", "", ZOO_EPHEMERAL, open_acl(), 1000);
  d.create(a, r + "/tbig", "", ZOO_PERSISTENT_WITH_TTL, open_acl(), 1LL << 40);
  d.create(a, r + "/tmax", "", ZOO_PERSISTENT_WITH_TTL, open_acl(), (1LL << 40) - 1);
  d.create(a, r + "/tnottl", "", ZOO_PERSISTENT_WITH_TTL);
  d.note("a TTL node with a child outlives its TTL; an empty one is deleted");
  d.create(a, r + "/kept", "", ZOO_PERSISTENT_WITH_TTL, open_acl(), 300);
  d.create(a, r + "/kept/child", "");
  d.create(a, r + "/short", "s", ZOO_PERSISTENT_WITH_TTL, open_acl(), 300, false);
  d.create(a, r + "/seq-", "", ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL, open_acl(), 300);
  std::string seq = d.last_created();
  d.get(a, r + "/short");
  d.wait_deleted(w, r + "/short", 10s);
  d.exists(a, r + "/kept");
  d.remove(a, r + "/kept/child");
  d.wait_deleted(w, r + "/kept", 10s);
  d.wait_deleted(w, seq, 10s);
  d.children(a, r);
  d.exists(a, r + "/tmax");
}

}  // namespace corral::compat
