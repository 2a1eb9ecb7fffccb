#include "client/cli/recipe_commands.h"

#include <unistd.h>

#include <asio/use_future.hpp>
#include <atomic>
#include <csignal>
#include <future>

#include "client/cli/child_process.h"
#include "client/cli/commands.h"
#include "corral/client/client.h"
#include "corral/recipes/barrier.h"
#include "corral/recipes/group_member.h"
#include "corral/recipes/leader_latch.h"
#include "corral/recipes/mutex.h"
#include "corral/recipes/shared_counter.h"

namespace corral::cli {
namespace {

using client::ErrorCode;
using recipes::kWaitForever;
using Clock = std::chrono::steady_clock;

/// This process, as other participants see it.
std::string default_id() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

std::chrono::milliseconds timeout_of(const RecipeCommand& c) {
  return c.timeout.value_or(kWaitForever);
}

int fail(Printer& out, const std::string& what, const std::string& path, ErrorCode err) {
  out.error(what, path, err);
  return kExitZooKeeperError;
}

/// True once the session is lost, or has been suspended longer than its timeout (a client
/// cut off from every server cannot hear that its session expired, but it has by then).
class SessionGuard {
 public:
  explicit SessionGuard(client::Client& c) : client_(c) {
    sub_ = c.subscribe_state([this](client::ConnectionState s) {
      if (s == client::ConnectionState::kSuspended)
        suspended_at_ = Clock::now().time_since_epoch().count();
      if (s == client::ConnectionState::kReconnected || s == client::ConnectionState::kConnected)
        suspended_at_ = 0;
      if (s == client::ConnectionState::kLost || s == client::ConnectionState::kClosed ||
          s == client::ConnectionState::kAuthFailed)
        lost_ = true;
    });
  }
  bool lost() const {
    auto since = suspended_at_.load();
    if (lost_ || since == 0) return lost_;
    return Clock::now() - Clock::time_point(Clock::duration(since)) > client_.session_timeout();
  }

