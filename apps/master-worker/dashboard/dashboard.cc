#include "apps/master-worker/dashboard/dashboard.h"

#include <cpprest/http_listener.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "apps/master-worker/dashboard/cluster.h"
#include "apps/master-worker/dashboard/events.h"
#include "apps/master-worker/dashboard/history.h"
#include "apps/master-worker/dashboard/model.h"
#include "apps/master-worker/dashboard/rest_api.h"
#include "apps/master-worker/dashboard/static_files.h"

namespace corral::mw {
namespace {

constexpr const char* kUsage =
    "usage: corral-mw dashboard --zk HOSTS [--port 8080] [--history PATH.db] [--web DIR]\n"
    "                           [--bind ADDRESS] [--allow-shell] [--session-timeout-ms N]\n"
    "  --bind        the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)\n"
    "  --history     the SQLite database of finished tasks (default mw-history.db)\n"
    "  --web         the page's files (default: web/ of the source tree)\n"
    "  --allow-shell accept shell tasks in POST /api/tasks\n";

int usage(const std::string& why) {
  std::fprintf(stderr, "corral-mw dashboard: %s\n%s", why.c_str(), kUsage);
  return 2;
}

/// The dashboard's options.
struct DashboardOptions {
  std::string zk;
  int port = 8080;
  std::string history = "mw-history.db";
  std::string web;
  std::string bind = "127.0.0.1";
  bool allow_shell = false;
  int session_timeout_ms = 10000;
};

bool parse_int(const std::string& s, int min, int max, int& out) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < min || v > max)
    return false;
  out = v;
  return true;
}

/// argv[1..]: an error message, or "".
std::string parse_options(int argc, char** argv, DashboardOptions& o) {
  const std::set<std::string> with_value = {"--zk",  "--port", "--history",
                                            "--web", "--bind", "--session-timeout-ms"};
  std::map<std::string, std::string> values;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--allow-shell") {
      o.allow_shell = true;
    } else if (with_value.count(a)) {
      if (i + 1 >= argc) return a + " needs a value";
      values[a] = argv[++i];
    } else {
      return "unknown argument \"" + a + "\"";
    }
  }
  o.zk = values["--zk"];
  if (o.zk.empty()) return "--zk HOSTS is required";
  if (values.count("--port") && !parse_int(values["--port"], 1, 65535, o.port))
    return "--port wants 1..65535";
  if (values.count("--session-timeout-ms") &&
      !parse_int(values["--session-timeout-ms"], 1000, 600000, o.session_timeout_ms))
    return "--session-timeout-ms wants 1000..600000";
  if (values.count("--history")) o.history = values["--history"];
  if (o.history.empty()) return "--history wants a path";
  if (values.count("--web")) o.web = values["--web"];
  if (values.count("--bind")) o.bind = values["--bind"];
  return "";
}

void setup_logging() {
  auto logger = spdlog::stderr_logger_mt("dashboard");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l [%n] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

/// Blocks SIGINT and SIGTERM in this thread and every thread started after; waits for one.
class SignalWaiter {
 public:
  SignalWaiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int wait() {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

}  // namespace

int run_dashboard(int argc, char** argv) {
  DashboardOptions o;
  if (auto why = parse_options(argc, argv, o); !why.empty()) return usage(why);
  // Before any thread starts: they all inherit the blocked signals.
  SignalWaiter signals;
  setup_logging();

  std::string error;
  auto history = History::open(o.history, error);
  if (!history) {
    spdlog::error("history: {}", error);
    return 1;
  }
  StaticFiles files(find_web_dir(o.web, nullptr));
  EventHub hub;
  ClusterView cluster(o.zk, std::chrono::milliseconds(2000));
  Model model(o.zk, *history, hub, std::chrono::milliseconds(o.session_timeout_ms));
  RestApi api(RestContext{model, *history, cluster, hub, files, o.allow_shell});

  std::string host = o.bind.find(':') != std::string::npos ? "[" + o.bind + "]" : o.bind;
  std::string url = "http://" + host + ":" + std::to_string(o.port);
  web::http::experimental::listener::http_listener listener(url);
  listener.support([&api](const web::http::http_request& request) { api.handle(request); });
  try {
    listener.open().wait();
  } catch (const std::exception& e) {
    spdlog::error("cannot listen on {}: {}", url, e.what());
    return 1;
  }
  cluster.start();
  model.start();
  spdlog::info("dashboard on {}/ (ensemble {}, history {}, web {}{})", url, o.zk, o.history,
               files.dir().string(), o.allow_shell ? ", shell tasks allowed" : "");

  int sig = signals.wait();
  spdlog::info("signal {}: shutting down", sig);
  hub.stop();
  try {
    listener.close().wait();
  } catch (const std::exception& e) {
    spdlog::warn("closing the listener: {}", e.what());
  }
  model.stop();
  cluster.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace corral::mw
