// The command line: corral's own options, the table of commands with their flags and
// arguments (named as zkCli names them), and the words of a shell line.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace corral::cli {

/// The commands corral knows.
enum class CommandId {
  kLs,
  kGet,
  kSet,
  kCreate,
  kDelete,
  kDeleteAll,
  kStat,
  kGetAcl,
  kSetAcl,
  kAddAuth,
  kSync,
  kWhoAmI,
  kWatch,
  kGetEphemerals,
  kGetAllChildrenNumber,
  kConfig,
  kReconfig,
  kHelp,
  kQuit,
};

/// What a valued flag takes.
enum class FlagValue {
  kInteger,  ///< a decimal integer in [min, max]
  kHex,      ///< a hexadecimal integer in [min, max] (reconfig -v, as zkCli reads it)
  kText,     ///< any word
};

/// A flag of a command: a switch ("-s"), or one taking a value ("-v VERSION", "-add LIST").
struct FlagSpec {
  char letter;
  /// What the value is called in the usage ("version"); nullptr for a switch.
  const char* value_name = nullptr;
  /// The range the value must be in.
  int64_t min = 0;
  int64_t max = 0;
  /// What the flag does, for help.
  const char* meaning = "";
  /// A whole-word name ("add" for "-add", as zkCli's reconfig has them); the flag is then
  /// given only by that word, never by `letter`, which only keys Invocation's maps.
  const char* word = nullptr;
  FlagValue kind = FlagValue::kInteger;
};

/// "-s", or "-add" for a flag with a word.
std::string flag_name(const FlagSpec& flag);

/// A command: its name, flags and positional arguments.
struct CommandSpec {
  CommandId id;
  std::string_view name;
  std::vector<FlagSpec> flags;
  /// The positional arguments as the usage shows them ("path [data] [acl]").
  std::string_view args;
  size_t min_args;
  size_t max_args;
  /// One line saying what the command does.
  std::string_view summary;
};

/// Every command, in the order help lists them.
const std::vector<CommandSpec>& command_table();

/// The command called `name` (also "exit" for quit), or nullptr.
const CommandSpec* find_command(std::string_view name);

/// "get [-s] [-w] path".
std::string usage(const CommandSpec& spec);

/// The list of commands with their usage and summary, for `help`.
std::string help_text();

/// A command with its flags and arguments read.
struct Invocation {
  const CommandSpec* spec = nullptr;
  std::set<char> switches;
  std::map<char, int64_t> values;
  /// The values of FlagValue::kText flags.
  std::map<char, std::string> texts;
  std::vector<std::string> args;

  /// True if the switch or valued flag `letter` was given.
  bool has(char letter) const;
  /// The value of flag `letter`, or `fallback` when not given.
  int64_t value(char letter, int64_t fallback) const;
  /// The text of flag `letter` (FlagValue::kText), or "" when not given.
  std::string text(char letter) const;
  /// The positional argument `i`, or `fallback` when there are fewer.
  std::string arg(size_t i, std::string fallback = "") const;
};

/// An Invocation, or why the words are not one (then `spec` is set when the command is known,
/// to print its usage).
struct InvocationParse {
  Invocation invocation;
  std::string error;
  bool ok() const { return error.empty(); }
};

/// Reads words[0] as a command name and the rest as its flags and arguments. Flags may come
/// anywhere; switches may be bundled ("-es"); a flag with a word is its own word ("-add");
/// "--" ends the flags.
InvocationParse parse_invocation(const std::vector<std::string>& words);

/// corral's own options.
struct GlobalOptions {
  /// "host:port,host:port[/chroot]".
  std::string hosts = "127.0.0.1:2181";
  /// How long to wait for a session; also the session timeout asked for.
  std::chrono::milliseconds timeout{10000};
  bool json = false;
  bool read_only = false;
  /// "scheme:credentials" to addauth before the command, in order.
  std::vector<std::string> auths;
  /// --sasl USER:PASSWORD: log in with SASL DIGEST-MD5 (empty when not given).
  std::string sasl;
  /// --jaas FILE: take the SASL login from the `Client` section of a JAAS file.
  std::string jaas_file;
  /// --tls: connect with TLS (to a secureClientPort); any --tls-* option implies it.
  bool tls = false;
  /// --tls-ca FILE: PEM CAs that sign the servers' certificates (default: the system's).
  std::string tls_ca;
  /// --tls-cert FILE: PEM client certificate (with its key, unless --tls-key is given).
  std::string tls_cert;
  /// --tls-key FILE: PEM private key of --tls-cert.
  std::string tls_key;
  /// --tls-no-verify-host: accept a server certificate that does not name the host.
  bool tls_verify_host = true;
  /// The command and its arguments; empty for the interactive shell.
  std::vector<std::string> command;
  /// --help was given.
  bool help = false;
};

/// GlobalOptions, or why the command line is not valid.
struct GlobalParse {
  GlobalOptions options;
  std::string error;
  bool ok() const { return error.empty(); }
};

/// Reads corral's options up to the first word that is not one (the command). `argv` is
/// without the program name.
GlobalParse parse_global_options(const std::vector<std::string>& argv);

/// The usage of corral itself.
std::string global_usage();

/// The words of a shell line, or why it cannot be split.
struct SplitLine {
  std::vector<std::string> words;
  std::string error;
  bool ok() const { return error.empty(); }
};

/// Splits a line on blanks. '...' keeps everything literally; "..." and unquoted text take
/// backslash escapes (\" \\ \' \ ). A word that starts with '#' starts a comment.
SplitLine split_line(std::string_view line);

}  // namespace corral::cli
