#include "ensemble/auth/kerberos_name.h"

namespace corral::auth {

std::optional<KerberosName> parse_kerberos_name(std::string_view name) {
  size_t at = name.find('@');
  if (at == std::string_view::npos) return KerberosName{std::string(name), {}, {}};
  std::string_view principal = name.substr(0, at);
  std::string_view realm = name.substr(at + 1);
  size_t slash = principal.find('/');
  std::string_view service = principal.substr(0, slash);
  bool malformed = realm.find_first_of("/@") != std::string_view::npos ||
                   (slash != std::string_view::npos &&
                    principal.substr(slash + 1).find('/') != std::string_view::npos);
  if (malformed) return std::nullopt;
  KerberosName out{std::string(service), {}, std::string(realm)};
  if (slash != std::string_view::npos) out.host = std::string(principal.substr(slash + 1));
  return out;
}

std::optional<std::string> sasl_authorization_id(std::string_view authentication_id,
                                                 bool remove_host, bool remove_realm) {
  std::optional<KerberosName> name = parse_kerberos_name(authentication_id);
  if (!name) return std::nullopt;
  std::string id = name->service;
  if (name->host && !remove_host) id += "/" + *name->host;
  if (name->realm && !remove_realm) id += "@" + *name->realm;
  return id;
}

}  // namespace corral::auth
