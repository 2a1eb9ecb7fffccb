// Scenario "watch_acl": watch events are checked against READ when they fire, not when the
// watch was set (CVE-2024-23944; Debian's ZooKeeper 3.8.0-11+deb12u2 carries the fix). O owns
// and changes the nodes, W watches through the C client, D watches as the digest user alice,
// P holds persistent watches over a raw connection (the 3.8 C client has no addWatch).
// Each "no events" has a control nearby in which the same watch does fire.
#include <chrono>
#include <stdexcept>
#include <string>

#include "format.h"
#include "raw_session.h"
#include "scenarios.h"

namespace corral::compat {

namespace {

using namespace std::chrono_literals;

// alice:secret as DigestAuthenticationProvider hashes it.
const char* const kAliceDigest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";

Acl world(int perms) { return {{perms, "world", "anyone"}}; }
// Anyone may do anything but read.
Acl no_read() { return world(ZOO_PERM_ALL & ~ZOO_PERM_READ); }

class WatchAcl {
 public:
  WatchAcl(Driver& d, const ScenarioArgs& args)
      : d_(d), o_(d.session("O")), w_(d.session("W")), p_(args.hosts), r_(args.root) {
    if (!p_.ok()) throw std::runtime_error("raw session could not connect to " + args.hosts);
  }

  void run() {
    d_.create(o_, r_, "");
    one_shot();
    children();
    digest();
    ephemeral();
    persistent();
    recursive();
    p_.close();
    d_.line("P close");
  }

 private:
  Watch tag(const char* t) { return Watch::tagged(t); }

  void one_shot() {
    d_.note("exists on a node without READ still answers (3.8 does not check it)");
    d_.create(o_, r_ + "/hidden", "h", ZOO_PERSISTENT, no_read());
    d_.exists(w_, r_ + "/hidden");
    d_.note("exists watch, READ removed, delete: nothing");
    d_.create(o_, r_ + "/e", "");
    d_.exists(w_, r_ + "/e", tag("x"));
    d_.set_acl(o_, r_ + "/e", -1, no_read());
    d_.remove(o_, r_ + "/e");
    d_.events(w_);
    d_.note("control: READ kept, delete: NodeDeleted");
    d_.create(o_, r_ + "/e", "");
    d_.exists(w_, r_ + "/e", tag("x"));
    d_.set_acl(o_, r_ + "/e", -1, world(ZOO_PERM_READ | ZOO_PERM_DELETE | ZOO_PERM_ADMIN));
    d_.remove(o_, r_ + "/e");
    d_.events(w_, 1);
    d_.note("exists watch on a missing node, created without READ: nothing");
    d_.exists(w_, r_ + "/e", tag("x"));
    d_.create(o_, r_ + "/e", "", ZOO_PERSISTENT, no_read());
    d_.events(w_);
    d_.note("data watch, READ removed, setData: nothing; the watch is spent all the same");
    d_.create(o_, r_ + "/d", "0");
    d_.get(w_, r_ + "/d", tag("g"));
    d_.set_acl(o_, r_ + "/d", -1, no_read());
    d_.set(o_, r_ + "/d", "1");
    d_.events(w_);
    d_.set_acl(o_, r_ + "/d", -1, open_acl());
    d_.set(o_, r_ + "/d", "2");
    d_.events(w_);
    d_.note("control: data watch with READ, setData: NodeDataChanged");
    d_.get(w_, r_ + "/d", tag("g"));
    d_.set(o_, r_ + "/d", "3");
    d_.events(w_, 1);
  }

