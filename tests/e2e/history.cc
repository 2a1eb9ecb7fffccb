#include "tests/e2e/history.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <queue>
#include <set>

namespace corral::e2e {

namespace {

std::string hex(int64_t zxid) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<uint64_t>(zxid));
  return buf;
}

std::string quoted(const std::string& v) {
  return "'" + (v.size() > 40 ? v.substr(0, 37) + "..." : v) + "'";
}

bool unknown(const HistoryOp& op) {
  return op.outcome == Outcome::kUnknown || op.outcome == Outcome::kPending;
}

}  // namespace

// ---- History ----

size_t History::invoke(int client, OpKind kind, const std::string& path, const std::string& value,
                       bool synced) {
  HistoryOp op;
  op.client = client;
  op.kind = kind;
  op.path = path;
  op.value = kind == OpKind::kGet ? std::string() : value;
  op.synced = synced;
  op.invoke = Clock::now();
  return add(std::move(op));
}

void History::complete_write(size_t id, Outcome outcome, int rc, int64_t zxid) {
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  HistoryOp& op = ops_[id];
  op.complete = now;
  op.outcome = outcome;
  op.rc = rc;
  op.zxid = outcome == Outcome::kOk ? zxid : 0;
}

void History::complete_read(size_t id, Outcome outcome, int rc, bool found,
                            const std::string& value, int64_t mzxid) {
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  HistoryOp& op = ops_[id];
  op.complete = now;
  op.outcome = outcome;
  op.rc = rc;
  op.found = outcome == Outcome::kOk && found;
  op.value = op.found ? value : std::string();
  op.zxid = op.found ? mzxid : 0;
}

size_t History::add(HistoryOp op) {
  std::lock_guard lock(mu_);
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

std::vector<HistoryOp> History::ops() const {
  std::lock_guard lock(mu_);
  return ops_;
}

size_t History::size() const {
  std::lock_guard lock(mu_);
  return ops_.size();
}

// ---- HistoryChecker ----

HistoryChecker::HistoryChecker(std::vector<HistoryOp> ops) : ops_(std::move(ops)) {
  if (!ops_.empty()) {
    origin_ = ops_[0].invoke;
    for (auto& op : ops_) origin_ = std::min(origin_, op.invoke);
  }
  resolve();
}

int64_t HistoryChecker::effective_zxid(size_t i) const {
  if (!is_write(i)) return 0;
  if (ops_[i].outcome == Outcome::kOk) return ops_[i].zxid;
  return unknown(ops_[i]) ? learned_[i] : 0;
}

void HistoryChecker::resolve() {
  learned_.assign(ops_.size(), 0);
  for (size_t i = 0; i < ops_.size(); ++i)
    if (is_write(i)) writers_[{ops_[i].path, ops_[i].value}].push_back(i);

  // Each successful read that found its node is explained by exactly one write: the one with
  // that value on that path. An acknowledged write must have the zxid the read saw; an
  // unknown one took effect, with that zxid (every read of it must agree).
  for (size_t r = 0; r < ops_.size(); ++r) {
    const HistoryOp& read = ops_[r];
    if (read.kind != OpKind::kGet || read.outcome != Outcome::kOk || !read.found) continue;
    auto it = writers_.find({read.path, read.value});
    if (it == writers_.end()) {
      match_errors_.push_back(describe(r) + ": no write wrote this value on this path");
      continue;
    }
    std::optional<size_t> match, acked_other, failed;
    for (size_t w : it->second) {
      const HistoryOp& write = ops_[w];
      if (write.outcome == Outcome::kOk && write.zxid == read.zxid) match = w;
      if (write.outcome == Outcome::kOk && write.zxid != read.zxid) acked_other = w;
      if (write.outcome == Outcome::kFailed) failed = w;
    }
    if (!match) {
      for (size_t w : it->second) {
        if (!unknown(ops_[w])) continue;
        if (learned_[w] == 0) learned_[w] = read.zxid;
        if (learned_[w] == read.zxid) {
          match = w;
          break;
        }
      }
    }
    if (!match) {
      if (acked_other)
        match_errors_.push_back(describe(r) +
                                ": the value's write has another zxid: " + describe(*acked_other));
      else if (failed)
        match_errors_.push_back(describe(r) +
                                ": reads the value of a failed write: " + describe(*failed));
      else
        match_errors_.push_back(describe(r) + ": the value's write took effect with zxid " +
                                hex(learned_[it->second.front()]) + " according to other reads");
      continue;
    }
    if (read.zxid == 0) match_errors_.push_back(describe(r) + ": found the node but no mzxid");
    if (ops_[*match].invoke > read.complete)
      match_errors_.push_back(describe(r) + ": reads the value of a write invoked after the " +
                              "read completed: " + describe(*match));
  }

  for (size_t i = 0; i < ops_.size(); ++i)
    if (int64_t z = effective_zxid(i); z != 0) by_path_[ops_[i].path].push_back({z, i});
  for (auto& [path, writes] : by_path_) std::sort(writes.begin(), writes.end());
}

std::vector<std::string> HistoryChecker::unique_zxids() const {
  std::vector<std::string> out;
  std::map<int64_t, size_t> first;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!is_write(i)) continue;
    if (ops_[i].outcome == Outcome::kOk && ops_[i].zxid == 0) {
      out.push_back(describe(i) + ": acknowledged without a zxid");
      continue;
    }
    int64_t z = effective_zxid(i);
    if (z == 0) continue;
    auto [it, added] = first.emplace(z, i);
    if (!added)
      out.push_back(describe(i) + ": same zxid as another write: " + describe(it->second));
  }
  return out;
}

