#include "client/cli/args.h"

#include <charconv>
#include <limits>

#include "client/cli/recipe_args.h"

namespace corral::cli {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

const FlagSpec kStatFlag{'s', nullptr, 0, 0, "also print the node's Stat"};
const FlagSpec kWatchFlag{'w', nullptr, 0, 0, "wait for the watch to fire and print its event"};
const FlagSpec kVersionFlag{'v', "version", -1, kInt32Max, "only if the version matches"};

std::vector<CommandSpec> make_table() {
  using C = CommandId;
  return {
      {C::kLs,
       "ls",
       {kStatFlag, kWatchFlag, {'R', nullptr, 0, 0, "the whole subtree, one path a line"}},
       "path",
       1,
       1,
       "list the children of a node"},
      {C::kGet, "get", {kStatFlag, kWatchFlag}, "path", 1, 1, "print a node's data"},
      {C::kSet, "set", {kStatFlag, kVersionFlag}, "path data", 2, 2, "set a node's data"},
      {C::kCreate,
       "create",
       {{'e', nullptr, 0, 0, "ephemeral: deleted when this session ends"},
        {'s', nullptr, 0, 0, "sequential: a 10-digit counter is appended to the name"},
        {'c', nullptr, 0, 0, "container: deleted once its last child is"},
        {'t', "ttl", 1, kInt64Max, "deleted after this many ms without changes or children"}},
       "path [data] [acl]",
       1,
       3,
       "create a node (acl like world:anyone:cdrwa)"},
      {C::kDelete, "delete", {kVersionFlag}, "path", 1, 1, "delete a node without children"},
      {C::kDeleteAll, "deleteall", {}, "path", 1, 1, "delete a node and all its descendants"},
      {C::kStat, "stat", {kWatchFlag}, "path", 1, 1, "print a node's Stat"},
      {C::kGetAcl, "getAcl", {kStatFlag}, "path", 1, 1, "print a node's ACL"},
      {C::kSetAcl,
       "setAcl",
       {kStatFlag, {'v', "version", -1, kInt32Max, "only if the ACL version matches"}},
       "path acl",
       2,
       2,
       "set a node's ACL (like world:anyone:cdrwa,digest:user:hash:r)"},
      {C::kAddAuth, "addauth", {}, "scheme auth", 2, 2, "authenticate (digest user:password)"},
      {C::kSync, "sync", {}, "path", 1, 1, "catch up with the leader"},
      {C::kWhoAmI, "whoami", {}, "", 0, 0, "print this session's identities"},
      {C::kWatch,
       "watch",
       {{'R', nullptr, 0, 0, "also every descendant (persistent recursive)"}},
       "path",
       1,
       1,
       "print every change of a node until Ctrl-C"},
      {C::kGetEphemerals,
       "getEphemerals",
       {},
       "[path]",
       0,
       1,
       "list this session's ephemeral nodes under path"},
      {C::kGetAllChildrenNumber,
       "getAllChildrenNumber",
       {},
       "path",
       1,
       1,
       "count all descendants of a node"},
      {C::kConfig,
       "config",
       {{'c', nullptr, 0, 0, "only the version and the client addresses (host:port,...)"},
        kWatchFlag,
        kStatFlag},
       "",
       0,
       0,
       "print the ensemble's config (/zookeeper/config)"},
      {C::kReconfig,
       "reconfig",
       {kStatFlag,
        {'v', "version", -1, kInt64Max, "only if the config's version (hex) matches", nullptr,
         FlagValue::kHex},
        {'f', "path", 0, 0, "the new membership from a dynamic config file", "file",
         FlagValue::kText},
        {'m', "list", 0, 0, "the new membership: server.N=host:port:port[:role];port,...",
         "members", FlagValue::kText},
        {'a', "list", 0, 0, "servers to add: server.N=host:port:port[:role];port,...", "add",
         FlagValue::kText},
        {'r', "ids", 0, 0, "ids of servers to remove: N,...", "remove", FlagValue::kText}},
       "",
       0,
       0,
       "change the membership: -file or -members, or -add/-remove (super user)"},
      {C::kHelp, "help", {}, "", 0, 0, "list the commands"},
      {C::kQuit, "quit", {}, "", 0, 0, "leave the shell (also exit, Ctrl-D)"},
  };
}

// The flag given by `letter` in a bundle of letters (flags with a word are not).
const FlagSpec* find_flag(const CommandSpec& spec, char letter) {
  for (const FlagSpec& f : spec.flags) {
    if (f.letter == letter && f.word == nullptr) return &f;
  }
  return nullptr;
}

// The flag whose word is `word` ("add" for "-add"), or nullptr.
const FlagSpec* find_word_flag(const CommandSpec& spec, std::string_view word) {
  for (const FlagSpec& f : spec.flags) {
    if (f.word != nullptr && word == f.word) return &f;
  }
  return nullptr;
}

// Reads an integer in [min, max] in `base`; nullopt if `text` is not one.
std::optional<int64_t> parse_int(std::string_view text, int64_t min, int64_t max, int base = 10) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// Stores `text` as the value of `flag`; returns the error, or "".
std::string set_flag_value(const FlagSpec& flag, const std::string& text, Invocation& inv) {
  if (flag.kind == FlagValue::kText) {
    inv.texts[flag.letter] = text;
    return "";
  }
  bool hex = flag.kind == FlagValue::kHex;
  std::optional<int64_t> value = parse_int(text, flag.min, flag.max, hex ? 16 : 10);
  if (!value) {
    return flag_name(flag) + " needs " + (hex ? "a hexadecimal " : "an integer ") +
           flag.value_name + " >= " + std::to_string(flag.min) + ", got '" + text + "'";
  }
  inv.values[flag.letter] = *value;
  return "";
}

// Reads the flag word words[i] ("-s", "-es", "-v" or "-add" followed by its value) into `inv`;
// advances `i` past a value it consumed. Returns the error, or "".
std::string parse_flag_word(const std::vector<std::string>& words, size_t& i, Invocation& inv) {
  const std::string& word = words[i];
  if (const FlagSpec* flag = find_word_flag(*inv.spec, std::string_view(word).substr(1))) {
    if (i + 1 >= words.size()) return word + " needs a value";
    return set_flag_value(*flag, words[++i], inv);
  }
  for (size_t k = 1; k < word.size(); ++k) {
    const FlagSpec* flag = find_flag(*inv.spec, word[k]);
    if (flag == nullptr) return "unknown flag -" + std::string(1, word[k]);
    if (flag->value_name == nullptr) {
      inv.switches.insert(flag->letter);
      continue;
    }
    // A valued flag takes the rest of the word ("-v3") or the next word ("-v 3").
    std::string text = word.substr(k + 1);
    if (text.empty()) {
      if (i + 1 >= words.size()) return "-" + std::string(1, flag->letter) + " needs a value";
      text = words[++i];
    }
    return set_flag_value(*flag, text, inv);
  }
  return "";
}

// True for a word that names flags: "-x..." but not "-" alone.
bool is_flag_word(const std::string& word) { return word.size() > 1 && word[0] == '-'; }

}  // namespace

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = make_table();
  return table;
}

