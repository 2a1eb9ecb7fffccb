// build/bin/corral-mw: the master-worker application's processes.
//
//   corral-mw master    --zk HOSTS [--id ID] [--session-timeout-ms N]
//   corral-mw worker    --zk HOSTS [--id ID] [--slots N] [--allow-shell] [--session-timeout-ms N]
//   corral-mw submit    --zk HOSTS --kind K --arg A [--count N] [--wait] [--timeout S]
//   corral-mw dashboard --zk HOSTS [--port 8080] [--history PATH.db] [--web DIR]
//                       [--bind ADDRESS] [--allow-shell] [--session-timeout-ms N]
//
// Test-only options, accepted but left out of the usage on purpose:
//   master --test-assign-delay-ms N   holds each decided assignment N ms before its multi,
//                                     without looking at leadership again (the fencing test)
//
// Logs go to stderr, one line per event. Bad arguments: usage on stderr, exit 2. SIGINT and
// SIGTERM stop a master or worker cleanly (its session is closed, so its ephemerals go at once);
// when the ensemble does not answer within kCloseWait, it exits anyway (exit 0) and leaves the
// session to expire.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "apps/master-worker/dashboard/dashboard.h"
#include "apps/master-worker/layout.h"
#include "apps/master-worker/master.h"
#include "apps/master-worker/submit.h"
#include "apps/master-worker/worker.h"

namespace {

using namespace corral::mw;

constexpr const char* kUsage =
    "usage:\n"
    "  corral-mw master    --zk HOSTS [--id ID] [--session-timeout-ms N]\n"
    "  corral-mw worker    --zk HOSTS [--id ID] [--slots N] [--allow-shell]\n"
    "                      [--session-timeout-ms N]\n"
    "  corral-mw submit    --zk HOSTS --kind sleep|hash|fail|shell --arg A [--count N]\n"
    "                      [--wait] [--timeout S]\n"
    "  corral-mw dashboard --zk HOSTS [--port 8080] [--history PATH.db] [--web DIR]\n"
    "                      [--bind ADDRESS] [--allow-shell] [--session-timeout-ms N]\n"
    "\n"
    "  --zk HOSTS              the ensemble: host:port[,host:port...]\n"
    "  --id ID                 master/worker id (default ROLE-HOST-PID)\n"
    "  --session-timeout-ms N  the session timeout asked of the ensemble (default 10000)\n"
    "  --slots N               tasks a worker runs at once (default 1)\n"
    "  --allow-shell           worker: run shell tasks; dashboard: accept them in POST\n"
    "  --count N               submit: how many tasks (default 1)\n"
    "  --wait                  submit: a progress bar until they are all finished\n"
    "  --timeout S             submit --wait: give up after S seconds (default 0: never)\n"
    "  --port P                dashboard: the HTTP port (default 8080)\n"
    "  --bind ADDRESS          dashboard: the address to listen on (default 127.0.0.1)\n"
    "  --history PATH.db       dashboard: SQLite history of finished tasks\n"
    "                          (default mw-history.db)\n"
    "  --web DIR               dashboard: the page's files (default: web/ of the source tree)\n";

/// How long a stopping master or worker waits for the ensemble to answer (resigning,
/// closing the session) before it exits anyway.
constexpr std::chrono::milliseconds kCloseWait{1000};

int usage(const std::string& why) {
  std::fprintf(stderr, "corral-mw: %s\n%s", why.c_str(), kUsage);
  return 2;
}

/// --name value options and --flag switches of one subcommand.
struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
};

/// Parses argv[from..] against the allowed options; an error message or "".
std::string parse_args(int argc, char** argv, int from, const std::set<std::string>& with_value,
                       const std::set<std::string>& switches, Args& out) {
  for (int i = from; i < argc; ++i) {
    std::string a = argv[i];
    if (with_value.count(a)) {
      if (i + 1 >= argc) return a + " needs a value";
      out.values[a] = argv[++i];
    } else if (switches.count(a)) {
      out.flags.insert(a);
    } else {
      return "unknown argument \"" + a + "\"";
    }
  }
  if (!out.values.count("--zk") || out.values["--zk"].empty()) return "--zk HOSTS is required";
  return "";
}

/// The integer value of option `name` in [min, max], `fallback` when absent; nullopt if bad.
std::optional<int64_t> int_arg(const Args& args, const std::string& name, int64_t fallback,
                               int64_t min, int64_t max) {
  auto it = args.values.find(name);
  if (it == args.values.end()) return fallback;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::string default_id(const char* role) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string id = std::string(role) + "-" + host + "-" + std::to_string(getpid());
  for (char& c : id)
    if (!valid_member_id(std::string(1, c))) c = '-';
  return id;
}