std::vector<std::string> HistoryChecker::write_order() const {
  // Sweep the writes in invocation order while folding in, in completion order, the
  // acknowledged writes that completed before each invocation: the largest zxid among those
  // must be below the invoked write's.
  std::vector<size_t> acked, effective;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!is_write(i)) continue;
    if (ops_[i].outcome == Outcome::kOk && ops_[i].zxid != 0) acked.push_back(i);
    if (effective_zxid(i) != 0) effective.push_back(i);
  }
  std::sort(acked.begin(), acked.end(),
            [&](size_t a, size_t b) { return ops_[a].complete < ops_[b].complete; });
  std::sort(effective.begin(), effective.end(),
            [&](size_t a, size_t b) { return ops_[a].invoke < ops_[b].invoke; });
  std::vector<std::string> out;
  size_t next = 0;
  std::optional<size_t> max_done;  // the completed write with the largest zxid so far
  for (size_t b : effective) {
    while (next < acked.size() && ops_[acked[next]].complete < ops_[b].invoke) {
      size_t a = acked[next++];
      if (!max_done || ops_[a].zxid > ops_[*max_done].zxid) max_done = a;
    }
    if (max_done && effective_zxid(b) <= ops_[*max_done].zxid)
      out.push_back(describe(b) + ": invoked after " + describe(*max_done) +
                    " completed, but its zxid is not larger");
  }
  return out;
}