  void children() {
    d_.note("child watch, parent's READ removed, child created: nothing");
    d_.create(o_, r_ + "/c", "");
    d_.children(w_, r_ + "/c", tag("k"));
    d_.set_acl(o_, r_ + "/c", -1, no_read());
    d_.create(o_, r_ + "/c/kid", "");
    d_.events(w_);
    d_.note("control: the parent readable, a child without READ: the parent's ACL decides");
    d_.create(o_, r_ + "/c2", "");
    d_.children(w_, r_ + "/c2", tag("k"));
    d_.create(o_, r_ + "/c2/secret", "", ZOO_PERSISTENT, no_read());
    d_.events(w_, 1);
    d_.note("NodeDeleted is checked against the deleted node, not its unreadable parent");
    d_.create(o_, r_ + "/c/open", "");
    d_.exists(w_, r_ + "/c/open", tag("x"));
    d_.remove(o_, r_ + "/c/open");
    d_.events(w_, 1);
  }

  void digest() {
    d_.note("READ for alice only: alice (digest) is told, W is not");
    auto& alice = d_.session("D");
    d_.add_auth(alice, "digest", "alice:secret");
    d_.create(o_, r_ + "/a", "");
    d_.exists(alice, r_ + "/a", tag("x"));
    d_.exists(w_, r_ + "/a", tag("x"));
    d_.set_acl(o_, r_ + "/a", -1,
               Acl{{ZOO_PERM_READ, "digest", kAliceDigest},
                   {ZOO_PERM_ALL & ~ZOO_PERM_READ, "world", "anyone"}});
    d_.set(o_, r_ + "/a", "for alice");
    d_.events(alice, 1);
    d_.events(w_);
  }

  void ephemeral() {
    d_.note("an ephemeral without READ goes with its session: nothing");
    auto& e = d_.session("E");
    d_.create(e, r_ + "/eph", "", ZOO_EPHEMERAL, no_read());
    d_.exists(w_, r_ + "/eph", tag("x"));
    d_.close("E");
    d_.exists(w_, r_ + "/eph");
    d_.events(w_);
  }

  void add(const std::string& path, int mode) {
    int rc = p_.add_watch(path, mode);
    d_.line("P addwatch " + path +
            (mode == RawSession::kPersistent ? " PERSISTENT" : " RECURSIVE") + " -> " +
            rc_name(rc));
  }

  void p_events(size_t expected) {
    auto evs = p_.take_events(expected, 5s);
    if (evs.empty()) d_.line("P no events");
    for (const auto& e : evs) d_.line("P event " + event_type_name(e.type) + " " + e.path);
  }

  void persistent() {
    d_.note("persistent watch, READ removed: no data or children events");
    d_.create(o_, r_ + "/pw", "");
    add(r_ + "/pw", RawSession::kPersistent);
    d_.set_acl(o_, r_ + "/pw", -1, no_read());
    d_.set(o_, r_ + "/pw", "1");
    d_.create(o_, r_ + "/pw/kid", "");
    p_events(0);
    d_.note("control: READ back, the persistent watch is still there");
    d_.set_acl(o_, r_ + "/pw", -1, open_acl());
    d_.set(o_, r_ + "/pw", "2");
    p_events(1);
  }

  void recursive() {
    d_.note("recursive watch: nothing about a descendant without READ");
    d_.create(o_, r_ + "/rec", "");
    add(r_ + "/rec", RawSession::kPersistentRecursive);
    d_.create(o_, r_ + "/rec/secret", "", ZOO_PERSISTENT, no_read());
    d_.set(o_, r_ + "/rec/secret", "x");
    d_.create(o_, r_ + "/rec/secret/deeper", "", ZOO_PERSISTENT, no_read());
    d_.remove(o_, r_ + "/rec/secret/deeper");
    d_.remove(o_, r_ + "/rec/secret");
    p_events(0);
    d_.note("control: a readable descendant");
    d_.create(o_, r_ + "/rec/public", "");
    d_.set(o_, r_ + "/rec/public", "y");
    d_.remove(o_, r_ + "/rec/public");
    p_events(3);
  }

  Driver& d_;
  ZkSession& o_;
  ZkSession& w_;
  RawSession p_;
  std::string r_;
};

}  // namespace

void scenario_watch_acl(Driver& d, const ScenarioArgs& args) { WatchAcl(d, args).run(); }

}  // namespace corral::compat
