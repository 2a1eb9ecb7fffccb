#include "client/cli/recipe_args.h"

#include <charconv>
#include <limits>

namespace corral::cli {
namespace {

std::optional<int64_t> parse_int64(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

/// Seconds, possibly fractional ("2.5"), as milliseconds; nullopt unless 0 <= s <= 1 year.
std::optional<std::chrono::milliseconds> parse_seconds(const std::string& text) {
  try {
    size_t used = 0;
    double s = std::stod(text, &used);
    if (used != text.size() || !(s >= 0) || s > 365.0 * 24 * 3600) return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// Reads the words after the verb: flags (--timeout S, --data D, --list), positionals, and
/// everything after "--" as the command.
struct Words {
  std::vector<std::string> positional;
  std::vector<std::string> command;
  std::optional<std::string> timeout, data;
  bool list = false;
  bool dashdash = false;
  std::string error;
};

Words split_words(const std::vector<std::string>& words, size_t from) {
  Words w;
  for (size_t i = from; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--") {
      w.dashdash = true;
      w.command.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
      break;
    }
    if (word == "--list") {
      w.list = true;
    } else if (word == "--timeout" || word == "--data") {
      if (i + 1 >= words.size()) {
        w.error = word + " needs a value";
        return w;
      }
      (word == "--timeout" ? w.timeout : w.data) = words[++i];
    } else if (word.size() > 1 && word[0] == '-' && !parse_int64(word)) {
      w.error = "unknown option " + word;
      return w;
    } else {
      w.positional.push_back(word);
    }
  }
  return w;
}

std::string check_path(const std::string& path) {
  if (path.empty() || path[0] != '/' || (path.size() > 1 && path.back() == '/'))
    return "path must start with / and not end with /: '" + path + "'";
  return "";
}

/// Fills `out` from `w` for the verb; returns the error, if any.
std::string fill(RecipeVerb verb, const Words& w, size_t positionals, RecipeCommand& out) {
  out.verb = verb;
  if (w.positional.size() != positionals)
    return "expected " + std::to_string(positionals) + " argument(s), got " +
           std::to_string(w.positional.size());
  out.path = w.positional[0];
  if (auto e = check_path(out.path); !e.empty()) return e;
  out.data = w.data.value_or("");
  if (w.timeout) {
    out.timeout = parse_seconds(*w.timeout);
    if (!out.timeout) return "--timeout needs seconds (e.g. 5 or 0.5), got '" + *w.timeout + "'";
  }
  out.command = w.command;
  bool runs = verb == RecipeVerb::kLock || verb == RecipeVerb::kElect;
  if (runs && out.command.empty()) return "give the command to run after --";
  if (!runs && w.dashdash) return "this command runs nothing: drop the --";
  return "";
}

}  // namespace

bool is_recipe_command(std::string_view word) {
  return word == "lock" || word == "elect" || word == "barrier" || word == "group" ||
         word == "counter";
}

RecipeParse parse_recipe_command(const std::vector<std::string>& words) {
  RecipeParse r;
  const std::string& head = words.at(0);
  bool has_sub = head == "barrier" || head == "group" || head == "counter";
  if (has_sub && words.size() < 2) {
    r.error = head + " needs a subcommand";
    return r;
  }
  Words w = split_words(words, has_sub ? 2 : 1);
  if (!w.error.empty()) {
    r.error = w.error;
    return r;
  }
  const std::string sub = has_sub ? words[1] : "";
  RecipeCommand& c = r.command;
  if (head == "lock") {
    r.error = fill(RecipeVerb::kLock, w, 1, c);
  } else if (head == "elect") {
    r.error = fill(w.list ? RecipeVerb::kElectList : RecipeVerb::kElect, w, 1, c);
  } else if (head == "barrier" && (sub == "set" || sub == "remove" || sub == "wait")) {
    r.error = fill(sub == "set"      ? RecipeVerb::kBarrierSet
                   : sub == "remove" ? RecipeVerb::kBarrierRemove
                                     : RecipeVerb::kBarrierWait,
                   w, 1, c);
  } else if (head == "group" && sub == "join") {
    r.error = fill(RecipeVerb::kGroupJoin, w, 2, c);
    if (r.ok()) c.id = w.positional[1];
  } else if (head == "group" && sub == "ls") {
    r.error = fill(RecipeVerb::kGroupLs, w, 1, c);
  } else if (head == "counter" && sub == "get") {
    r.error = fill(RecipeVerb::kCounterGet, w, 1, c);
  } else if (head == "counter" && sub == "add") {
    r.error = fill(RecipeVerb::kCounterAdd, w, 2, c);
    if (r.ok()) {
      auto n = parse_int64(w.positional[1]);
      if (!n) r.error = "counter add needs an integer, got '" + w.positional[1] + "'";
      c.delta = n.value_or(0);
    }
  } else {
    r.error = "unknown subcommand '" + sub + "' of " + head;
  }
  if (r.ok() && w.list && c.verb != RecipeVerb::kElectList) r.error = "--list is only for elect";
  return r;
}

std::string recipe_usage() {
  return "Recipe commands (one-shot only):\n"
         "\tlock PATH [--timeout S] -- COMMAND...   run COMMAND holding the lock "
         "(CORRAL_FENCING_TOKEN set)\n"
         "\telect PATH [--data D] -- COMMAND...     run COMMAND while leader\n"
         "\telect --list PATH                       the participants, leader first\n"
         "\tbarrier set|remove|wait PATH [--timeout S]\n"
         "\tgroup join PATH ID [--data D]           stay a member until interrupted\n"
         "\tgroup ls PATH                           the members and their data\n"
         "\tcounter get PATH | counter add PATH N   a shared 64-bit counter\n";
}

}  // namespace corral::cli
