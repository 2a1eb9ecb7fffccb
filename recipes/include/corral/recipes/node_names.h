// Names of the nodes recipes create, and their order. Contenders (lock nodes, latch nodes,
// leases) are ordered by the 10-digit sequence number ZooKeeper appends, whatever comes
// before it, so Curator's protected names (`_c_<id>-lock-0000000007`), kazoo's
// (`<hex>__lock__0000000007`) and Corral's share one queue.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::recipes {

/// The trailing 10-digit sequence number of a node name, or -1 when it has none.
int64_t sequence_number(std::string_view name);

/// The names that have a sequence number and contain one of `markers` (every name with a
/// sequence number when `markers` is empty), ordered by sequence number (ties by name).
std::vector<std::string> ordered_by_sequence(const std::vector<std::string>& names,
                                             const std::vector<std::string>& markers = {});

/// `parent` + "/" + `child` ("/" + child for the root).
std::string join_path(std::string_view parent, std::string_view child);

/// The parent of an absolute path ("/" for "/a"); empty for "/" itself.
std::string parent_path(std::string_view path);

/// The last component of an absolute path.
std::string node_name(std::string_view path);

/// Checks a recipe's path: absolute, no trailing '/', not "/" itself; false otherwise.
bool valid_recipe_path(std::string_view path);

}  // namespace corral::recipes
