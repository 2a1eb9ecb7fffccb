// Scenario "multi".
#include <string>

#include "scenarios.h"

namespace corral::compat {

namespace {

using Op = MultiOp;

void multi_success(Driver& d, ZkSession& a, const std::string& r) {
  d.note("a successful multi: one zxid for all its ops");
  d.multi(a, {Op::create(r + "/a", "1"), Op::create(r + "/a/x", "2"), Op::create(r + "/b", "3"),
              Op::set(r + "/a", "11", 0), Op::check(r + "/b", 0), Op::check(r + "/a", 1)});
  d.get(a, r + "/a");
  d.get(a, r + "/a/x");
  d.get(a, r + "/b");
  d.children(a, r);
  d.note("the empty multi");
  d.multi(a, {});
}

void multi_rollbacks(Driver& d, ZkSession& a, const std::string& r) {
  d.note("rollback: the failing op at each position");
  d.multi(a, {Op::create(r + "/b", "exists"), Op::create(r + "/c", ""), Op::set(r + "/a", "x")});
  d.multi(a, {Op::create(r + "/c", ""), Op::set(r + "/a", "x", 99), Op::remove(r + "/b")});
  d.multi(a, {Op::create(r + "/c", ""), Op::set(r + "/a", "x"), Op::remove(r + "/a")});
  d.multi(a, {Op::create(r + "/c", ""), Op::remove(r + "/b"), Op::check(r + "/b", -1)});
  d.multi(a, {Op::set(r + "/a", "x"), Op::create(r + "/nope/c", "")});
  d.multi(a, {Op::check(r + "/nope", -1), Op::create(r + "/c", "")});
  d.multi(a, {Op::check(r + "/a", 0), Op::create(r + "/c", "")});
  d.multi(a, {Op::create(r + "/c", ""), Op::create(r + "/c", "")});
  d.multi(a, {Op::create(r + "/e", "", ZOO_EPHEMERAL), Op::create(r + "/e/child", "")});
  d.note("nothing changed by the rollbacks");
  d.get(a, r + "/a");
  d.exists(a, r + "/b");
  d.exists(a, r + "/c");
  d.exists(a, r + "/e");
  d.children(a, r);
}

void multi_interplay(Driver& d, ZkSession& a, const std::string& r) {
  d.note("ops in one multi see the earlier ops' effects");
  d.multi(a, {Op::create(r + "/t", "tmp"), Op::remove(r + "/t")});
  d.exists(a, r + "/t");
  d.multi(a, {Op::create(r + "/t", "tmp"), Op::set(r + "/t", "t1", 0), Op::set(r + "/t", "t2", 1),
              Op::check(r + "/t", 2)});
  d.get(a, r + "/t");
  d.multi(a, {Op::remove(r + "/t", 2), Op::create(r + "/t", "again"), Op::check(r + "/t", 0)});
  d.get(a, r + "/t");
  d.multi(a, {Op::remove(r + "/a/x"), Op::remove(r + "/a"), Op::create(r + "/a", "reborn")});
  d.get(a, r + "/a");
  d.children(a, r);
  d.multi(a, {Op::remove(r + "/a"), Op::create(r + "/a/x", "")});
  d.multi(a, {Op::create(r + "/e", "", ZOO_EPHEMERAL), Op::set(r + "/e", "eph")});
  d.get(a, r + "/e");
  d.multi(a, {Op::remove(r + "/e"), Op::remove(r + "/e")});
  d.multi(a, {Op::check(r + "/b", 0), Op::check(r + "/b", 1)});
  d.multi(a, {Op::create(r + "/d1", ""), Op::create(r + "/d2", ""), Op::create(r + "/d1", "")});
  d.exists(a, r + "/d1");
  d.exists(a, r);
}

void multi_versions(Driver& d, ZkSession& a, const std::string& r) {
  d.note("version checks in every op kind");
  d.multi(a, {Op::set(r + "/b", "b1", 0), Op::set(r + "/b", "b2", 0)});
  d.multi(a, {Op::set(r + "/b", "b1", 0), Op::set(r + "/b", "b2", 1), Op::remove(r + "/b", 3)});
  d.multi(a, {Op::set(r + "/b", "b3", 2), Op::remove(r + "/b", 3)});
  d.exists(a, r + "/b");
  d.note("invalid paths in a multi are refused by the client");
  d.multi(a, {Op::create(r + "/ok", ""), Op::create(r + "/bad/", "")});
  d.exists(a, r + "/ok");
}

}  // namespace

void scenario_multi(Driver& d, const ScenarioArgs& args) {
  auto& a = d.session("A");
  d.create(a, args.root, "");
  multi_success(d, a, args.root);
  multi_rollbacks(d, a, args.root);
  multi_interplay(d, a, args.root);
  multi_versions(d, a, args.root);
}

}  // namespace corral::compat