void setup_logging(const std::string& name) {
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l [%n] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

/// Runs `process` (a Master or Worker) on this thread until SIGINT/SIGTERM, then stops it:
/// at most kCloseWait for the ensemble (an unreachable one would keep the session's close
/// waiting until it expires, or forever), then the process exits anyway.
template <typename Process, typename Options>
int run_until_signal(Options options) {
  asio::io_context io;
  Process process(io, std::move(options));
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  signals.async_wait([&](const std::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    signals.async_wait([](const std::error_code&, int) {});  // a second signal: still clean
    deadline.expires_after(kCloseWait);
    deadline.async_wait([&io](const std::error_code& ec) {
      if (ec) return;
      spdlog::warn(
          "the ensemble did not answer within {} ms: exiting without closing the session "
          "(it expires by itself)",
          kCloseWait.count());
      io.stop();
    });
    process.stop([&io, &deadline] {
      deadline.cancel();
      io.stop();
    });
  });
  process.start();
  io.run();
  spdlog::info("stopped");
  return 0;
}

int master_main(int argc, char** argv) {
  Args args;
  if (auto why =
          parse_args(argc, argv, 2,
                     {"--zk", "--id", "--session-timeout-ms", "--test-assign-delay-ms"}, {}, args);
      !why.empty())
    return usage(why);
  MasterOptions o;
  o.zk = args.values["--zk"];
  o.id = args.values.count("--id") ? args.values["--id"] : default_id("master");
  if (!valid_member_id(o.id)) return usage("bad --id \"" + o.id + "\"");
  auto timeout = int_arg(args, "--session-timeout-ms", 10000, 1000, 600000);
  auto delay = int_arg(args, "--test-assign-delay-ms", 0, 0, 600000);
  if (!timeout) return usage("--session-timeout-ms wants 1000..600000");
  if (!delay) return usage("--test-assign-delay-ms wants 0..600000");
  o.session_timeout = std::chrono::milliseconds(*timeout);
  o.test_assign_delay = std::chrono::milliseconds(*delay);
  setup_logging("master " + o.id);
  return run_until_signal<Master>(std::move(o));
}

int worker_main(int argc, char** argv) {
  Args args;
  if (auto why = parse_args(argc, argv, 2, {"--zk", "--id", "--slots", "--session-timeout-ms"},
                            {"--allow-shell"}, args);
      !why.empty())
    return usage(why);
  WorkerOptions o;
  o.zk = args.values["--zk"];
  o.id = args.values.count("--id") ? args.values["--id"] : default_id("worker");
  if (!valid_member_id(o.id)) return usage("bad --id \"" + o.id + "\"");
  auto slots = int_arg(args, "--slots", 1, 1, 1024);
  auto timeout = int_arg(args, "--session-timeout-ms", 10000, 1000, 600000);
  if (!slots) return usage("--slots wants 1..1024");
  if (!timeout) return usage("--session-timeout-ms wants 1000..600000");
  o.slots = static_cast<int>(*slots);
  o.session_timeout = std::chrono::milliseconds(*timeout);
  o.allow_shell = args.flags.count("--allow-shell") > 0;
  setup_logging("worker " + o.id);
  return run_until_signal<Worker>(std::move(o));
}

int submit_main(int argc, char** argv) {
  Args args;
  if (auto why = parse_args(argc, argv, 2, {"--zk", "--kind", "--arg", "--count", "--timeout"},
                            {"--wait"}, args);
      !why.empty())
    return usage(why);
  SubmitOptions o;
  o.zk = args.values["--zk"];
  if (!args.values.count("--kind")) return usage("--kind is required");
  o.kind = args.values["--kind"];
  o.arg = args.values.count("--arg") ? args.values["--arg"] : "";
  if (auto why = validate_task(o.kind, o.arg); !why.empty()) return usage(why);
  auto count = int_arg(args, "--count", 1, 1, 1000000);
  auto timeout_s = int_arg(args, "--timeout", 0, 0, 86400 * 365);
  if (!count) return usage("--count wants 1..1000000");
  if (!timeout_s) return usage("--timeout wants seconds >= 0");
  o.count = static_cast<int>(*count);
  o.wait = args.flags.count("--wait") > 0;
  o.wait_timeout = std::chrono::seconds(*timeout_s);
  setup_logging("submit");
  return run_submit(o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("a command is required");
  std::string command = argv[1];
  if (command == "master") return master_main(argc, argv);
  if (command == "worker") return worker_main(argc, argv);
  if (command == "submit") return submit_main(argc, argv);
  if (command == "dashboard") return corral::mw::run_dashboard(argc - 1, argv + 1);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return usage("unknown command \"" + command + "\"");
}
