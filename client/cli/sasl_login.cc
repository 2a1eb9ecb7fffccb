#include "client/cli/sasl_login.h"

#include <fstream>
#include <sstream>

#include "wire/sasl/jaas_config.h"

namespace corral::cli {

SaslLogin sasl_from_argument(const std::string& user_password) {
  size_t colon = user_password.find(':');
  if (colon == std::string::npos || colon == 0) return std::string("--sasl needs USER:PASSWORD");
  return client::SaslCredentials{user_password.substr(0, colon), user_password.substr(colon + 1)};
}

SaslLogin sasl_from_jaas_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return path + ": cannot read";
  std::ostringstream text;
  text << file.rdbuf();
  try {
    sasl::JaasConfig config = sasl::parse_jaas(text.str(), path);
    const sasl::JaasSection* section = config.section("Client");
    if (!section) return path + ": no 'Client' section";
    if (auto account = section->account())
      return client::SaslCredentials{account->username, account->password};
    return path + ": the 'Client' section has no module with username and password";
  } catch (const sasl::JaasError& e) {
    return std::string(e.what());
  }
}

}  // namespace corral::cli
