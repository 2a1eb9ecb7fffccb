// The text of DIGEST-MD5 challenges and responses (RFC 2831 section 7.1): a comma-separated
// list of `name=value` directives whose values are tokens or quoted strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::sasl {

/// Directives in the order they were written; names are as sent (compare them without case).
using Directives = std::vector<std::pair<std::string, std::string>>;

/// Parses `text`; quoted values lose their quotes and backslash escapes. Empty list elements
/// (",,") are allowed as RFC 2831's #rule says. Nothing when the text is malformed: a name
/// without '=', an unterminated quoted string, or text after a quoted value.
std::optional<Directives> parse_directives(std::string_view text);

/// `value` as a quoted string: in double quotes, with '"' and '\' escaped by a backslash.
std::string quoted(std::string_view value);

/// The values of directive `name` (case-insensitive), in order.
std::vector<std::string> values_of(const Directives& directives, std::string_view name);

}  // namespace corral::sasl
