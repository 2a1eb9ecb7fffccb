#include "client/cli/shell.h"

#include <editline/readline.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "wire/path.h"

namespace corral::cli {
namespace {

constexpr int kHistoryLines = 1000;

// readline's completion callbacks take no context: the session they complete paths with.
client::BlockingClient* g_completion_client = nullptr;
std::vector<std::string> g_candidates;

std::string history_file() {
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.corral_history";
}

// Every command name or child path that starts with `text`, for readline.
std::vector<std::string> candidates(const std::string& text, bool command_word) {
  std::vector<std::string> out;
  if (command_word) {
    for (const CommandSpec& spec : command_table()) {
      if (spec.name.rfind(text, 0) == 0) out.emplace_back(spec.name);
    }
    return out;
  }
  if (text.empty() || text[0] != '/' || g_completion_client == nullptr) return out;
  size_t slash = text.rfind('/');
  std::string parent = slash == 0 ? "/" : text.substr(0, slash);
  auto r = g_completion_client->children(parent);
  if (!r) return out;
  for (const std::string& child : r->children) {
    std::string path = wire::child_path(parent, child);
    if (path.rfind(text, 0) == 0) out.push_back(path);
  }
  return out;
}

char* next_candidate(const char* text, int state) {
  static size_t next = 0;
  if (state == 0) next = 0;
  return next < g_candidates.size() ? strdup(g_candidates[next++].c_str()) : nullptr;
}

char** complete(const char* text, int start, int end) {
  rl_attempted_completion_over = 1;
  // The first word is the command: only blanks before `start`.
  bool command_word =
      std::string_view(rl_line_buffer, start).find_first_not_of(" \t") == std::string_view::npos;
  g_candidates = candidates(text, command_word);
  return rl_completion_matches(text, next_candidate);
}

// The next line: from readline on a terminal (nullopt at Ctrl-D), else from stdin.
std::optional<std::string> read_line(bool terminal, const std::string& prompt) {
  if (!terminal) {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
  while (true) {
    char* raw = readline(prompt.c_str());
    // Ctrl-C interrupts the read: start a new line instead of leaving.
    bool interrupted = take_interrupt();
    if (raw == nullptr && interrupted) {
      std::cout << std::endl;
      continue;
    }
    if (raw == nullptr) {
      std::cout << std::endl;
      return std::nullopt;
    }
    std::string line(raw);
    std::free(raw);
    if (interrupted) continue;
    if (line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
      // The whole (stifled) history: libedit's append_history writes lines twice.
      write_history(history_file().c_str());
    }
    return line;
  }
}

void setup_readline(client::BlockingClient& client) {
  rl_readline_name = "corral";
  rl_attempted_completion_function = complete;
  g_completion_client = &client;
  using_history();
  stifle_history(kHistoryLines);
  read_history(history_file().c_str());
}

// Runs one line; false when it asks to leave. Sets `status` to the command's exit status.
bool run_line(Context& ctx, const std::string& line, int& status) {
  SplitLine split = split_line(line);
  if (!split.ok()) {
    ctx.out.usage_error(nullptr, "syntax error", split.error);
    status = kExitUsage;
    return true;
  }
  if (split.words.empty()) return true;
  InvocationParse parsed = parse_invocation(split.words);
  if (!parsed.ok()) {
    ctx.out.usage_error(parsed.invocation.spec, split.words[0], parsed.error);
    status = kExitUsage;
    return true;
  }
  if (parsed.invocation.spec->id == CommandId::kQuit) return false;
  status = run_command(ctx, parsed.invocation);
  return true;
}

}  // namespace

int run_shell(Context& ctx, const std::string& hosts) {
  bool terminal = isatty(STDIN_FILENO) != 0;
  InterruptScope interrupts(/*also_sigterm=*/false);
  if (terminal) setup_readline(ctx.client);
  std::string prompt = "[corral: " + hosts + "] ";
  int status = kExitOk;
  while (std::optional<std::string> line = read_line(terminal, prompt)) {
    if (!run_line(ctx, *line, status)) break;
  }
  g_completion_client = nullptr;
  return status;
}

}  // namespace corral::cli