 private:
  client::Client& client_;
  std::atomic<bool> lost_{false};
  std::atomic<Clock::rep> suspended_at_{0};
  client::StateSubscription sub_;
};

int run_lock(client::Client& c, Printer& out, const RecipeCommand& cmd) {
  recipes::Mutex lock(c, cmd.path, default_id());
  SessionGuard guard(c);
  auto grant = lock.acquire(timeout_of(cmd), asio::use_future).get();
  if (!grant) return fail(out, "lock", cmd.path, grant.error());
  int status = run_child(cmd.command,
                         {{"CORRAL_FENCING_TOKEN", std::to_string(grant->fencing_token)},
                          {"CORRAL_LOCK_NODE", grant->node}},
                         [&] { return guard.lost(); });
  if (guard.lost()) {
    out.message("corral: the session holding " + cmd.path + " was lost; the command was stopped");
    return status;
  }
  lock.release(asio::use_future).get();
  return status;
}

int run_elect(client::Client& c, Printer& out, const RecipeCommand& cmd) {
  recipes::LeaderLatch latch(c, cmd.path, cmd.data.empty() ? default_id() : cmd.data);
  latch.start();
  auto led = latch.await_leadership(kWaitForever, asio::use_future).get();
  if (!led) return fail(out, "elect", cmd.path, led.error());
  int status = run_child(cmd.command, {}, [&] { return !latch.is_leader(); });
  bool lost = !latch.is_leader();
  latch.close(asio::use_future).get();
  if (lost) out.message("corral: leadership of " + cmd.path + " was lost; the command was stopped");
  return status;
}

int list_election(client::Client& c, Printer& out, const RecipeCommand& cmd) {
  auto all = recipes::LeaderLatch::list(c, cmd.path, asio::use_future).get();
  if (!all) return fail(out, "elect --list", cmd.path, all.error());
  nlohmann::json rows = nlohmann::json::array();
  std::string text;
  for (const auto& who : *all) {
    text += (who.id.empty() ? who.node : who.id) + "\n";
    rows.push_back({{"id", who.id}, {"node", who.node}, {"leader", who.is_leader}});
  }
  out.result(text, {{"participants", rows}});
  return kExitOk;
}

int run_barrier(client::Client& c, Printer& out, const RecipeCommand& cmd) {
  recipes::Barrier barrier(c, cmd.path);
  client::Result<void> r;
  const char* what = "barrier";
  switch (cmd.verb) {
    case RecipeVerb::kBarrierSet:
      r = barrier.set(asio::use_future).get();
      break;
    case RecipeVerb::kBarrierRemove:
      r = barrier.remove(asio::use_future).get();
      break;
    default:
      r = barrier.wait(timeout_of(cmd), asio::use_future).get();
      break;
  }
  return r ? kExitOk : fail(out, what, cmd.path, r.error());
}

/// Waits for SIGINT or SIGTERM, or for `gone()`; true if a signal came.
bool wait_for_signal(const std::function<bool()>& gone) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  timespec tick{0, 100'000'000};
  while (!gone())
    if (sigtimedwait(&signals, nullptr, &tick) > 0) return true;
  return false;
}

int run_group(client::Client& c, Printer& out, const RecipeCommand& cmd) {
  if (cmd.verb == RecipeVerb::kGroupLs) {
    auto members = recipes::GroupMember::members(c, cmd.path, asio::use_future).get();
    if (!members) return fail(out, "group ls", cmd.path, members.error());
    nlohmann::json rows = nlohmann::json::array();
    std::string text;
    for (const auto& m : *members) {
      text += m.id + (m.data.empty() ? "" : "\t" + m.data) + "\n";
      rows.push_back({{"id", m.id}, {"data", m.data}});
    }
    out.result(text, {{"members", rows}});
    return kExitOk;
  }
  recipes::GroupMember me(c, cmd.path, cmd.id, cmd.data);
  auto joined = me.join(asio::use_future).get();
  if (!joined) return fail(out, "group join", cmd.path, joined.error());
  out.message("joined " + cmd.path + " as " + cmd.id + "; Ctrl-C leaves");
  if (!wait_for_signal([&] { return !me.joined(); })) {
    out.message("corral: the session was lost: no longer a member of " + cmd.path);
    return kExitZooKeeperError;
  }
  me.leave(asio::use_future).get();
  return kExitOk;
}

int run_counter(client::Client& c, Printer& out, const RecipeCommand& cmd) {
  recipes::SharedCounter counter(c, cmd.path);
  if (cmd.verb == RecipeVerb::kCounterGet) {
    auto v = counter.get(asio::use_future).get();
    if (!v) return fail(out, "counter get", cmd.path, v.error());
    out.result(std::to_string(v->value) + "\n", {{"value", v->value}, {"version", v->version}});
    return kExitOk;
  }
  auto v = counter.add(cmd.delta, asio::use_future).get();
  if (!v) return fail(out, "counter add", cmd.path, v.error());
  out.result(std::to_string(*v) + "\n", {{"value", *v}});
  return kExitOk;
}

}  // namespace

int run_recipe_command(client::BlockingClient& client, Printer& out, const RecipeCommand& command) {
  client::Client& c = client.async();
  switch (command.verb) {
    case RecipeVerb::kLock:
      return run_lock(c, out, command);
    case RecipeVerb::kElect:
      return run_elect(c, out, command);
    case RecipeVerb::kElectList:
      return list_election(c, out, command);
    case RecipeVerb::kBarrierSet:
    case RecipeVerb::kBarrierRemove:
    case RecipeVerb::kBarrierWait:
      return run_barrier(c, out, command);
    case RecipeVerb::kGroupJoin:
    case RecipeVerb::kGroupLs:
      return run_group(c, out, command);
    case RecipeVerb::kCounterGet:
    case RecipeVerb::kCounterAdd:
      return run_counter(c, out, command);
  }
  return kExitUsage;
}

}  // namespace corral::cli