const CommandSpec* find_command(std::string_view name) {
  if (name == "exit") name = "quit";
  for (const CommandSpec& spec : command_table()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string flag_name(const FlagSpec& flag) {
  return "-" + (flag.word != nullptr ? std::string(flag.word) : std::string(1, flag.letter));
}

std::string usage(const CommandSpec& spec) {
  std::string s(spec.name);
  for (const FlagSpec& f : spec.flags) {
    s += " [" + flag_name(f);
    if (f.value_name != nullptr) s += " " + std::string(f.value_name);
    s += "]";
  }
  if (!spec.args.empty()) s += " " + std::string(spec.args);
  return s;
}

std::string help_text() {
  std::string s;
  for (const CommandSpec& spec : command_table()) {
    std::string line = "  " + usage(spec);
    line.resize(std::max<size_t>(line.size() + 2, 42), ' ');
    s += line + std::string(spec.summary) + "\n";
  }
  return s;
}

bool Invocation::has(char letter) const {
  return switches.count(letter) != 0 || values.count(letter) != 0 || texts.count(letter) != 0;
}

std::string Invocation::text(char letter) const {
  auto it = texts.find(letter);
  return it == texts.end() ? "" : it->second;
}

int64_t Invocation::value(char letter, int64_t fallback) const {
  auto it = values.find(letter);
  return it == values.end() ? fallback : it->second;
}

std::string Invocation::arg(size_t i, std::string fallback) const {
  return i < args.size() ? args[i] : fallback;
}

InvocationParse parse_invocation(const std::vector<std::string>& words) {
  InvocationParse result;
  if (words.empty()) {
    result.error = "no command";
    return result;
  }
  Invocation& inv = result.invocation;
  inv.spec = find_command(words[0]);
  if (inv.spec == nullptr) {
    result.error = "unknown command '" + words[0] + "' (try help)";
    return result;
  }
  bool flags_done = false;
  for (size_t i = 1; i < words.size() && result.error.empty(); ++i) {
    if (!flags_done && words[i] == "--") {
      flags_done = true;
    } else if (!flags_done && is_flag_word(words[i])) {
      result.error = parse_flag_word(words, i, inv);
    } else {
      inv.args.push_back(words[i]);
    }
  }
  if (result.error.empty() && inv.args.size() < inv.spec->min_args) {
    result.error = "missing argument";
  } else if (result.error.empty() && inv.args.size() > inv.spec->max_args) {
    result.error = "too many arguments";
  }
  return result;
}

std::string global_usage() {
  return "usage: corral [-s HOSTS] [--timeout MS] [--json] [--readonly] [-a SCHEME:AUTH]... "
         "[--sasl USER:PASS | --jaas FILE] [--tls] [--tls-ca FILE] [--tls-cert FILE] "
         "[--tls-key FILE] [COMMAND [ARGS...]]\n"
         "  -s, --server HOSTS   host:port[,host:port...][/chroot] (default 127.0.0.1:2181)\n"
         "  --timeout MS         wait this long for a session (default 10000)\n"
         "  --json               print results and errors as JSON, one object a line\n"
         "  -r, --readonly       accept a read-only server\n"
         "  -a, --auth S:A       addauth S A before the command (e.g. digest:user:password)\n"
         "  --sasl USER:PASS     log in with SASL DIGEST-MD5 (users of the server's JAAS file)\n"
         "  --jaas FILE          the same, with username/password of the file's Client section\n"
         "  --tls                connect with TLS (to the servers' secureClientPort)\n"
         "  --tls-ca FILE        PEM CA certificates the servers' certificates must chain to\n"
         "                       (default: the system's CAs); implies --tls\n"
         "  --tls-cert FILE      PEM client certificate (and its key, unless --tls-key), for\n"
         "                       ssl.clientAuth=need servers and x509 ACLs; implies --tls\n"
         "  --tls-key FILE       PEM private key of --tls-cert; implies --tls\n"
         "  --tls-no-verify-host accept a server certificate that does not name the host\n"
         "Without a command, corral starts an interactive shell. Commands:\n" +
         help_text() + recipe_usage();
}

GlobalParse parse_global_options(const std::vector<std::string>& argv) {
  GlobalParse result;
  GlobalOptions& o = result.options;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string word = argv[i];
    std::string value;
    bool has_inline_value = false;
    if (size_t eq = word.find('='); word.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = word.substr(eq + 1);
      word.resize(eq);
      has_inline_value = true;
    }
    auto take_value = [&]() -> bool {
      if (has_inline_value) return true;
      if (i + 1 >= argv.size()) {
        result.error = word + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    if (word == "-s" || word == "--server" || word == "-server") {
      if (take_value()) o.hosts = value;
    } else if (word == "--timeout" || word == "-timeout") {
      if (!take_value()) break;
      std::optional<int64_t> ms = parse_int(value, 1, kInt32Max);
      if (!ms) result.error = "--timeout needs a positive number of milliseconds";
      o.timeout = std::chrono::milliseconds(ms.value_or(0));
    } else if (word == "-a" || word == "--auth") {
      if (!take_value()) break;
      if (value.find(':') == std::string::npos) result.error = "--auth needs SCHEME:AUTH";
      o.auths.push_back(value);
    } else if (word == "--sasl") {
      if (take_value()) o.sasl = value;
    } else if (word == "--jaas") {
      if (take_value()) o.jaas_file = value;
    } else if (word == "--tls") {
      o.tls = true;
    } else if (word == "--tls-ca" || word == "--tls-cert" || word == "--tls-key") {
      if (!take_value()) break;
      o.tls = true;
      (word == "--tls-ca" ? o.tls_ca : word == "--tls-cert" ? o.tls_cert : o.tls_key) = value;
    } else if (word == "--tls-no-verify-host") {
      o.tls = true;
      o.tls_verify_host = false;
    } else if (word == "--json") {
      o.json = true;
    } else if (word == "-r" || word == "--readonly") {
      o.read_only = true;
    } else if (word == "-h" || word == "--help") {
      o.help = true;
    } else if (word == "--") {
      o.command.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    } else if (is_flag_word(word)) {
      result.error = "unknown option " + word;
    } else {
      o.command.assign(argv.begin() + static_cast<long>(i), argv.end());
      break;
    }
    if (!result.error.empty()) break;
  }
  return result;
}

SplitLine split_line(std::string_view line) {
  SplitLine result;
  size_t first = line.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || line[first] == '#') return result;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = first; i < line.size(); ++i) {
    char c = line[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) result.words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) {
    result.error = std::string("unterminated ") + (quote == '"' ? "\"" : "'");
    result.words.clear();
    return result;
  }
  if (in_word) result.words.push_back(std::move(word));
  return result;
}

}  // namespace corral::cli
