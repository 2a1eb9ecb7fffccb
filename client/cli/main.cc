// corral: ZooKeeper's command-line client, for Corral and Apache ZooKeeper alike.
//
//   corral -s HOSTS [--timeout MS] [--json] [--readonly] [-a SCHEME:AUTH]
//          [--sasl USER:PASS | --jaas FILE] [COMMAND ARGS...]
//
// Runs one command and exits (0 ok, 1 ZooKeeper error -- a refused SASL login too, 2 bad
// usage, 3 no connection), or without a command starts an interactive shell.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/cli/context.h"
#include "client/cli/recipe_args.h"
#include "client/cli/recipe_commands.h"
#include "client/cli/sasl_login.h"
#include "client/cli/shell.h"
#include "corral/client/blocking.h"

namespace corral::cli {
namespace {

using Sasl = std::optional<client::SaslCredentials>;

// Options for the session: the client's state changes go to `events`.
client::Options session_options(const GlobalOptions& g, const Sasl& sasl, EventQueue& events) {
  client::Options o;
  o.sasl = sasl;
  o.connect_string = g.hosts;
  o.session_timeout = g.timeout;
  o.can_be_read_only = g.read_only;
  if (g.tls) o.tls = client::TlsOptions{g.tls_ca, g.tls_cert, g.tls_key, "", g.tls_verify_host};
  o.on_state = [&events](client::ConnectionState state) {
    events.push(Event{state, client::EventType::kNone, ""});
  };
  return o;
}

// Starts the client with SIGINT and SIGTERM blocked, so that its thread inherits the mask
// and the signals reach the main thread, which waits for them (and reads the terminal).
std::unique_ptr<client::BlockingClient> start_client(client::Options options) {
  sigset_t signals, old;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &old);
  auto c = std::make_unique<client::BlockingClient>(std::move(options));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return c;
}

// The login of --sasl or --jaas into `out`; false (after printing why) when it is unusable.
bool resolve_sasl(const GlobalOptions& g, Sasl& out) {
  if (g.sasl.empty() && g.jaas_file.empty()) return true;
  if (!g.sasl.empty() && !g.jaas_file.empty()) {
    std::cerr << "corral: --sasl and --jaas exclude each other\n";
    return false;
  }
  SaslLogin login = g.sasl.empty() ? sasl_from_jaas_file(g.jaas_file) : sasl_from_argument(g.sasl);
  if (auto* why = std::get_if<std::string>(&login)) {
    std::cerr << "corral: " << *why << "\n";
    return false;
  }
  out = std::get<client::SaslCredentials>(login);
  return true;
}

// Says why no session came (a refused SASL login, or no server answering in time) and
// returns the exit code for it.
int no_session(const GlobalOptions& g, const Sasl& sasl, client::BlockingClient& client) {
  bool refused = client.state() == client::ConnectionState::kAuthFailed;
  auto code = refused ? client::ErrorCode::kAuthFailed : client::ErrorCode::kConnectionLoss;
  std::string problem = refused ? "the server refused the SASL login of " + sasl->username
                                : "cannot connect to " + g.hosts + " within " +
                                      std::to_string(g.timeout.count()) + " ms";
  if (g.json) {
    std::cout << json_line({{"error", std::string(wire::error_name(code))},
                            {"code", static_cast<int32_t>(code)},
                            {"message", problem}});
  }
  std::cerr << "corral: " << problem << std::endl;
  return refused ? kExitZooKeeperError : kExitNoConnection;
}

// The --auth credentials, in order; false (after printing the error) if one is refused.
bool add_auths(Context& ctx, const std::vector<std::string>& auths) {
  for (const std::string& auth : auths) {
    size_t colon = auth.find(':');
    std::string scheme = auth.substr(0, colon);
    auto r = ctx.client.add_auth(scheme, auth.substr(colon + 1));
    if (!r) {
      ctx.out.error("addauth " + scheme, "", r.error());
      return false;
    }
  }
  return true;
}

// The command on the command line, or nullopt (after printing why) if it is not valid.
std::optional<Invocation> parse_command(const std::vector<std::string>& words) {
  InvocationParse parsed = parse_invocation(words);
  if (parsed.ok()) return parsed.invocation;
  Printer err(std::cout, std::cerr, false);
  err.usage_error(parsed.invocation.spec, words[0], parsed.error);
  if (parsed.invocation.spec == nullptr) std::cerr << global_usage();
  return std::nullopt;
}

// A recipe command on a fresh session (one-shot only).
int run_recipe(const GlobalOptions& g, const Sasl& sasl) {
  RecipeParse parsed = parse_recipe_command(g.command);
  if (!parsed.ok()) {
    std::cerr << "corral: " << g.command[0] << ": " << parsed.error << "\n" << recipe_usage();
    return kExitUsage;
  }
  Printer out(std::cout, std::cerr, g.json);
  EventQueue events;
  std::unique_ptr<client::BlockingClient> client = start_client(session_options(g, sasl, events));
  if (!client->wait_connected(g.timeout)) return no_session(g, sasl, *client);
  Context ctx{*client, out, events, false};
  if (!add_auths(ctx, g.auths)) return kExitZooKeeperError;
  return run_recipe_command(*client, out, parsed.command);
}

int run(const GlobalOptions& g, const Sasl& sasl) {
  if (!g.command.empty() && is_recipe_command(g.command[0])) return run_recipe(g, sasl);
  std::optional<Invocation> inv;
  if (!g.command.empty()) {
    inv = parse_command(g.command);
    if (!inv) return kExitUsage;
  }
  Printer out(std::cout, std::cerr, g.json);
  EventQueue events;
  // Commands that need no session.
  if (inv && (inv->spec->id == CommandId::kHelp || inv->spec->id == CommandId::kQuit)) {
    std::cout << (inv->spec->id == CommandId::kHelp ? global_usage() : "");
    return kExitOk;
  }
  std::unique_ptr<client::BlockingClient> client = start_client(session_options(g, sasl, events));
  if (!client->wait_connected(g.timeout)) return no_session(g, sasl, *client);
  Context ctx{*client, out, events, /*interactive=*/!inv.has_value()};
  if (!add_auths(ctx, g.auths)) return kExitZooKeeperError;
  if (!inv) return run_shell(ctx, g.hosts);
  return run_command(ctx, *inv);
}

}  // namespace
}  // namespace corral::cli

int main(int argc, char** argv) {
  using namespace corral::cli;
  GlobalParse parsed = parse_global_options(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::cerr << "corral: " << parsed.error << "\n" << global_usage();
    return kExitUsage;
  }
  if (parsed.options.help) {
    std::cout << global_usage();
    return kExitOk;
  }
  Sasl sasl;
  if (!resolve_sasl(parsed.options, sasl)) return kExitUsage;
  try {
    return run(parsed.options, sasl);
  } catch (const std::invalid_argument& e) {
    // A TLS file that cannot be used (the client checks them when it is made).
    std::cerr << "corral: " << e.what() << "\n";
    return kExitUsage;
  }
}
