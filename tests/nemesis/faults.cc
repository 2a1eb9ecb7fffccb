#include "tests/nemesis/faults.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace corral::nemesis {

namespace {

constexpr FaultKind kAllKinds[] = {
    FaultKind::kIsolateLeader, FaultKind::kMinoritySplit, FaultKind::kSplitAll,
    FaultKind::kBridge,        FaultKind::kOneWay,        FaultKind::kPauseLeader,
    FaultKind::kPauseMember,   FaultKind::kKillLeader,    FaultKind::kKillFollower,
    FaultKind::kKillMajority,  FaultKind::kCrashRestart,
};

const char* kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::kIsolateLeader:
      return "isolate-leader";
    case FaultKind::kMinoritySplit:
      return "minority-split";
    case FaultKind::kSplitAll:
      return "split-all";
    case FaultKind::kBridge:
      return "bridge";
    case FaultKind::kOneWay:
      return "one-way";
    case FaultKind::kPauseLeader:
      return "pause-leader";
    case FaultKind::kPauseMember:
      return "pause-member";
    case FaultKind::kKillLeader:
      return "kill-leader";
    case FaultKind::kKillFollower:
      return "kill-follower";
    case FaultKind::kKillMajority:
      return "kill-majority";
    case FaultKind::kCrashRestart:
      return "crash-restart";
  }
  return "?";
}

// The members in an order drawn from `pick`.
std::vector<int> shuffled(int n, uint32_t pick) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  std::mt19937 rng(pick);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

}  // namespace

std::vector<Fault> make_schedule(uint64_t seed, std::chrono::milliseconds duration) {
  std::mt19937_64 rng(seed);
  std::vector<Fault> out;
  std::chrono::milliseconds total{0};
  // Every kind once in a seeded order first, so short runs still cover them all, then more.
  std::vector<FaultKind> order(std::begin(kAllKinds), std::end(kAllKinds));
  std::shuffle(order.begin(), order.end(), rng);
  while (total < duration) {
    Fault f;
    f.kind =
        out.size() < order.size() ? order[out.size()] : kAllKinds[rng() % std::size(kAllKinds)];
    for (auto& p : f.pick) p = static_cast<uint32_t>(rng());
    f.duration = std::chrono::milliseconds(600 + rng() % 1900);
    f.calm = std::chrono::milliseconds(200 + rng() % 600);
    total += f.duration + f.calm;
    out.push_back(f);
  }
  return out;
}

std::string describe(const Fault& f) {
  return std::string(kind_name(f.kind)) + " " + std::to_string(f.duration.count()) + "ms (+" +
         std::to_string(f.calm.count()) + "ms calm)";
}

int Nemesis::leader_or(uint32_t pick) {
  // A busy member may miss one srvr deadline: give the ensemble a moment to answer.
  int l = cluster_.wait_for_quorum(Clock::now() + std::chrono::seconds(2));
  if (l >= 0) return l;
  note_ = " (no single leader within 2 s: member picked at random)";
  return static_cast<int>(pick % static_cast<uint32_t>(cluster_.size()));
}

int Nemesis::other(int not_this, uint32_t pick) const {
  const int n = cluster_.size();
  return (not_this + 1 + static_cast<int>(pick % static_cast<uint32_t>(n - 1))) % n;
}

std::string Nemesis::split(const std::vector<std::vector<int>>& groups) {
  std::string text;
  for (const auto& g : groups) {
    text += text.empty() ? "" : " |";
    for (int m : g) text += " " + name(m);
  }
  return net_.partition(groups) ? "split" + text : "failed: " + net_.error();
}

std::string Nemesis::apply(const Fault& f) {
  note_.clear();
  std::string what = inflict(f);
  return what + note_;
}

std::string Nemesis::inflict(const Fault& f) {
  const int n = cluster_.size();
  std::vector<int> order = shuffled(n, f.pick[1]);
  switch (f.kind) {
    case FaultKind::kIsolateLeader: {
      int l = leader_or(f.pick[0]);
      std::vector<int> rest;
      for (int i = 0; i < n; ++i)
        if (i != l) rest.push_back(i);
      return "isolate leader: " + split({{l}, rest});
    }
    case FaultKind::kMinoritySplit: {
      const auto minority = static_cast<size_t>((n - 1) / 2);
      return split({std::vector<int>(order.begin(), order.begin() + minority),
                    std::vector<int>(order.begin() + minority, order.end())});
    }
    case FaultKind::kSplitAll: {
      // Singletons of 3; two pairs and a single of 5: no group has a majority.
      const size_t per = n > 3 ? 2 : 1;
      std::vector<std::vector<int>> groups;
      for (size_t i = 0; i < order.size(); i += per)
        groups.emplace_back(order.begin() + static_cast<long>(i),
                            order.begin() + static_cast<long>(std::min(order.size(), i + per)));
      return split(groups);
    }
    case FaultKind::kBridge:
      return net_.cut(order[0], order[1])
                 ? "bridge: " + name(order[0]) + " and " + name(order[1]) + " cannot talk"
                 : "failed: " + net_.error();
    case FaultKind::kOneWay: {
      int l = leader_or(f.pick[0]), follower = other(l, f.pick[2] / 3);
      bool ok = true;
      std::string what;
      switch (f.pick[2] % 3) {
        case 0:
          ok = net_.drop(l, follower), what = "drop " + name(l) + "->" + name(follower);
          break;
        case 1:
          ok = net_.drop(follower, l), what = "drop " + name(follower) + "->" + name(l);
          break;
        default:
          for (int i = 0; i < n; ++i)
            if (i != l) ok = net_.drop(l, i) && ok;
          what = "drop " + name(l) + "->everyone";
      }
      return ok ? "one-way: " + what : "failed: " + net_.error();
    }
    case FaultKind::kPauseLeader:
    case FaultKind::kPauseMember: {
      int m = f.kind == FaultKind::kPauseLeader ? leader_or(f.pick[0]) : order[0];
      return cluster_.pause(m) ? "pause " + name(m) : "failed: pause " + name(m);
    }
    case FaultKind::kKillLeader:
    case FaultKind::kKillFollower: {
      int l = leader_or(f.pick[0]);
      int m = f.kind == FaultKind::kKillLeader ? l : other(l, f.pick[2]);
      cluster_.kill9(m);
      return "kill -9 " + name(m);
    }
    case FaultKind::kKillMajority: {
      std::string what = "kill -9";
      for (size_t i = 0; i < static_cast<size_t>(n / 2 + 1); ++i) {
        cluster_.kill9(order[i]);
        what += " " + name(order[i]);
      }
      return what;
    }
    case FaultKind::kCrashRestart:
      cluster_.kill9(order[0]);
      return cluster_.start(order[0]) ? "crash and restart " + name(order[0])
                                      : "failed: restart " + name(order[0]);
  }
  return "failed: unknown fault";
}

bool Nemesis::heal() {
  bool ok = net_.heal();
  for (int i = 0; i < cluster_.size(); ++i) {
    if (cluster_.paused(i)) ok = cluster_.resume(i) && ok;
    if (!cluster_.running(i)) ok = cluster_.start(i) && ok;
  }
  return ok;
}

}  // namespace corral::nemesis
