#include "tests/nemesis/checks.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <set>

namespace corral::nemesis {

namespace {

std::string hex(int64_t zxid) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<uint64_t>(zxid));
  return buf;
}

std::string describe(const CasRecord& op) {
  return "c" + std::to_string(op.client) + " set " + op.path + " from version " +
         std::to_string(op.expected_version) + " -> version " + std::to_string(op.new_version) +
         " zxid=" + hex(op.zxid);
}

std::string describe(const SeqCreate& op) {
  return "c" + std::to_string(op.client) + " create -> " + op.name + " czxid=" + hex(op.czxid);
}

std::string session_hex(int64_t id) { return hex(id); }

}  // namespace

std::vector<std::string> check_cas(const std::vector<CasRecord>& ops) {
  std::vector<std::string> out;
  std::map<std::string, std::vector<const CasRecord*>> by_path;
  for (const CasRecord& op : ops) {
    if (op.outcome != Outcome::kOk) continue;
    if (op.new_version != op.expected_version + 1)
      out.push_back(describe(op) + ": a CAS write must add one to the version");
    by_path[op.path].push_back(&op);
  }
  for (auto& [path, list] : by_path) {
    std::sort(list.begin(), list.end(),
              [](const CasRecord* a, const CasRecord* b) { return a->zxid < b->zxid; });
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i]->expected_version == list[i - 1]->expected_version)
        out.push_back("lost update: " + describe(*list[i - 1]) + " and " + describe(*list[i]) +
                      " were both acknowledged from the same version");
      else if (list[i]->new_version <= list[i - 1]->new_version)
        out.push_back(describe(*list[i]) + ": version not above that of the earlier zxid " +
                      describe(*list[i - 1]));
    }
  }
  return out;
}

int64_t sequence_of(const std::string& name) {
  if (name.size() < 10) return -1;
  int64_t v = 0;
  for (size_t i = name.size() - 10; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

std::vector<std::string> check_sequence(const std::vector<SeqCreate>& ops) {
  std::vector<std::string> out;
  std::vector<const SeqCreate*> acked;
  std::map<std::string, const SeqCreate*> by_name;
  for (const SeqCreate& op : ops) {
    if (op.outcome != Outcome::kOk) continue;
    if (sequence_of(op.name) < 0) out.push_back(describe(op) + ": no sequence number");
    auto [it, added] = by_name.emplace(op.name, &op);
    if (!added)
      out.push_back("duplicate sequence: " + describe(*it->second) + " and " + describe(op));
    acked.push_back(&op);
  }
  // Sequence order is commit (czxid) order.
  std::sort(acked.begin(), acked.end(),
            [](const SeqCreate* a, const SeqCreate* b) { return a->czxid < b->czxid; });
  for (size_t i = 1; i < acked.size(); ++i) {
    if (acked[i]->czxid == acked[i - 1]->czxid)
      out.push_back("duplicate czxid: " + describe(*acked[i - 1]) + " and " + describe(*acked[i]));
    else if (sequence_of(acked[i]->name) <= sequence_of(acked[i - 1]->name))
      out.push_back("sequence out of commit order: " + describe(*acked[i - 1]) + " then " +
                    describe(*acked[i]));
  }
  // Real time: a create that completed before another was invoked has the smaller number.
  std::vector<const SeqCreate*> by_complete = acked, by_invoke = acked;
  std::sort(by_complete.begin(), by_complete.end(),
            [](auto* a, auto* b) { return a->complete < b->complete; });
  std::sort(by_invoke.begin(), by_invoke.end(),
            [](auto* a, auto* b) { return a->invoke < b->invoke; });
  size_t next = 0;
  const SeqCreate* max_done = nullptr;
  for (const SeqCreate* b : by_invoke) {
    while (next < by_complete.size() && by_complete[next]->complete < b->invoke) {
      const SeqCreate* a = by_complete[next++];
      if (!max_done || sequence_of(a->name) > sequence_of(max_done->name)) max_done = a;
    }
    if (max_done && sequence_of(b->name) <= sequence_of(max_done->name))
      out.push_back(describe(*b) + ": invoked after " + describe(*max_done) +
                    " completed, but its sequence number is not larger");
  }
  return out;
}

std::vector<std::string> check_sequence_final(const std::vector<SeqCreate>& ops,
                                              const std::vector<SeqChildren>& servers) {
  std::vector<std::string> out;
  for (size_t s = 0; s < servers.size(); ++s) {
    const std::string who = "server " + std::to_string(s) + ": ";
    for (const SeqCreate& op : ops) {
      if (op.outcome != Outcome::kOk) continue;
      auto it = servers[s].find(op.name);
      if (it == servers[s].end())
        out.push_back(who + "lost acknowledged " + describe(op));
      else if (it->second != op.czxid)
        out.push_back(who + op.name + " has czxid " + hex(it->second) + ", acknowledged as " +
                      describe(op));
    }
    std::optional<std::pair<int64_t, std::string>> prev;  // by czxid
    std::map<int64_t, std::string> by_czxid;
    for (const auto& [name, czxid] : servers[s]) by_czxid[czxid] = name;
    for (const auto& [czxid, name] : by_czxid) {
      if (prev && sequence_of(name) <= sequence_of(prev->second))
        out.push_back(who + name + " (czxid " + hex(czxid) + ") has a sequence number not above " +
                      prev->second + " (czxid " + hex(prev->first) + ")");
      prev = {czxid, name};
    }
    if (s > 0 && servers[s] != servers[0])
      out.push_back("servers 0 and " + std::to_string(s) + " hold different sequential children (" +
                    std::to_string(servers[0].size()) + " vs " + std::to_string(servers[s].size()) +
                    ")");
  }
  return out;
}

std::vector<std::string> check_ephemerals(const std::vector<EphemeralSession>& sessions,
                                          const std::vector<EphemeralView>& servers) {
  std::vector<std::string> out;
  std::set<int64_t> alive;
  for (const auto& s : sessions)
    if (s.alive) alive.insert(s.session_id);
  for (size_t i = 0; i < servers.size(); ++i) {
    const std::string who = "server " + std::to_string(i) + ": ";
    for (const auto& s : sessions) {
      for (const std::string& path : s.created) {
        auto it = servers[i].find(path);
        if (!s.alive && it != servers[i].end())
          out.push_back(who + path + " outlived its session " + session_hex(s.session_id));
        if (s.alive && it == servers[i].end())
          out.push_back(who + "acknowledged ephemeral " + path + " of live session " +
                        session_hex(s.session_id) + " is missing");
        if (s.alive && it != servers[i].end() && it->second != s.session_id)
          out.push_back(who + path + " is owned by " + session_hex(it->second) + ", not by " +
                        session_hex(s.session_id));
      }
    }
    for (const auto& [path, owner] : servers[i])
      if (!alive.count(owner))
        out.push_back(who + path + " belongs to session " + session_hex(owner) +
                      ", which is not alive");
  }
  return out;
}

}  // namespace corral::nemesis
