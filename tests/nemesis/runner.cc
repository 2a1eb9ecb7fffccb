#include "tests/nemesis/runner.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <thread>

#include "tests/e2e/history.h"
#include "tests/nemesis/checks.h"
#include "tests/nemesis/churn.h"
#include "tests/nemesis/cluster.h"
#include "tests/nemesis/faults.h"
#include "tests/nemesis/netns.h"
#include "tests/nemesis/session.h"
#include "tests/nemesis/workload.h"

namespace corral::nemesis {

using namespace std::chrono_literals;

namespace {

constexpr int kTickMs = 200;
/// How long a healed ensemble may take to have a leader and every member serving again.
constexpr auto kRecoveryDeadline = 30s;
/// After a session's end (or the heal, if later) plus its timeout: the time its expiry may
/// take to be committed and applied everywhere (a few ticks of expiry checks, a commit).
constexpr auto kExpiryBound = 2000ms;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void append(std::vector<std::string>& to, const std::vector<std::string>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Polls `read` (one state per server, or false if a server did not answer) until every
// server answers and all agree (`same`), or the deadline passes; the last states read.
template <typename State, typename Read, typename Same>
std::vector<State> converged(int servers, Read read, Same same_state, Clock::time_point deadline) {
  std::vector<State> states;
  for (;;) {
    states.assign(static_cast<size_t>(servers), State{});
    bool all = true;
    for (int i = 0; i < servers && all; ++i) all = read(i, states[static_cast<size_t>(i)]);
    bool same = all && std::all_of(states.begin(), states.end(),
                                   [&](const State& s) { return same_state(s, states[0]); });
    if (same || Clock::now() >= deadline) return states;
    std::this_thread::sleep_for(50ms);
  }
}

bool read_registers(Cluster& c, int i, e2e::ServerState& out) {
  Session s(c.host_port(i), 4000ms);
  for (int r = 0; r < kRegisters && s.connected(); ++r) {
    auto g = s.get(register_path(r));
    if (!g || (!g->ok() && g->error() != ErrorCode::kNoNode)) return false;
    e2e::NodeState& n = out[register_path(r)];
    n.found = g->ok();
    n.value = g->value().data;
    n.mzxid = g->value().stat.mzxid;
    n.stat = "version=" + std::to_string(g->value().stat.version);
  }
  return s.connected();
}

// Children of `parent` on server i with a Stat field of each (czxid or ephemeralOwner).
template <typename Field>
bool read_children(Cluster& c, int i, const std::string& parent, Field field,
                   std::map<std::string, int64_t>& out) {
  Session s(c.host_port(i), 4000ms);
  auto list = s.connected() ? s.children(parent) : std::nullopt;
  if (!list || !list->ok()) return false;
  for (const std::string& name : list->value().children) {
    auto st = s.exists(parent + "/" + name);
    if (!st || (!st->ok() && st->error() != ErrorCode::kNoNode)) return false;
    if (st->ok()) out[name] = field(st->value());
  }
  return true;
}

// Runs the schedule; errors get liveness failures. The time the ensemble was last healed.
Clock::time_point run_faults(const RunConfig& cfg, Topology& net, Cluster& cluster,
                             std::ostringstream& log, RunReport& report) {
  Nemesis nemesis(net, cluster);
  Clock::duration worst_recovery{};
  for (const Fault& f : make_schedule(cfg.seed, cfg.duration)) {
    std::string what = nemesis.apply(f);
    std::this_thread::sleep_for(f.duration);
    bool healed = nemesis.heal();
    const auto heal_at = Clock::now();
    int leader = cluster.wait_for_quorum(heal_at + kRecoveryDeadline);
    const auto recovery = Clock::now() - heal_at;
    worst_recovery = std::max(worst_recovery, recovery);
    char line[256];
    std::snprintf(line, sizeof line, "  %-40s -> %s; leader s%d %.2fs after heal\n",
                  describe(f).c_str(), what.c_str(), leader + 1, seconds(recovery));
    log << line;
    if (what.rfind("failed", 0) == 0 || !healed) report.errors.push_back("nemesis: " + what);
    if (leader < 0) {
      report.errors.push_back("no quorum " + std::to_string(kRecoveryDeadline.count()) +
                              "s after healing " + describe(f));
      return Clock::now();
    }
    std::this_thread::sleep_for(f.calm);
  }
  log << "  worst recovery " << seconds(worst_recovery) << "s\n";
  return Clock::now();
}

// Every server's ephemerals under kEphemeralRoot; false if one did not answer.
bool read_ephemerals(Cluster& cluster, std::vector<EphemeralView>& views) {
  auto owner = [](const client::Stat& st) { return st.ephemeral_owner; };
  views.assign(static_cast<size_t>(cluster.size()), EphemeralView{});
  bool all = true;
  for (int i = 0; i < cluster.size(); ++i) {
    std::map<std::string, int64_t> children;
    all = read_children(cluster, i, kEphemeralRoot, owner, children) && all;
    for (auto& [name, o] : children)
      views[static_cast<size_t>(i)][std::string(kEphemeralRoot) + "/" + name] = o;
  }
  return all;
}

// The ephemerals on each server, polled until they pass the check or the deadline passes.
// Past the deadline, polling goes on a while only to tell a late expiry from none at all.
void check_final_ephemerals(Cluster& cluster, const EphemeralChurn& churn, Clock::time_point healed,
                            std::ostringstream& log, RunReport& report) {
  const auto sessions = churn.sessions();
  Clock::time_point deadline = healed;
  for (const auto& s : sessions)
    if (!s.alive)
      deadline = std::max(
          deadline, std::max(s.ended, healed) + std::chrono::milliseconds(churn.max_timeout_ms()));
  deadline += kExpiryBound;
  std::vector<EphemeralView> views;
  std::vector<std::string> violations, at_deadline;
  for (;;) {
    bool all = read_ephemerals(cluster, views);
    violations = check_ephemerals(sessions, views);
    if (!all) violations.push_back("a server did not list its ephemerals");
    if (violations.empty() || Clock::now() >= deadline + 10s) break;
    if (Clock::now() >= deadline && at_deadline.empty()) at_deadline = violations;
    std::this_thread::sleep_for(100ms);
  }
  const double settled = seconds(Clock::now() - healed);
  size_t closed = 0;
  for (const auto& s : sessions) closed += s.closed;
  log << "  ephemeral sessions: " << sessions.size() << " (" << closed
      << " closed, the others' owners killed); ephemerals settled " << settled
      << "s after heal (bound " << seconds(deadline - healed) << "s)\n";
  if (at_deadline.empty()) return;
  const std::string late = violations.empty()
                               ? "gone " + std::to_string(settled) + "s after heal, past the bound"
                               : "still there 10s past the bound";
  for (const auto& v : at_deadline) report.violations.push_back(v + " (" + late + ")");
  for (const auto& s : sessions)
    for (const auto& [path, owner] : views.empty() ? EphemeralView{} : views[0])
      if (owner == s.session_id && !s.alive)
        log << "  lingering " << path << ": session ended " << seconds(s.ended - healed)
            << "s after heal, " << (s.closed ? "closed" : "owner killed") << "\n";
}

void check_final(Cluster& cluster, Recorder& rec, EphemeralChurn& churn, Clock::time_point healed,
                 std::ostringstream& log, RunReport& report) {
  const int n = cluster.size();
  const auto deadline = Clock::now() + 15s;
  auto same_registers = [](const e2e::ServerState& a, const e2e::ServerState& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
      return x.first == y.first && x.second.found == y.second.found &&
             x.second.value == y.second.value && x.second.mzxid == y.second.mzxid;
    });
  };
  auto registers = converged<e2e::ServerState>(
      n, [&](int i, e2e::ServerState& s) { return read_registers(cluster, i, s); }, same_registers,
      deadline);
  auto czxid = [](const client::Stat& st) { return st.czxid; };
  auto children = converged<SeqChildren>(
      n, [&](int i, SeqChildren& s) { return read_children(cluster, i, kSequenceRoot, czxid, s); },
      std::equal_to<SeqChildren>(), deadline);

