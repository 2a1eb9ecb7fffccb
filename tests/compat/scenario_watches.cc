// Scenario "watches": one-shot watches set by A, fired by B's writes.
#include <string>

#include "scenarios.h"

namespace corral::compat {

namespace {

Watch tag(const char* t) { return Watch::tagged(t); }

void data_watches(Driver& d, ZkSession& a, ZkSession& b, const std::string& r) {
  d.note("a data watch fires once, on the first change");
  d.create(b, r + "/d", "0");
  d.get(a, r + "/d", tag("w1"));
  d.set(b, r + "/d", "1");
  d.events(a, 1);
  d.set(b, r + "/d", "2");
  d.events(a);
  d.note("setting the same data still fires; setACL does not");
  d.get(a, r + "/d", tag("w1"));
  d.set_acl(b, r + "/d", -1, open_acl());
  d.events(a);
  d.set(b, r + "/d", "2");
  d.events(a, 1);
  d.note("two watchers on one path both fire; the global one too");
  d.get(a, r + "/d", tag("w1"));
  d.exists(a, r + "/d", tag("w2"));
  d.get(a, r + "/d", Watch::global());
  d.get(a, r + "/d", tag("w1"));
  d.set(b, r + "/d", "3");
  d.events(a, 3);
  d.note("a data watch fires DELETED on delete; a failed write fires nothing");
  d.get(a, r + "/d", tag("w1"));
  d.set(b, r + "/d", "x", 99);
  d.remove(b, r + "/d", 99);
  d.events(a);
  d.remove(b, r + "/d");
  d.events(a, 1);
  d.note("get on a missing node leaves no watch");
  d.get(a, r + "/d", tag("w1"));
  d.create(b, r + "/d", "back");
  d.events(a);
}

void exists_watches(Driver& d, ZkSession& a, ZkSession& b, const std::string& r) {
  d.note("exists on a missing node watches for its creation");
  d.exists(a, r + "/e", tag("x1"));
  d.create(b, r + "/e", "");
  d.events(a, 1);
  d.exists(a, r + "/e", tag("x1"));
  d.set(b, r + "/e", "changed");
  d.events(a, 1);
  d.exists(a, r + "/e", tag("x1"));
  d.remove(b, r + "/e");
  d.events(a, 1);
  d.note("an exists watch on a missing node fires once the node appears, even by multi");
  d.exists(a, r + "/e", tag("x1"));
  d.multi(b, {MultiOp::create(r + "/e", ""), MultiOp::remove(r + "/e")});
  d.events(a, 1);
}

void child_watches(Driver& d, ZkSession& a, ZkSession& b, const std::string& r) {
  d.note("child watches fire on child create and delete, not on data change");
  d.create(b, r + "/p", "");
  d.children(a, r + "/p", tag("c1"));
  d.set(b, r + "/p", "data");
  d.events(a);
  d.create(b, r + "/p/k1", "");
  d.events(a, 1);
  d.children1(a, r + "/p", tag("c1"));
  d.set(b, r + "/p/k1", "child data");
  d.create(b, r + "/p/k1/grandchild", "");
  d.events(a);
  d.remove(b, r + "/p/k1/grandchild");
  d.remove(b, r + "/p/k1");
  d.events(a, 1);
  d.note("deleting a node fires its data, child and exists watches and its parent's");
  d.create(b, r + "/p/k2", "");
  d.children(a, r + "/p", tag("parent"));
  d.children(a, r + "/p/k2", tag("kids"));
  d.get(a, r + "/p/k2", tag("data"));
  d.exists(a, r + "/p/k2", tag("exists"));
  d.remove(b, r + "/p/k2");
  d.events(a, 4);
  d.note("events from one multi arrive in op order");
  d.create(b, r + "/m1", "");
  d.create(b, r + "/m2", "");
  d.get(a, r + "/m1", tag("m1"));
  d.get(a, r + "/m2", tag("m2"));
  d.exists(a, r + "/m3", tag("m3"));
  d.children(a, r, tag("root"));
  d.multi(b, {MultiOp::set(r + "/m2", "x"), MultiOp::create(r + "/m3", ""),
              MultiOp::remove(r + "/m1")});
  d.events(a, 4);
  d.note("a session's own writes fire its own watches");
  d.get(a, r + "/m2", tag("self"));
  d.set(a, r + "/m2", "mine");
  d.events(a, 1);
}

void remove_watches(Driver& d, ZkSession& a, ZkSession& b, const std::string& r) {
  d.note("removeWatches");
  d.create(b, r + "/rw", "");
  d.get(a, r + "/rw", tag("rd"));
  d.children(a, r + "/rw", tag("rc"));
  d.remove_watches(a, r + "/rw", ZWATCHTYPE_DATA, "rd");
  d.events(a);
  d.remove_watches(a, r + "/rw", ZWATCHTYPE_DATA, "rd");
  d.remove_watches(a, r + "/rw", ZWATCHTYPE_DATA, "");
  d.set(b, r + "/rw", "no data watch left");
  d.events(a);
  d.remove_watches(a, r + "/rw", ZWATCHTYPE_ANY, "");
  d.events(a);
  d.create(b, r + "/rw/c", "");
  d.events(a);
  d.remove_watches(a, r + "/nope", ZWATCHTYPE_ANY, "");
  d.get(a, r + "/rw", tag("rd"));
  d.remove_watches(a, r + "/rw", ZWATCHTYPE_CHILD, "");
  d.remove_watches(a, r + "/rw", ZWATCHTYPE_DATA, "rd", true);
  d.events(a);
}

}  // namespace

void scenario_watches(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  auto& b = d.session("B");
  d.create(b, args.root, "");
  data_watches(d, a, b, args.root);
  exists_watches(d, a, b, args.root);
  child_watches(d, a, b, args.root);
  remove_watches(d, a, b, args.root);
}

}  // namespace corral::compat