std::vector<std::string> HistoryChecker::reads() const {
  std::vector<std::string> out = match_errors_;

  // Synced reads: at least as new as every acknowledged write on the path that completed
  // before the read's sync was invoked. Per path: acknowledged writes by completion time,
  // with the running maximum of their zxids.
  struct Done {
    HistoryOp::Clock::time_point complete;
    int64_t max_zxid;
    size_t max_op;
  };
  std::map<std::string, std::vector<Done>> done;
  {
    std::vector<size_t> acked;
    for (size_t i = 0; i < ops_.size(); ++i)
      if (is_write(i) && ops_[i].outcome == Outcome::kOk) acked.push_back(i);
    std::sort(acked.begin(), acked.end(),
              [&](size_t a, size_t b) { return ops_[a].complete < ops_[b].complete; });
    for (size_t a : acked) {
      auto& v = done[ops_[a].path];
      if (!v.empty() && v.back().max_zxid >= ops_[a].zxid)
        v.push_back({ops_[a].complete, v.back().max_zxid, v.back().max_op});
      else
        v.push_back({ops_[a].complete, ops_[a].zxid, a});
    }
  }
  for (size_t r = 0; r < ops_.size(); ++r) {
    const HistoryOp& read = ops_[r];
    if (read.kind != OpKind::kGet || !read.synced || read.outcome != Outcome::kOk) continue;
    auto it = done.find(read.path);
    if (it == done.end()) continue;
    auto before = std::lower_bound(
        it->second.begin(), it->second.end(), read.invoke,
        [](const Done& d, HistoryOp::Clock::time_point t) { return d.complete < t; });
    if (before == it->second.begin()) continue;
    const Done& latest = *std::prev(before);
    if (read.zxid < latest.max_zxid)
      out.push_back(describe(r) + ": stale after sync; " + describe(latest.max_op) +
                    " completed before the sync was invoked");
  }

  // Session order. Per client, in invocation order: Z is the largest zxid the client saw
  // (acknowledged writes, reads' mzxids) in operations that completed before this one was
  // invoked. The server that answers has applied everything up to Z, so a read of path p
  // must not be older than the latest write on p with zxid <= Z, and a write must get a
  // zxid above Z.
  std::map<int, std::vector<size_t>> per_client;
  for (size_t i = 0; i < ops_.size(); ++i) per_client[ops_[i].client].push_back(i);
  for (auto& [client, list] : per_client) {
    std::sort(list.begin(), list.end(),
              [&](size_t a, size_t b) { return ops_[a].invoke < ops_[b].invoke; });
    using Seen = std::pair<HistoryOp::Clock::time_point, size_t>;  // (complete, op)
    std::priority_queue<Seen, std::vector<Seen>, std::greater<Seen>> pending;
    int64_t z = 0;
    std::optional<size_t> z_op;
    for (size_t x : list) {
      const HistoryOp& op = ops_[x];
      while (!pending.empty() && pending.top().first < op.invoke) {
        size_t s = pending.top().second;
        pending.pop();
        if (ops_[s].zxid > z) z = ops_[s].zxid, z_op = s;
      }
      if (op.kind == OpKind::kGet && op.outcome == Outcome::kOk && z_op) {
        auto it = by_path_.find(op.path);
        if (it != by_path_.end()) {
          auto w =
              std::upper_bound(it->second.begin(), it->second.end(), std::make_pair(z, SIZE_MAX));
          if (w != it->second.begin()) {
            const auto& [wz, wi] = *std::prev(w);
            if (op.zxid < wz)
              out.push_back(describe(x) + ": older than its session saw: " + describe(*z_op) +
                            " came earlier, and " + describe(wi) + " was applied by then");
          }
        }
      }
      if (is_write(x) && z_op && effective_zxid(x) != 0 && effective_zxid(x) <= z)
        out.push_back(describe(x) +
                      ": zxid not above what its session saw before: " + describe(*z_op));
      if (op.outcome == Outcome::kOk && op.zxid != 0) pending.push({op.complete, x});
    }
  }
  return out;
}

