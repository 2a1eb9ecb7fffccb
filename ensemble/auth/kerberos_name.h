// Principal names as ZooKeeper's KerberosName reads them: `service[/host]@REALM`, or a plain
// name. They decide which ids the `sasl` ACL scheme accepts and how a SASL login's
// authorization id is spelled.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corral::auth {

/// The parts of a principal name.
struct KerberosName {
  std::string service;               ///< "bob" in "bob/host@REALM"; the whole of a plain name
  std::optional<std::string> host;   ///< "host" in "bob/host@REALM"
  std::optional<std::string> realm;  ///< "REALM" in "bob@REALM"
};

/// Splits `name`. A name with '@' must be `service[/host]@realm` with no further '/' or '@';
/// a name without '@' is a plain name whatever it holds. Nothing for a malformed name.
std::optional<KerberosName> parse_kerberos_name(std::string_view name);

/// How ZooKeeper's SaslServerCallbackHandler spells the authorization id of an authenticated
/// user: the short name, then "/host" unless `remove_host`, then "@realm" unless
/// `remove_realm` (zookeeper.kerberos.removeHostFromPrincipal / removeRealmFromPrincipal).
/// Nothing for a malformed name.
std::optional<std::string> sasl_authorization_id(std::string_view authentication_id,
                                                 bool remove_host, bool remove_realm);

}  // namespace corral::auth
