// ZooKeeper's znode path rules.
#pragma once

#include <string>
#include <string_view>

namespace corral::wire {

/// Checks `path` against ZooKeeper's rules (absolute, no empty or relative
/// components, no trailing slash unless `sequential`, no control or reserved
/// characters). Returns an empty string when valid, else the reason.
std::string validate_path(std::string_view path, bool sequential = false);

/// "/a/b" -> "/a"; "/a" -> "/".  `path` must be valid and not the root.
std::string_view parent_path(std::string_view path);

/// "/a/b" -> "b".
std::string_view base_name(std::string_view path);

/// Joins a parent path and a child name.
std::string child_path(std::string_view parent, std::string_view name);

}  // namespace corral::wire
