// The command line of corral's recipe commands (lock, elect, barrier, group, counter): thin
// wrappers over Corral::recipes for shell scripts, like `etcdctl lock` and `etcdctl elect`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::cli {

/// What a recipe command does.
enum class RecipeVerb {
  kLock,           ///< lock PATH [--timeout S] -- COMMAND...
  kElect,          ///< elect PATH [--data D] -- COMMAND...
  kElectList,      ///< elect --list PATH
  kBarrierSet,     ///< barrier set PATH
  kBarrierRemove,  ///< barrier remove PATH
  kBarrierWait,    ///< barrier wait PATH [--timeout S]
  kGroupJoin,      ///< group join PATH ID [--data D]
  kGroupLs,        ///< group ls PATH
  kCounterGet,     ///< counter get PATH
  kCounterAdd,     ///< counter add PATH N
};

/// A recipe command with its arguments read.
struct RecipeCommand {
  RecipeVerb verb = RecipeVerb::kLock;
  std::string path;
  /// elect --data, group join --data.
  std::string data;
  /// group join's member id.
  std::string id;
  /// --timeout; none: wait for as long as it takes.
  std::optional<std::chrono::milliseconds> timeout;
  /// counter add's delta.
  int64_t delta = 0;
  /// The command to run after "--" (lock, elect).
  std::vector<std::string> command;
};

/// A RecipeCommand, or why the words are not one.
struct RecipeParse {
  RecipeCommand command;
  std::string error;
  bool ok() const { return error.empty(); }
};

/// True if `word` names a recipe command.
bool is_recipe_command(std::string_view word);

/// Reads a recipe command (words[0] is lock, elect, barrier, group or counter).
RecipeParse parse_recipe_command(const std::vector<std::string>& words);

/// The recipe commands' usage lines, for help.
std::string recipe_usage();

}  // namespace corral::cli