std::vector<std::string> HistoryChecker::final_state(const std::vector<ServerState>& servers,
                                                     const std::string& prefix) const {
  std::vector<std::string> out;
  // Every path a write may have touched -> its acknowledged write with the largest zxid.
  std::map<std::string, std::optional<size_t>> paths;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!is_write(i) || ops_[i].outcome == Outcome::kFailed) continue;
    if (ops_[i].path.compare(0, prefix.size(), prefix) != 0) continue;
    auto& latest = paths[ops_[i].path];
    if (ops_[i].outcome == Outcome::kOk && (!latest || ops_[i].zxid > ops_[*latest].zxid))
      latest = i;
  }
  for (size_t s = 0; s < servers.size(); ++s) {
    const std::string who = "server " + std::to_string(s) + ": ";
    for (const auto& [path, latest] : paths) {
      auto it = servers[s].find(path);
      if (it == servers[s].end() || !it->second.found) {
        if (latest) out.push_back(who + path + " is missing; acknowledged " + describe(*latest));
        continue;
      }
      const NodeState& node = it->second;
      if (latest && node.mzxid < ops_[*latest].zxid)
        out.push_back(who + path + " has mzxid " + hex(node.mzxid) + ", older than acknowledged " +
                      describe(*latest));
      bool explained = false;
      if (auto w = writers_.find({path, node.value}); w != writers_.end())
        for (size_t i : w->second)
          if ((ops_[i].outcome == Outcome::kOk && ops_[i].zxid == node.mzxid) ||
              (unknown(ops_[i]) && (learned_[i] == 0 || learned_[i] == node.mzxid)))
            explained = true;
      if (!explained)
        out.push_back(who + path + " = " + quoted(node.value) + " mzxid " + hex(node.mzxid) +
                      ": no write explains it");
    }
  }
  // All servers agree on every path any of them reported.
  for (size_t s = 1; s < servers.size(); ++s) {
    std::set<std::string> reported;
    for (auto& [p, n] : servers[0]) reported.insert(p);
    for (auto& [p, n] : servers[s]) reported.insert(p);
    for (const std::string& p : reported) {
      NodeState a, b;
      if (auto it = servers[0].find(p); it != servers[0].end()) a = it->second;
      if (auto it = servers[s].find(p); it != servers[s].end()) b = it->second;
      bool same = a.found == b.found && a.value == b.value && a.mzxid == b.mzxid &&
                  (a.stat.empty() || b.stat.empty() || a.stat == b.stat);
      if (!same)
        out.push_back("servers 0 and " + std::to_string(s) + " disagree on " + p + ": " +
                      (a.found ? quoted(a.value) + " " + hex(a.mzxid) + " " + a.stat : "absent") +
                      " vs " +
                      (b.found ? quoted(b.value) + " " + hex(b.mzxid) + " " + b.stat : "absent"));
    }
  }
  return out;
}

std::vector<std::string> HistoryChecker::check() const {
  std::vector<std::string> out = unique_zxids();
  for (auto& v : write_order()) out.push_back(v);
  for (auto& v : reads()) out.push_back(v);
  return out;
}

HistoryStats HistoryChecker::stats() const {
  HistoryStats s;
  s.ops = ops_.size();
  for (size_t i = 0; i < ops_.size(); ++i) {
    const HistoryOp& op = ops_[i];
    if (is_write(i)) {
      if (op.outcome == Outcome::kOk) ++s.writes_ok;
      if (op.outcome == Outcome::kFailed) ++s.writes_failed;
      if (unknown(op)) ++s.writes_unknown, s.unknown_applied += learned_[i] != 0;
    } else if (op.outcome == Outcome::kOk) {
      ++s.reads_ok;
      s.reads_synced += op.synced;
      s.reads_absent += !op.found;
    } else {
      ++s.reads_failed;
    }
  }
  return s;
}

std::string HistoryChecker::describe(size_t i) const {
  const HistoryOp& op = ops_[i];
  static const char* kinds[] = {"create", "set", "get"};
  std::string s = "#" + std::to_string(i) + " c" + std::to_string(op.client) + " " +
                  kinds[static_cast<int>(op.kind)] + (op.synced ? "(synced) " : " ") + op.path;
  if (op.kind != OpKind::kGet) s += "=" + quoted(op.value);
  switch (op.outcome) {
    case Outcome::kOk:
      if (op.kind == OpKind::kGet)
        s += op.found ? " -> " + quoted(op.value) + " mzxid=" + hex(op.zxid) : " -> absent";
      else
        s += " ok zxid=" + hex(op.zxid);
      break;
    case Outcome::kFailed:
      s += " failed rc=" + std::to_string(op.rc);
      break;
    default:
      s += " unknown rc=" + std::to_string(op.rc);
      if (learned_[i]) s += " (applied as " + hex(learned_[i]) + ")";
  }
  auto secs = [&](HistoryOp::Clock::time_point t) {
    if (t == HistoryOp::Clock::time_point::max()) return std::string("never");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(t - origin_).count());
    return std::string(buf);
  };
  return s + " [" + secs(op.invoke) + ", " + secs(op.complete) + "]";
}

}  // namespace corral::e2e
