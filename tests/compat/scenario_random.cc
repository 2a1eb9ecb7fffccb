// Scenario "random": a seeded mix of operations by two sessions over a small path space, with
// watches; every session's events are flushed and printed after each operation.
#include <random>
#include <string>
#include <vector>

#include "scenarios.h"

namespace corral::compat {

namespace {

constexpr int kOps = 300;

/// Deterministic choices from a seed (no std distributions: their output differs by library).
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  /// A number in [0, n).
  int below(int n) { return static_cast<int>(gen_() % static_cast<uint64_t>(n)); }
  /// True with probability pct/100.
  bool chance(int pct) { return below(100) < pct; }
  /// One of `items`.
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(static_cast<int>(items.size()))];
  }

 private:
  std::mt19937_64 gen_;
};

class RandomRun {
 public:
  RandomRun(Driver& d, const ScenarioArgs& args) : d_(d), root_(args.root), rng_(args.seed) {}

  void run() {
    for (const char* s : {"A", "B"}) d_.session(s);
    d_.create(d_.session("A"), root_, "");
    for (int i = 0; i < kOps; ++i) {
      // A close deletes the session's ephemerals in an unspecified order (Java
      // hash order in ZooKeeper), so the events it causes are compared sorted.
      bool closed = rng_.chance(2);
      if (closed) {
        reopen(rng_.chance(50) ? "A" : "B");
      } else {
        one_op(d_.session(rng_.chance(50) ? "A" : "B"));
      }
      for (const char* s : {"A", "B"}) d_.events(d_.session(s), 0, {}, closed, true);
    }
    for (const std::string& p : space_) d_.exists(d_.session("A"), p);
  }

 private:
  void reopen(const std::string& name) {
    d_.close(name);
    d_.session(name);
    d_.line(name + " reopened");
  }

  std::string path() {
    if (!extra_.empty() && rng_.chance(15)) return rng_.pick(extra_);
    return rng_.pick(space_);
  }

  int version() { return rng_.pick(std::vector<int>{-1, -1, 0, 0, 1, 2, 3}); }

  std::string data() { return "d" + std::to_string(rng_.below(1000)); }

  int flags() {
    return rng_.pick(std::vector<int>{ZOO_PERSISTENT, ZOO_PERSISTENT, ZOO_PERSISTENT, ZOO_EPHEMERAL,
                                      ZOO_PERSISTENT_SEQUENTIAL, ZOO_EPHEMERAL_SEQUENTIAL});
  }

  Watch watch(const char* kind) {
    if (!rng_.chance(40)) return Watch::none();
    return rng_.chance(30) ? Watch::global() : Watch::tagged(kind);
  }

  void remember(int rc, int flags) {
    if (rc == ZOK && (flags & ZOO_SEQUENCE)) extra_.push_back(d_.last_created());
  }

  // Every random choice is made in its own statement: the order in which function arguments
  // are evaluated is unspecified, and a seed must mean the same run with any compiler.
  MultiOp multi_op() {
    int kind = rng_.below(4);
    std::string p = path();
    if (kind == 0) {
      int f = rng_.chance(80) ? ZOO_PERSISTENT : ZOO_EPHEMERAL;
      return MultiOp::create(p, data(), f);
    }
    if (kind == 1) {
      std::string value = data();
      return MultiOp::set(p, value, version());
    }
    return kind == 2 ? MultiOp::remove(p, version()) : MultiOp::check(p, version());
  }

  void one_op(ZkSession& s) {
    int kind = rng_.below(100);
    std::string p = path();
    if (kind < 25) {
      int f = flags();
      remember(d_.create(s, p, data(), f), f);
    } else if (kind < 40) {
      std::string value = data();
      d_.set(s, p, value, version());
    } else if (kind < 55) {
      d_.remove(s, p, version());
    } else if (kind < 63) {
      d_.exists(s, p, watch("exists"));
    } else if (kind < 73) {
      d_.get(s, p, watch("get"));
    } else if (kind < 81) {
      if (rng_.chance(20)) p = root_;
      d_.children(s, p, watch("ls"));
    } else if (kind < 94) {
      std::vector<MultiOp> ops;
      for (int n = 2 + rng_.below(3); n > 0; --n) ops.push_back(multi_op());
      d_.multi(s, ops);
    } else if (kind < 97) {
      d_.get_acl(s, p);
    } else {
      int perms = rng_.chance(70) ? ZOO_PERM_ALL : ZOO_PERM_ALL & ~ZOO_PERM_WRITE;
      int v = rng_.pick(std::vector<int>{-1, 0, 1});
      d_.set_acl(s, p, v, Acl{{perms, "world", "anyone"}});
    }
  }

  Driver& d_;
  std::string root_;
  Rng rng_;
  std::vector<std::string> space_ = {root_ + "/a",   root_ + "/b",   root_ + "/c",
                                     root_ + "/a/x", root_ + "/a/y", root_ + "/b/x",
                                     root_ + "/b/y", root_ + "/c/x", root_ + "/c/y"};
  std::vector<std::string> extra_;
};

}  // namespace

void scenario_random(Driver& d, const ScenarioArgs& args) {
  d.line("seed=" + std::to_string(args.seed));
  RandomRun(d, args).run();
}

}  // namespace corral::compat
