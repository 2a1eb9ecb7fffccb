// Scenario "persistent": addWatch over a raw connection (session P); B writes.
#include <chrono>
#include <stdexcept>
#include <string>

#include "format.h"
#include "raw_session.h"
#include "scenarios.h"

namespace corral::compat {

namespace {

using namespace std::chrono_literals;

class Persistent {
 public:
  Persistent(Driver& d, const ScenarioArgs& args)
      : d_(d), p_(args.hosts), b_(d.session("B")), r_(args.root) {
    if (!p_.ok()) throw std::runtime_error("raw session could not connect to " + args.hosts);
  }

  void run() {
    d_.create(b_, r_, "");
    single_node();
    recursive();
    removal();
    d_.note("argument checks");
    add(r_ + "/nope", 7);
    add("no-slash", RawSession::kPersistent);
    add(r_ + "/trailing/", RawSession::kPersistent);
    p_.close();
    d_.line("P close");
  }

 private:
  void add(const std::string& path, int mode) {
    int rc = p_.add_watch(path, mode);
    const char* name = mode == RawSession::kPersistent            ? "PERSISTENT"
                       : mode == RawSession::kPersistentRecursive ? "PERSISTENT_RECURSIVE"
                                                                  : "mode?";
    d_.line("P addwatch " + path + " " + name + " -> " + rc_name(rc));
  }

  void remove(const std::string& path, int type) {
    static const char* types[] = {"?",   "CHILDREN",   "DATA",
                                  "ANY", "PERSISTENT", "PERSISTENT_RECURSIVE"};
    int rc = p_.remove_watches(path, type);
    d_.line("P removewatches " + path + " " + types[type] + " -> " + rc_name(rc));
  }

  void events(size_t expected) {
    auto evs = p_.take_events(expected, 5s);
    if (evs.empty()) d_.line("P no events");
    for (const auto& e : evs) {
      std::string text = "P event " + event_type_name(e.type) + " " + e.path;
      if (e.state != ZOO_CONNECTED_STATE) text += " state=" + state_name(e.state);
      d_.line(text);
    }
  }

  void single_node() {
    d_.note("a persistent watch on one node: its data, its children list, itself");
    d_.create(b_, r_ + "/p", "");
    add(r_ + "/p", RawSession::kPersistent);
    d_.set(b_, r_ + "/p", "1");
    events(1);
    d_.set(b_, r_ + "/p", "2");
    events(1);
    d_.create(b_, r_ + "/p/c", "");
    events(1);
    d_.set(b_, r_ + "/p/c", "child data is not watched");
    d_.create(b_, r_ + "/p/c/g", "");
    events(0);
    d_.remove(b_, r_ + "/p/c/g");
    d_.remove(b_, r_ + "/p/c");
    events(1);
    d_.remove(b_, r_ + "/p");
    events(1);
    d_.create(b_, r_ + "/p", "the watch outlives the node");
    events(1);
  }

  void recursive() {
    d_.note("a persistent recursive watch: the whole subtree, no child events");
    add(r_ + "/q", RawSession::kPersistentRecursive);
    d_.create(b_, r_ + "/q", "");
    d_.create(b_, r_ + "/q/a", "");
    d_.create(b_, r_ + "/q/a/b", "", ZOO_PERSISTENT_SEQUENTIAL);
    std::string b = d_.last_created();
    d_.set(b_, b, "deep");
    events(4);
    d_.multi(
        b_, {MultiOp::create(r_ + "/q/m", ""), MultiOp::set(r_ + "/q/a", "x"), MultiOp::remove(b)});
    events(3);
    d_.note("a one-shot exists watch as well: one event per change");
    int rc = p_.exists(r_ + "/q/a", true);
    d_.line("P exists " + r_ + "/q/a watch -> " + rc_name(rc));
    d_.set(b_, r_ + "/q/a", "y");
    events(1);
    d_.set(b_, r_ + "/q/a", "z");
    events(1);
    d_.note("a persistent watch inside a recursive one");
    add(r_ + "/q/a", RawSession::kPersistent);
    d_.create(b_, r_ + "/q/a/k", "");
    events(2);
    d_.create(b_, r_ + "/qq", "a sibling with a common prefix is outside");
    events(0);
  }

  void removal() {
    d_.note("removing persistent watches");
    remove(r_ + "/p", RawSession::kWatchPersistent);
    remove(r_ + "/p", RawSession::kWatchPersistent);
    d_.set(b_, r_ + "/p", "unwatched");
    events(0);
    remove(r_ + "/q", RawSession::kWatchData);
    remove(r_ + "/q", RawSession::kWatchPersistent);
    remove(r_ + "/q", RawSession::kWatchPersistentRecursive);
    d_.set(b_, r_ + "/q/m", "still watched by /q/a? no: /q/m is not under it");
    events(0);
    d_.set(b_, r_ + "/q/a", "watched by the persistent /q/a");
    events(1);
    remove(r_ + "/q/a", RawSession::kWatchAny);
    d_.set(b_, r_ + "/q/a", "unwatched");
    events(0);
  }

  Driver& d_;
  RawSession p_;
  ZkSession& b_;
  std::string r_;
};

}  // namespace

void scenario_persistent(Driver& d, const ScenarioArgs& args) { Persistent(d, args).run(); }

}  // namespace corral::compat