  e2e::HistoryChecker checker(rec.history.ops());
  append(report.violations, checker.check());
  append(report.violations, checker.final_state(registers, kRegisterRoot));
  std::vector<SeqCreate> creates;
  std::vector<CasRecord> cas;
  {
    std::lock_guard lock(rec.mu);
    creates = rec.creates;
    cas = rec.cas;
  }
  append(report.violations, check_cas(cas));
  append(report.violations, check_sequence(creates));
  append(report.violations, check_sequence_final(creates, children));
  check_final_ephemerals(cluster, churn, healed, log, report);

  const e2e::HistoryStats st = checker.stats();
  size_t cas_ok = 0, seq_ok = 0;
  for (const auto& c : cas) cas_ok += c.outcome == Outcome::kOk;
  for (const auto& c : creates) seq_ok += c.outcome == Outcome::kOk;
  log << "  register ops " << st.ops << ": CAS writes " << st.writes_ok << " ok, "
      << st.writes_failed << " failed, " << st.writes_unknown << " unknown (" << st.unknown_applied
      << " seen applied); reads " << st.reads_ok << " ok (" << st.reads_synced << " after sync), "
      << st.reads_failed << " unanswered\n"
      << "  sequential creates " << creates.size() << " (" << seq_ok << " acknowledged), "
      << "children on server 0: " << children[0].size() << "; clients (sessions) "
      << rec.clients.load() << "; CAS acked " << cas_ok << "\n";
}

}  // namespace

RunReport run_nemesis(const RunConfig& cfg) {
  RunReport report;
  std::ostringstream log;
  const auto start = Clock::now();
  Topology net(cfg.members);
  if (!net.ok()) {
    report.errors.push_back("network: " + net.error());
    return report;
  }
  Cluster cluster(net, kTickMs);
  for (int i = 0; i < cluster.size(); ++i) cluster.start(i);
  if (cluster.wait_for_quorum(Clock::now() + kRecoveryDeadline) < 0) {
    report.errors.push_back("the ensemble never formed a quorum");
    report.cluster_state = cluster.describe();
    return report;
  }
  log << "  " << cfg.members << " members up " << seconds(Clock::now() - start)
      << "s after start\n";
  Recorder rec;
  std::string error;
  if (!Workload::setup(cluster.connect_string(), rec, &error)) {
    report.errors.push_back(error);
    report.cluster_state = cluster.describe();
    return report;
  }
  Clock::time_point healed;
  {
    Workload workload(cluster.connect_string(), rec, cfg.seed, cfg.register_clients);
    EphemeralChurn churn(cluster.connect_string(), cfg.seed);
    healed = run_faults(cfg, net, cluster, log, report);
    workload.stop();
    churn.stop();
    if (report.errors.empty()) {
      if (!churn.start_survivor(cluster.connect_string()))
        report.errors.push_back("the survivor owner did not get its session and ephemerals");
      check_final(cluster, rec, churn, healed, log, report);
    }
  }
  log << "  run took " << seconds(Clock::now() - start) << "s\n";
  report.log = log.str();
  if (!report.errors.empty() || !report.violations.empty()) {
    report.cluster_state = cluster.describe();
    cluster.keep_dir();
  }
  return report;
}

}  // namespace corral::nemesis
