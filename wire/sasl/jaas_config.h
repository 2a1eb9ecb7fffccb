// JAAS login configuration files as Java reads them (the syntax of
// java.security.auth.login.config, e.g. ZooKeeper's `Server { ... };` section listing
// DIGEST-MD5 users). Parses text only; callers read the file.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sasl {

/// A file that does not parse. The message names the file and line, e.g.
/// "jaas.conf:3: expected ';' after the options of org.example.Module, found '}'".
class JaasError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One `ModuleClass Flag key=value ...;` line of a section.
struct LoginModuleEntry {
  std::string class_name;
  std::string flag;  ///< required, requisite, sufficient or optional (lower case)
  std::map<std::string, std::string> options;  ///< a repeated key keeps its last value
  int line = 0;
};

/// The account a section gives its own side: a client's, or a quorum learner's.
struct JaasAccount {
  std::string username;
  std::string password;
};

/// One `Name { ... };` block.
struct JaasSection {
  std::string name;
  std::vector<LoginModuleEntry> modules;
  int line = 0;

  /// The `username` and `password` options of the first module that has both (as
  /// ZooKeeper's DigestLoginModule reads a Client or QuorumLearner section), or nothing.
  std::optional<JaasAccount> account() const;
};

/// A whole configuration file.
struct JaasConfig {
  std::vector<JaasSection> sections;

  /// The section called `name` (case-sensitive, as Java looks it up), or nullptr.
  const JaasSection* section(std::string_view name) const;
};

/// Parses a JAAS configuration. Tokens are words (letters, digits and `._$-*`) or quoted
/// strings ("..." or '...', backslash escapes); `//` and `/* */` comments; whitespace and line
/// breaks are free. A section name may appear once. `source_name` prefixes error messages.
/// Throws JaasError.
JaasConfig parse_jaas(std::string_view text, const std::string& source_name);

}  // namespace corral::sasl
