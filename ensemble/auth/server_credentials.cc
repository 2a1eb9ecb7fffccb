#include "ensemble/auth/server_credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace corral::auth {

sasl::JaasConfig read_jaas_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw sasl::JaasError(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  return sasl::parse_jaas(text.str(), path);
}

SaslUsers load_server_users(const std::string& path, const std::string& section, bool required) {
  sasl::JaasConfig config = read_jaas_file(path);
  const sasl::JaasSection* found = config.section(section);
  if (!found && !required) return {};
  if (!found) throw sasl::JaasError(path + ": no '" + section + "' section (the server's login)");
  constexpr std::string_view kPrefix = "user_";
  SaslUsers users;
  for (const auto& module : found->modules)
    for (const auto& [key, value] : module.options)
      if (key.starts_with(kPrefix)) users[key.substr(kPrefix.size())] = value;
  return users;
}

}  // namespace corral::auth
